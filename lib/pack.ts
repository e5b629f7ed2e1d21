/**
 * Sub-byte packing, ONNX convention: element i goes to byte floor(i / perByte), the lowest index
 * in the lowest bits (int4: element 2j in bits 0-3, 2j+1 in bits 4-7); an odd tail is padded
 * with zero bits.
 */
import { DTYPES, isTyped, type IntDType } from './dtype';
import { describe, rangeError, typeError } from './errors';
import { packBits, unpackBits } from './fallback/quantize';

type SubByte = Exclude<IntDType, 'int8' | 'uint8'>;

function pack(fn: string, dtype: SubByte, values: ArrayLike<number>): Uint8Array {
  if (!(Array.isArray(values) || ArrayBuffer.isView(values)) || Object.prototype.toString.call(values) === '[object DataView]')
    throw typeError(fn, 'values', 'an array or typed array of integers', values);
  const { min, max } = DTYPES[dtype];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw rangeError(fn, `values[${i}] must be an integer in the ${dtype} range [${min}, ${max}], got ${describe(v)}`);
  }
  return packBits(values, dtype, values.length);
}

function unpack(fn: string, dtype: SubByte, bytes: Uint8Array, count: number): Int32Array {
  if (!isTyped(bytes, 'Uint8Array')) throw typeError(fn, 'bytes', 'a Uint8Array', bytes);
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
    throw rangeError(fn, `count must be a non-negative integer, got ${describe(count)}`);
  const need = Math.ceil((count * DTYPES[dtype].bits) / 8);
  if (bytes.length < need) throw rangeError(fn, `bytes has ${bytes.length} bytes but ${count} ${dtype} values take ${need}`);
  return unpackBits(bytes, dtype, count, count);
}

/** Packs int4 values in [-8, 7], two per byte. */
export const packInt4 = (values: ArrayLike<number>): Uint8Array => pack('packInt4', 'int4', values);
/** Unpacks `count` int4 values. */
export const unpackInt4 = (bytes: Uint8Array, count: number): Int8Array => Int8Array.from(unpack('unpackInt4', 'int4', bytes, count));
/** Packs uint4 values in [0, 15], two per byte. */
export const packUint4 = (values: ArrayLike<number>): Uint8Array => pack('packUint4', 'uint4', values);
/** Unpacks `count` uint4 values. */
export const unpackUint4 = (bytes: Uint8Array, count: number): Uint8Array => Uint8Array.from(unpack('unpackUint4', 'uint4', bytes, count));
/** Packs int2 values in [-2, 1], four per byte. */
export const packInt2 = (values: ArrayLike<number>): Uint8Array => pack('packInt2', 'int2', values);
/** Unpacks `count` int2 values. */
export const unpackInt2 = (bytes: Uint8Array, count: number): Int8Array => Int8Array.from(unpack('unpackInt2', 'int2', bytes, count));
/** Packs uint2 values in [0, 3], four per byte. */
export const packUint2 = (values: ArrayLike<number>): Uint8Array => pack('packUint2', 'uint2', values);
/** Unpacks `count` uint2 values. */
export const unpackUint2 = (bytes: Uint8Array, count: number): Uint8Array => Uint8Array.from(unpack('unpackUint2', 'uint2', bytes, count));
