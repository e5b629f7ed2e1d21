/** The dtype table: one `as const` object from which the types and the runtime checks derive. */
export const DTYPES = {
  int8: { bits: 8, min: -128, max: 127, signed: true },
  uint8: { bits: 8, min: 0, max: 255, signed: false },
} as const;

export type IntDType = keyof typeof DTYPES;

/** The typed-array class that holds each 8-bit dtype. */
export type Int8Like = Int8Array | Uint8Array;

/** dtype of an 8-bit typed array, or undefined for any other value. */
export function dtypeOf8(x: unknown): IntDType | undefined {
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Uint8Array && !(x instanceof Uint8ClampedArray)) return 'uint8';
  return undefined;
}
