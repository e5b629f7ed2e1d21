/**
 * TS fallback of the integer matrix product (ONNX MatMulInteger), written as reference code.
 * Same contract as the addon's matmulInteger: Y[m,n] = sum_k (A[m,k] - za) * (B[k,n] - zb),
 * the exact sum modulo 2^32 as int32. Each product is at most 255 * 255 in magnitude, exact in
 * a double; `| 0` after each add wraps the running sum to int32, which is addition modulo 2^32.
 */
export function matmulIntegerTs(
  a: Int8Array | Uint8Array, b: Int8Array | Uint8Array, bLayoutNK: boolean,
  M: number, N: number, K: number,
  aZeroPoint: Int8Array | Uint8Array | null, bZeroPoint: Int8Array | Uint8Array | null,
  out: Int32Array, _threads = 1,  // the addon's signature; the fallback runs on the calling thread
): void {
  const bStrideK = bLayoutNK ? 1 : N;
  const bStrideN = bLayoutNK ? K : 1;
  for (let m = 0; m < M; m++) {
    const za = aZeroPoint ? aZeroPoint[aZeroPoint.length === 1 ? 0 : m]! : 0;
    for (let n = 0; n < N; n++) {
      const zb = bZeroPoint ? bZeroPoint[bZeroPoint.length === 1 ? 0 : n]! : 0;
      let acc = 0;
      for (let k = 0; k < K; k++) acc = (acc + (a[m * K + k]! - za) * (b[k * bStrideK + n * bStrideN]! - zb)) | 0;
      out[m * N + n] = acc;
    }
  }
}
