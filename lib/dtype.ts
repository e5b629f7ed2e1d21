/** The dtype table: one `as const` object from which the types and the runtime checks derive. */
/** `code` is the C ABI's lb_dtype value. */
export const DTYPES = {
  int8: { bits: 8, min: -128, max: 127, signed: true, code: 1 },
  uint8: { bits: 8, min: 0, max: 255, signed: false, code: 2 },
  int4: { bits: 4, min: -8, max: 7, signed: true, code: 3 },
  uint4: { bits: 4, min: 0, max: 15, signed: false, code: 4 },
  int2: { bits: 2, min: -2, max: 1, signed: true, code: 5 },
  uint2: { bits: 2, min: 0, max: 3, signed: false, code: 6 },
} as const;

export type IntDType = keyof typeof DTYPES;

/** The 8-bit dtypes, whose tensors are plain typed arrays (the rest are packed bytes). */
export type ByteDType = 'int8' | 'uint8';

/** The typed-array class that holds each 8-bit dtype. */
export type Int8Like = Int8Array | Uint8Array;

export function isIntDType(d: unknown): d is IntDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

/** Elements per byte in packed storage (ONNX: lowest index in the lowest bits). */
export function perByte(d: IntDType): number {
  return 8 / DTYPES[d].bits;
}

type TypedArrayName = 'Int8Array' | 'Uint8Array' | 'Int32Array' | 'Float32Array';
type TypedArrayOf<N extends TypedArrayName> = N extends 'Int8Array' ? Int8Array : N extends 'Uint8Array' ? Uint8Array : N extends 'Int32Array' ? Int32Array : Float32Array;

/**
 * Whether x is a typed array of that class, from any realm (a vm context, a jest sandbox,
 * structuredClone's output): `instanceof` only sees this realm's classes.
 */
export function isTyped<N extends TypedArrayName>(x: unknown, name: N): x is TypedArrayOf<N> {
  return ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === `[object ${name}]`;
}

/** dtype of an 8-bit typed array (Uint8ClampedArray excluded), or undefined for any other value. */
export function dtypeOf8(x: unknown): ByteDType | undefined {
  if (isTyped(x, 'Int8Array')) return 'int8';
  if (isTyped(x, 'Uint8Array')) return 'uint8';
  return undefined;
}
