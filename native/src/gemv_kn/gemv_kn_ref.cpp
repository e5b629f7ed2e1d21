// Scalar references of the small-M products on K x N and N x K weights (kernels.h, gemv_kn).
// Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../kernels.h"

void gemv_kn_ref(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                 bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy) {
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      uint32_t acc = 0;
      for (size_t k = 0; k < K; ++k) {
        const int b = b_signed ? (int)(int8_t)B[k * ldb + n] : (int)B[k * ldb + n];
        acc += (uint32_t)((int32_t)a[m * K + k] * (b - (zb ? zb[n] : 0)));
      }
      Y[m * ldy + n] = (int32_t)acc;
    }
}

void gemv_nk_ref(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                 bool b_signed, const int16_t *zb, const uint32_t *, int32_t *Y, size_t ldy) {
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      uint32_t acc = 0;
      for (size_t k = 0; k < K; ++k) {
        const int b = b_signed ? (int)(int8_t)B[n * ldb + k] : (int)B[n * ldb + k];
        acc += (uint32_t)((int32_t)a[m * K + k] * (b - (zb ? zb[n] : 0)));
      }
      Y[m * ldy + n] = (int32_t)acc;
    }
}
