/**
 * Calibration: the clipping range lowbit quantizes a group of values to (SPEC §3).
 *   minmax      the full range;
 *   percentile  clip at the p-th percentile of |x| (symmetric) or the (100-p)-th / p-th
 *               percentiles of x (asymmetric);
 *   mse         search the clipping range that minimises the reconstruction MSE.
 */
import { quantizeValue, roundHalfEven } from './fallback/quantize';
import { INF, abs, ceil, fround, max, min } from './math';

export type Calibration = 'minmax' | 'percentile' | 'mse';

/** The integer grid a group is quantized onto: [qmin, qmax], and whether it is symmetric. */
export interface Grid {
  qmin: number;
  qmax: number;
  symmetric: boolean;
  /** The symmetric scheme's fixed zero point (0, or 2^(bits-1) for unsigned dtypes). */
  zeroPoint: number;
}

/**
 * How a chosen scale becomes the stored one (e.g. rounded to binary16 for scaleDtype 'float16'):
 * called with a finite float32 scale > 0, it returns a finite value > 0 or throws. The zero
 * point is then derived from the value it returns, so the pair stays consistent.
 */
export type ScaleRounding = (scale: number) => number;

/**
 * Scale and zero point for the range [lo, hi] (lo <= 0 <= hi) on a grid, in float32; the scale
 * goes through `roundScale` (when given) before the zero point is computed from it. The
 * fallback scale 1 (empty or degenerate range) is left as it is: every rounding keeps 1.
 */
export function paramsFor(lo: number, hi: number, g: Grid, roundScale: ScaleRounding | null = null): { scale: number; zeroPoint: number } {
  if (g.symmetric) {
    const amax = max(-lo, hi);
    const scale = fround(amax / (g.qmax - g.zeroPoint));
    return { scale: scale > 0 && scale < INF ? (roundScale ? roundScale(scale) : scale) : 1, zeroPoint: g.zeroPoint };
  }
  const chosen = fround(fround(hi - lo) / (g.qmax - g.qmin));
  if (!(chosen > 0 && chosen < INF)) return { scale: 1, zeroPoint: clamp(roundHalfEven(g.qmin - lo), g.qmin, g.qmax) };
  const scale = roundScale ? roundScale(chosen) : chosen;
  return { scale, zeroPoint: clamp(roundHalfEven(fround(g.qmin - fround(lo / scale))), g.qmin, g.qmax) };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The k-th smallest value (0-based) of `a`, reordering `a` (quickselect, O(n) expected). */
export function select(a: Float32Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) { const t = a[i]!; a[i] = a[j]!; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** The p-th percentile (0..100) of `values` by the nearest-rank method; `values` is reordered. */
function percentileOf(values: Float32Array, p: number): number {
  if (values.length === 0) return 0;
  const k = min(values.length - 1, max(0, ceil((p / 100) * values.length) - 1));
  return select(values, k);
}

/** Reconstruction squared error of quantizing `x` with (scale, zeroPoint) onto the grid. */
function reconstructionError(x: Float32Array, scale: number, zeroPoint: number, g: Grid): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const q = quantizeValue(x[i]!, scale, zeroPoint, g.qmin, g.qmax);
    const d = x[i]! - fround((q - zeroPoint) * scale);
    e += d * d;
  }
  return e;
}

const MSE_STEPS = 40; // clipping ratios tried by 'mse': 1, 0.98, ..., 0.22 of the full range

/**
 * Scale and zero point for one group of finite values. `roundScale` is applied to every
 * candidate scale (so 'mse' also measures the error of the scales that will be stored).
 */
export function calibrate(x: Float32Array, g: Grid, method: Calibration, percentile: number, roundScale: ScaleRounding | null = null): { scale: number; zeroPoint: number } {
  let lo = 0, hi = 0; // ranges always include 0 (SPEC §3)
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < lo) lo = x[i]!;
    if (x[i]! > hi) hi = x[i]!;
  }
  if (method === 'percentile') {
    if (g.symmetric) {
      const magnitudes = x.map(abs);
      const a = percentileOf(magnitudes, percentile);
      lo = -a; hi = a;
    } else {
      const copy = x.slice();
      lo = min(0, percentileOf(copy, 100 - percentile));
      hi = max(0, percentileOf(copy, percentile));
    }
  } else if (method === 'mse') {
    let best = paramsFor(lo, hi, g, roundScale), bestErr = reconstructionError(x, best.scale, best.zeroPoint, g);
    for (let s = 1; s < MSE_STEPS; s++) {
      const ratio = 1 - s * 0.02;
      const p = paramsFor(fround(lo * ratio), fround(hi * ratio), g, roundScale);
      const err = reconstructionError(x, p.scale, p.zeroPoint, g);
      if (err < bestErr) { best = p; bestErr = err; }
    }
    return best;
  }
  return paramsFor(lo, hi, g, roundScale);
}
