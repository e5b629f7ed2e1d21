/**
 * NF4 (NormalFloat 4-bit, as bitsandbytes defines it): 16 code values, blockwise absmax
 * scaling. A value x in a block with absmax a is stored as the index of the code value nearest
 * to x / a (ties go to the lower code, as bitsandbytes' comparisons do), two per byte.
 */
import { fround } from '../math';

/** The bitsandbytes NF4 code book, ascending. */
export const NF4_CODE: readonly number[] = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
  0.7229568362236023, 1.0,
].map(fround);

/** Decision thresholds: midpoints between neighbouring code values, in float32. */
const MIDPOINTS: readonly number[] = NF4_CODE.slice(1).map((c, i) => fround((c + NF4_CODE[i]!) / 2));

/** Index of the code value nearest to v (v in [-1, 1]): the count of midpoints below v. */
export function nf4Index(v: number): number {
  let i = 0;
  while (i < 15 && v > MIDPOINTS[i]!) i++;
  return i;
}

/** Decoded value of code index i in a block of absmax a, in float32. */
export function nf4Value(i: number, absmax: number): number {
  return fround(NF4_CODE[i]! * absmax);
}
