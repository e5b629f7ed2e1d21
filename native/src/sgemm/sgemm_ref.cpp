// Scalar reference of the float32 GEMM family: Y = A * B^T, sums in k order. Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../kernels.h"

void sgemm_nt_ref(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                  size_t ldb, float *Y, size_t ldy) {
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (size_t k = 0; k < K; ++k) acc += A[m * lda + k] * B[n * ldb + k];
      Y[m * ldy + n] = acc;
    }
}
