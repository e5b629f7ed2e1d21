// Scalar reference of the raw 8-bit GEMM family (kernels.h): uint8 A x int8 B. Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../kernels.h"

void gemm_u8s8_ref(size_t M, size_t N, size_t K, const void *Av, const int8_t *B, int32_t *C,
                   size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      uint32_t acc = 0;
      for (size_t k = 0; k < K; ++k) acc += (uint32_t)((int)A[m * K + k] * (int)B[n * K + k]);
      C[m * ldc + n] = (int32_t)acc;
    }
}

const lb_gemm_i8_kernel gemm_i8_ref = {gemm_u8s8_ref, false, 1, 1, nullptr, nullptr, nullptr, false, nullptr, 0, nullptr, nullptr};
