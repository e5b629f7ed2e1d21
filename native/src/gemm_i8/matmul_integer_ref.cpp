// Scalar reference of lb_matmul_integer: the ONNX definition, written out. Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../matmul_integer_args.h"

namespace {
int load(const void *p, lb_dtype t, size_t i) {
  return t == LB_INT8 ? (int)((const int8_t *)p)[i] : (int)((const uint8_t *)p)[i];
}
}  // namespace

extern "C" lb_status lb_matmul_integer_ref(size_t M, size_t N, size_t K, const void *A,
                                           lb_dtype a_type, size_t lda, const void *B,
                                           lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                           const void *a_zp, size_t a_zp_count, const void *b_zp,
                                           size_t b_zp_count, int32_t *Y, size_t ldy) {
  lb_status st = lb_check_matmul_integer_args(M, N, K, A, a_type, lda, B, b_type, b_layout, ldb,
                                              a_zp, a_zp_count, b_zp, b_zp_count, Y, ldy);
  if (st != LB_OK) return st;
  for (size_t m = 0; m < M; ++m) {
    int za = a_zp ? load(a_zp, a_type, a_zp_count == 1 ? 0 : m) : 0;
    for (size_t n = 0; n < N; ++n) {
      int zb = b_zp ? load(b_zp, b_type, b_zp_count == 1 ? 0 : n) : 0;
      uint32_t acc = 0;  // |product| <= 255 * 255, so only the sum can wrap
      for (size_t k = 0; k < K; ++k) {
        int a = load(A, a_type, m * lda + k);
        int b = load(B, b_type, b_layout == LB_LAYOUT_KN ? k * ldb + n : n * ldb + k);
        acc += (uint32_t)((a - za) * (b - zb));
      }
      Y[m * ldy + n] = (int32_t)acc;
    }
  }
  return LB_OK;
}
