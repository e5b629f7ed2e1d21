/**
 * An independent reference for the integer product: BigInt sums, reduced modulo 2^32 at the
 * end (BigInt.asIntN), so it shares no code or arithmetic trick with lowbit's kernels.
 */
export function matmulIntegerBigInt(
  a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number,
  za: ArrayLike<number> | null, zb: ArrayLike<number> | null,
): Int32Array {
  const out = new Int32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      const zam = za ? BigInt(za[za.length === 1 ? 0 : m]!) : 0n;
      const zbn = zb ? BigInt(zb[zb.length === 1 ? 0 : n]!) : 0n;
      let acc = 0n;
      for (let k = 0; k < K; k++) acc += (BigInt(a[m * K + k]!) - zam) * (BigInt(b[k * N + n]!) - zbn);
      out[m * N + n] = Number(BigInt.asIntN(32, acc));
    }
  return out;
}
