/**
 * TS fallback of the blocked low-bit linear layer (SPEC §4), written as reference code.
 * Weights [N, K] are unpacked once into one integer per weight with one scale (and zero point)
 * per group of G along K; per tensor and per channel are the case G = K.
 *   compute 'int8':    per group, an exact integer sum, then y += float(acc_g) * (aScale * wScale)
 *                      in float32, groups in order, bias last: bit-identical to the native kernels;
 *   compute 'float32': each weight dequantized exactly as dequantize() gives it, the dot product
 *                      summed in float64 and rounded to float32 once (weight-only; nf4's only mode).
 */
import type { QTensor } from '../qtensor';
import { rangeError } from '../errors';
import { ceil, floor, fround, min } from '../math';
import { nf4Value } from './nf4';
import { unpackBits } from './quantize';

/** Weights of shape [N, K] unpacked for the TS backend: one integer per weight, one scale (and zero point) per group of G along K. */
export interface GroupedWeightsTs {
  dtype: 'int8' | 'uint8' | 'int4' | 'uint4' | 'int2' | 'uint2' | 'nf4';
  N: number; K: number;
  G: number;                 // group size along K; K (or 1 when K = 0) for per-tensor / per-channel
  groups: number;            // ceil(K / G) (0 when K = 0)
  q: Int8Array | Uint8Array; // N*K values, q[n*K + k] (unpacked; nf4: code indices 0..15)
  scale: Float32Array;       // N*groups, scale[n*groups + g] (per tensor: the one scale repeated)
  zeroPoint: Int32Array | null; // N*groups or null (all 0); never for nf4
}

const FN_GROUPED = 'groupedWeightsFromQTensor';

/**
 * Unpacks a QTensor of shape [N, K] (already validated with checkQTensor): int8 / uint8 per
 * tensor, per channel (axis 0) or blocked along axis 1; int4 / uint4 / int2 / uint2 / nf4 per
 * channel or blocked along axis 1. Anything else is a RangeError naming `w`. Copies everything:
 * the result holds no reference to the caller's buffers.
 */
export function groupedWeightsFromQTensor(w: QTensor): GroupedWeightsTs {
  if (w.shape.length !== 2) throw rangeError(FN_GROUPED, `w must have shape [N, K], got [${w.shape.join(', ')}]`);
  const [N, K] = w.shape as [number, number];
  const bytewise = w.dtype === 'int8' || w.dtype === 'uint8';
  // The same defaults as quantize's plan(): a blockSize without an axis blocks the last axis.
  const axis = w.axis === undefined ? (w.blockSize === undefined ? undefined : 1) : w.axis < 0 ? w.axis + 2 : w.axis;
  let G: number, blocked: boolean;
  if (w.blockSize !== undefined) {
    if (axis !== 1) throw rangeError(FN_GROUPED, `w is ${w.dtype} blocked along axis ${axis}; matmul takes blocks along K (axis 1) only`);
    G = w.blockSize; blocked = true;
  } else if (axis === 0 || (axis === undefined && bytewise)) {
    G = K === 0 ? 1 : K; blocked = false;
  } else {
    throw rangeError(FN_GROUPED, axis === undefined
      ? `w is ${w.dtype} per tensor; sub-byte weights must be per channel (axis 0) or blocked along K (axis 1)`
      : `w is ${w.dtype} per axis 1 without blocks (one scale per input column); matmul takes per channel (axis 0) or blocks along K (axis 1)`);
  }
  const groups = ceil(K / G);
  const perTensor = axis === undefined;

  // Integer values: 8-bit data as is; sub-byte data packed per row when blocked along the last
  // axis, else as one stream over the whole tensor (SPEC §2), so a row may start mid-byte.
  let q: Int8Array | Uint8Array;
  if (bytewise) q = w.data.slice();
  else {
    const packed = w.dtype === 'nf4' ? 'uint4' : w.dtype;
    const values = unpackBits(w.data as Uint8Array, packed, blocked ? K : N * K, N * K);
    q = packed === 'int4' || packed === 'int2' ? Int8Array.from(values) : Uint8Array.from(values);
  }

  // Scale (and zero point) of group g of row n: per tensor the one value, per channel w.scale[n],
  // blocked w.scale[n * groups + g], which is already this layout.
  const at = (n: number, g: number): number => (perTensor ? 0 : blocked ? n * groups + g : n);
  const scale = new Float32Array(N * groups);
  const zeroPoint = w.zeroPoint && w.dtype !== 'nf4' ? new Int32Array(N * groups) : null;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < groups; g++) {
      scale[n * groups + g] = w.scale[at(n, g)]!;
      if (zeroPoint) zeroPoint[n * groups + g] = w.zeroPoint![at(n, g)]!;
    }
  return { dtype: w.dtype, N, K, G, groups, q, scale, zeroPoint };
}

