/** errorStats: how far an approximation is from a reference, in the usual measures. */
import { rangeError, typeError } from './errors';
import { abs, isNaNNumber, log10, sqrt } from './math';

export interface ErrorStats {
  /** Mean squared error. */
  mse: number;
  rmse: number;
  /** Largest absolute difference. */
  maxAbs: number;
  /** Signal-to-quantization-noise ratio, 10·log10(Σref² / Σ(ref − approx)²); Infinity when exact. */
  sqnrDb: number;
  /** Cosine similarity; NaN when either side is all zeros (or empty). */
  cosine: number;
}

/** Compares `approx` with `ref` element by element, in double precision. */
export function errorStats(ref: ArrayLike<number>, approx: ArrayLike<number>): ErrorStats {
  const FN = 'errorStats';
  const ok = (v: unknown): boolean => Array.isArray(v) || (ArrayBuffer.isView(v) && Object.prototype.toString.call(v) !== '[object DataView]');
  if (!ok(ref)) throw typeError(FN, 'ref', 'an array or typed array of numbers', ref);
  if (!ok(approx)) throw typeError(FN, 'approx', 'an array or typed array of numbers', approx);
  if (ref.length !== approx.length) throw rangeError(FN, `ref has ${ref.length} values but approx has ${approx.length}`);
  let se = 0, maxAbs = 0, rr = 0, aa = 0, ra = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = Number(ref[i]), a = Number(approx[i]), d = r - a;
    se += d * d;
    if (abs(d) > maxAbs || isNaNNumber(d)) maxAbs = abs(d);
    rr += r * r;
    aa += a * a;
    ra += r * a;
  }
  const n = ref.length;
  const mse = n ? se / n : 0;
  return {
    mse,
    rmse: sqrt(mse),
    maxAbs,
    sqnrDb: se === 0 ? Infinity : 10 * log10(rr / se),
    cosine: rr > 0 && aa > 0 ? ra / sqrt(rr * aa) : NaN,
  };
}
