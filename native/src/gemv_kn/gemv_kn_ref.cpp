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

namespace {

// B'[k, n] (kn) or B'[n, k] (nk) as vpdpbusd reads it: the other signedness than a's.
template <bool kKN>
void gemv_u8(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
             size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  auto b_at = [&](size_t k, size_t n) {
    const uint8_t v = (uint8_t)(B[kKN ? k * ldb + n : n * ldb + k] ^ flip);
    return a_u8 ? (int)(int8_t)v : (int)v;
  };
  for (size_t n = 0; n < N; ++n) {
    for (size_t m = 0; m < M; ++m) {
      uint32_t acc = 0;
      for (size_t k = 0; k < K; ++k) {
        const int x = a_u8 ? (int)a[m * lda + k] : (int)(int8_t)a[m * lda + k];
        acc += (uint32_t)(x * b_at(k, n));
      }
      P[m * ldp + n] = (int32_t)acc;
    }
    if (S) {
      uint32_t s = 0;
      for (size_t k = 0; k < K; ++k) s += (uint32_t)b_at(k, n);
      S[n] = (int32_t)s;
    }
  }
}

}  // namespace

const lb_gemv_u8_kernels gemv_u8_ref = {gemv_u8<true>, gemv_u8<false>, nullptr, 0, 1, 1};