/** Shared argument checks (internal callers validate; these only keep a bad call from writing garbage). */
function checkCall(fn: string, aLength: number, M: number, w: GroupedWeightsTs, bias: Float32Array | null, out: Float32Array): void {
  if (aLength !== M * w.K) throw rangeError(fn, `the activations hold ${aLength} values but M x K = ${M} x ${w.K} needs ${M * w.K}`);
  if (bias && bias.length !== w.N) throw rangeError(fn, `bias has ${bias.length} values but w has N = ${w.N} output channels`);
  if (out.length < M * w.N) throw rangeError(fn, `out holds ${out.length} values but M x N = ${M} x ${w.N} needs ${M * w.N}`);
}

/**
 * compute 'int8' (SPEC §4 blocked): bit-exact. For each m, n, with y starting at 0 and the
 * groups in order: acc_g = Σ_{k in g} (a[m,k] - aZp[m]) * (q[n,k] - zp[n,g]), exact modulo 2^32
 * as int32; y = y + float(acc_g) * (aScale[m] * scale[n,g]), each operation rounded to float32
 * (the scale product first, no fused multiply-add); then y = y + bias[n]. With one group,
 * 0 + t = t, so this is the per-channel epilogue float(acc) * (aScale * wScale) + bias.
 */
export function linearGroupedInt8Ts(aq: Int8Array | Uint8Array, M: number, aZp: Int8Array | Uint8Array | null /* 1 or M values, or null */,
  aScale: Float32Array /* 1 or M values */, w: GroupedWeightsTs, bias: Float32Array | null, out: Float32Array): void {
  const FN = 'linearGroupedInt8Ts';
  if (w.dtype === 'nf4') throw rangeError(FN, "w is nf4, which computes in float32 only (compute 'float32')");
  checkCall(FN, aq.length, M, w, bias, out);
  if (aScale.length !== 1 && aScale.length !== M) throw rangeError(FN, `aScale has ${aScale.length} values; it needs 1 or M = ${M}`);
  if (aZp && aZp.length !== 1 && aZp.length !== M) throw rangeError(FN, `aZp has ${aZp.length} values; it needs 1 or M = ${M}`);
  const { N, K, G, groups, q, scale, zeroPoint } = w;
  for (let m = 0; m < M; m++) {
    const za = aZp ? aZp[aZp.length === 1 ? 0 : m]! : 0;
    const as = aScale[aScale.length === 1 ? 0 : m]!;
    const aRow = m * K;
    for (let n = 0; n < N; n++) {
      const wRow = n * K;
      let y = 0;
      for (let g = 0; g < groups; g++) {
        const zw = zeroPoint ? zeroPoint[n * groups + g]! : 0;
        const k1 = min(K, (g + 1) * G);
        // Each product is at most 255 * 255 in magnitude, exact in a double; `| 0` after each
        // add keeps the running sum in int32 (addition modulo 2^32, order-independent).
        let acc = 0;
        for (let k = g * G; k < k1; k++) acc = (acc + (aq[aRow + k]! - za) * (q[wRow + k]! - zw)) | 0;
        y = fround(y + fround(fround(acc) * fround(as * scale[n * groups + g]!)));
      }
      if (bias) y = fround(y + bias[n]!);
      out[m * N + n] = y;
    }
  }
}

/**
 * compute 'float32' (weight-only): y[m,n] = Σ_k x[m,k] * dequant(w)[n,k] + bias[n], with each
 * weight dequantized exactly as dequantize() gives it (fround((q - zp) * scale); nf4:
 * nf4Value(index, absmax)). Summed in float64, rounded to float32 once: well inside SPEC's
 * |y - y_exact| <= 1e-4 · Σ|x·w|.
 */
export function linearGroupedF32Ts(x: Float32Array, M: number, w: GroupedWeightsTs, bias: Float32Array | null, out: Float32Array): void {
  const FN = 'linearGroupedF32Ts';
  checkCall(FN, x.length, M, w, bias, out);
  const { N, K, G, groups, q, scale, zeroPoint } = w;
  const nf4 = w.dtype === 'nf4';
  const row = new Float32Array(K); // one dequantized weight row, reused for every m
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const g = n * groups + floor(k / G);
      row[k] = nf4 ? nf4Value(q[n * K + k]!, scale[g]!) : fround((q[n * K + k]! - (zeroPoint ? zeroPoint[g]! : 0)) * scale[g]!);
    }
    for (let m = 0; m < M; m++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k]! * row[k]!;
      out[m * N + n] = fround(bias ? s + bias[n]! : s);
    }
  }
}
