/**
 * TS fallback of the quantization family (SPEC §2, §3), written as reference code. Every
 * float32 operation is rounded to float32 with fround right where the native code rounds:
 * a float32 quotient or product computed in double and rounded once is the correctly rounded
 * float32 result (double has more than 2·24 + 2 bits), so this matches IEEE float32 exactly.
 */
import { DTYPES, perByte, type IntDType } from '../dtype';
import { INF, ceil, floor, fround, isNaNNumber } from '../math';

/** Round half to even, for a finite float value (Math.round rounds half up). */
export function roundHalfEven(v: number): number {
  const f = floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** q = saturate(round_half_even(x / scale) + zp); NaN -> zp; ±Inf saturate by sign. */
export function quantizeValue(x: number, scale: number, zp: number, qmin: number, qmax: number): number {
  const v = fround(x / scale);
  if (isNaNNumber(v)) return zp;
  if (v === INF) return qmax;
  if (v === -INF) return qmin;
  const q = roundHalfEven(v) + zp;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** x = (q - zp) * scale in float32, the integer subtraction first. */
export function dequantizeValue(q: number, scale: number, zp: number): number {
  return fround((q - zp) * scale);
}

/**
 * How elements map to their scale: element (o, d, j) of a tensor viewed as outer x D x inner
 * (D the quantization axis) uses scale ((o * blocks + floor(d / block)) * inner + j) when
 * blocked, d per axis, 0 per tensor.
 */
export interface Layout {
  outer: number;
  D: number;
  inner: number;
  kind: 'tensor' | 'axis' | 'block';
  block: number;
}

/** Calls f(elementIndex, scaleIndex) for every element, in order. */
export function forEachElement(l: Layout, f: (i: number, s: number) => void): void {
  const blocks = l.kind === 'block' ? ceil(l.D / l.block) : 1;
  let i = 0;
  for (let o = 0; o < l.outer; o++)
    for (let d = 0; d < l.D; d++) {
      const base = l.kind === 'axis' ? d : l.kind === 'block' ? (o * blocks + floor(d / l.block)) * l.inner : 0;
      for (let j = 0; j < l.inner; j++, i++) f(i, l.kind === 'block' ? base + j : base);
    }
}

export function quantizeLinearTs(x: Float32Array, scale: Float32Array, zp: Int32Array, qmin: number, qmax: number, l: Layout, out: Int32Array): void {
  forEachElement(l, (i, s) => { out[i] = quantizeValue(x[i]!, scale[s]!, zp[s]!, qmin, qmax); });
}

export function dequantizeLinearTs(q: Int32Array, scale: Float32Array, zp: Int32Array, l: Layout, out: Float32Array): void {
  forEachElement(l, (i, s) => { out[i] = dequantizeValue(q[i]!, scale[s]!, zp[s]!); });
}

/**
 * Packs `count` values per row (rows of `rowLength`, each starting on a byte boundary) of a
 * sub-byte dtype: element i of a row goes to byte floor(i / perByte), lowest index in the
 * lowest bits; an odd tail is padded with zero bits.
 */
export function packBits(values: ArrayLike<number>, dtype: IntDType, rowLength: number): Uint8Array {
  const per = perByte(dtype), bits = DTYPES[dtype].bits, mask = (1 << bits) - 1;
  const rows = rowLength === 0 ? 0 : values.length / rowLength, rowBytes = ceil(rowLength / per);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < rowLength; i++)
      out[r * rowBytes + floor(i / per)]! |= (values[r * rowLength + i]! & mask) << ((i % per) * bits);
  return out;
}

/** The inverse of packBits: sign-extends signed dtypes. */
export function unpackBits(bytes: Uint8Array, dtype: IntDType, rowLength: number, count: number): Int32Array {
  const per = perByte(dtype), bits = DTYPES[dtype].bits, mask = (1 << bits) - 1;
  const signBit = DTYPES[dtype].signed ? 1 << (bits - 1) : 0;
  const rowBytes = ceil(rowLength / per);
  const out = new Int32Array(count);
  for (let e = 0; e < count; e++) {
    const r = floor(e / rowLength), i = e % rowLength;
    const v = (bytes[r * rowBytes + floor(i / per)]! >> ((i % per) * bits)) & mask;
    out[e] = signBit && v & signBit ? v - (1 << bits) : v;
  }
  return out;
}

/** ONNX DynamicQuantizeLinear; NaN left out of min / max (the caller rejects ±Inf). */
export function dynamicQuantizeLinearTs(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0, hi = 0; // the range always includes 0
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let scale = fround(fround(hi - lo) / 255);
  let zeroPoint = 0;
  if (scale === 0) scale = 1; // all-zero range, or a range so small the scale underflows
  else {
    const z = roundHalfEven(fround(0 - fround(lo / scale)));
    zeroPoint = z < 0 ? 0 : z > 255 ? 255 : z;
  }
  const y = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = quantizeValue(x[i]!, scale, zeroPoint, 0, 255);
  return { y, scale, zeroPoint };
}
