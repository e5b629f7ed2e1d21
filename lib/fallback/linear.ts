/**
 * TS fallback of the quantized linear layer (SPEC §4), the same arithmetic as lb_linear_f32:
 * per-row symmetric activation quantization, exact integer products, and the float32
 * epilogue y = float(acc) * (aScale[m] * wScale[n]) (+ bias[n]), each step rounded to float32.
 */
import { abs, fround, INF } from '../math';
import { matmulIntegerTs } from './matmul_integer';
import { quantizeValue } from './quantize';

/** Per-row scales (absmax / qmax over the non-NaN values; 1 for an all-zero row) and int8 rows. */
export function quantizeRowsTs(x: Float32Array, M: number, K: number, qmax: number): { q: Int8Array; scale: Float32Array } | { badRow: number } {
  const scale = new Float32Array(M), q = new Int8Array(M * K);
  for (let m = 0; m < M; m++) {
    let amax = 0;
    for (let k = 0; k < K; k++) {
      const v = x[m * K + k]!;
      if (v === INF || v === -INF) return { badRow: m };
      if (abs(v) > amax) amax = abs(v);
    }
    const s = fround(amax / qmax);
    scale[m] = s > 0 ? s : 1;
  }
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) q[m * K + k] = quantizeValue(x[m * K + k]!, scale[m]!, 0, -qmax, qmax);
  return { q, scale };
}

/** y[m,n] = float(acc[m,n]) * (aScale[m or 0] * wScale[n or 0]) (+ bias[n]), in float32. */
export function epilogueTs(acc: Int32Array, M: number, N: number, aScale: Float32Array, wScale: Float32Array, bias: Float32Array | null, out: Float32Array): void {
  for (let m = 0; m < M; m++) {
    const as = aScale[aScale.length === 1 ? 0 : m]!;
    for (let n = 0; n < N; n++) {
      let y = fround(fround(acc[m * N + n]!) * fround(as * wScale[wScale.length === 1 ? 0 : n]!));
      if (bias) y = fround(y + bias[n]!);
      out[m * N + n] = y;
    }
  }
}

/** The integer part on N x K weights held as a plain array (the TS backend's "packed" form). */
export function linearAccTs(a: Int8Array | Uint8Array, M: number, K: number, aZp: Int8Array | Uint8Array | null,
  w: Int8Array | Uint8Array, N: number, wZp: Int8Array | Uint8Array | null): Int32Array {
  const acc = new Int32Array(M * N);
  matmulIntegerTs(a, w, true, M, N, K, aZp, wZp, acc);
  return acc;
}
