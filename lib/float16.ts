/**
 * IEEE 754 binary16 (half precision) helpers, for scales stored in 2 bytes (SPEC §2,
 * `scaleDtype: 'float16'`). Pure arithmetic on doubles: every step below is exact (scaling by
 * powers of two, floor, subtraction of a floor), so a value is rounded to binary16 once, from
 * its exact value, with no double rounding through float32.
 */
import { describe, rangeError } from './errors';
import { floor, isNaNNumber } from './math';

/** Largest finite binary16 value, 2^15 * (2 - 2^-10). */
export const FLOAT16_MAX = 65504;
/** Smallest positive normal binary16 value. */
export const FLOAT16_MIN_NORMAL = 2 ** -14;
/** Smallest positive subnormal binary16 value (the spacing of all subnormals). */
export const FLOAT16_MIN_SUBNORMAL = 2 ** -24;
/** Halfway between FLOAT16_MAX and 2^16: from here on (ties to even: 65504 is odd) values round to Inf. */
const OVERFLOW = 65520;

/** floor(log2(a)) for a finite a > 0, exactly (Math.log2 may be off by one next to powers of two). */
function exponentOf(a: number): number {
  let e = floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** Round half to even of a finite double (the floor and the difference are exact). */
function roundHalfEvenExact(v: number): number {
  const f = floor(v), d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The binary16 value nearest to x, ties to even, as a number: ±Infinity beyond the range (from
 * ±65520 on), subnormals exact (multiples of 2^-24), the sign of zero kept, NaN for NaN.
 */
export function roundToFloat16(x: number): number {
  if (isNaNNumber(x) || x === 0) return x;
  const a = x < 0 ? -x : x;
  if (a >= OVERFLOW) return x < 0 ? -Infinity : Infinity;
  // The spacing of binary16 values around a: 2^(e-10) for normals, 2^-24 below 2^-14.
  const ulp = a < FLOAT16_MIN_NORMAL ? FLOAT16_MIN_SUBNORMAL : 2 ** (exponentOf(a) - 10);
  const r = roundHalfEvenExact(a / ulp) * ulp;
  // A magnitude that rounds to zero keeps the sign of x (IEEE: -1e-9 rounds to -0).
  return x < 0 ? -r : r;
}

/** Whether x is exactly a binary16 value (±Infinity included, NaN not). */
export function isFloat16Exact(x: number): boolean {
  return roundToFloat16(x) === x;
}

/**
 * The index of the first value of `a` that binary16 cannot hold exactly (as isFloat16Exact
 * says), or -1. Read from the float32 bits: a binary16 value is a float32 whose exponent lies in
 * binary16's range and whose mantissa bits below binary16's precision at that exponent are zero.
 * No arithmetic per value: prepack checks every scale of its weights this way (4096 x 4096 in
 * groups of 32: 524,288 scales, 20 ms through isFloat16Exact).
 */
export function firstNonFloat16(a: Float32Array): number {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!, exp = (b >>> 23) & 0xff, mant = b & 0x7fffff;
    if (exp === 0 || exp === 0xff) {
      if (mant !== 0) return i; // float32 subnormals (below 2^-126) and NaN; ±0 and ±Infinity are exact
      continue;
    }
    const e = exp - 127;
    if (e > 15 || e < -24) return i;
    const low = e >= -14 ? 13 : -1 - e; // normals keep 10 mantissa bits; subnormals are multiples of 2^-24
    if ((mant & ((1 << low) - 1)) !== 0) return i;
  }
  return -1;
}

/**
 * The binary16 bit patterns of values that binary16 holds exactly (firstNonFloat16(a) === -1;
 * anything else gives a wrong pattern), from their float32 bits: how prepack hands a QTensor's
 * float16 scales to the native engine, which keeps them in 2 bytes.
 */
export function float16BitsOfExact(a: Float32Array): Uint16Array {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length), h = new Uint16Array(a.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!, sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff, e = exp - 127;
    if (exp === 0) h[i] = sign;
    else if (exp === 0xff) h[i] = sign | 0x7c00;
    else if (e >= -14) h[i] = sign | ((e + 15) << 10) | ((b & 0x7fffff) >>> 13);
    else h[i] = sign | (((b & 0x7fffff) | 0x800000) >>> (-1 - e)); // subnormal: a multiple of 2^-24
  }
  return h;
}

/** The uint16 bit pattern of roundToFloat16(x); NaN gives the canonical quiet NaN 0x7e00. */
export function float16Bits(x: number): number {
  if (isNaNNumber(x)) return 0x7e00;
  const h = roundToFloat16(x);
  const sign = h < 0 || Object.is(h, -0) ? 0x8000 : 0;
  const a = h < 0 ? -h : h;
  if (a === Infinity) return sign | 0x7c00;
  // Subnormals (and zero): exponent field 0, mantissa a / 2^-24. A value that rounded up to
  // 2^-14 gives mantissa 1024, which is the bit pattern of 2^-14 (exponent field 1) as well.
  if (a < FLOAT16_MIN_NORMAL) return sign | (a / FLOAT16_MIN_SUBNORMAL);
  const e = exponentOf(a);
  return sign | ((e + 15) << 10) | (a / 2 ** (e - 10) - 1024);
}

/** The value of a binary16 bit pattern u (an integer in [0, 65535]). */
export function float16FromBits(u: number): number {
  if (!Number.isInteger(u) || u < 0 || u > 0xffff) throw rangeError('float16FromBits', `u must be an integer in [0, 65535], got ${describe(u)}`);
  const sign = u & 0x8000 ? -1 : 1, e = (u >> 10) & 0x1f, m = u & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * FLOAT16_MIN_SUBNORMAL;
  return sign * (1024 + m) * 2 ** (e - 25);
}
