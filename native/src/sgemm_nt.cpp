// lb_sgemm_nt: checks its arguments and runs the dispatched float32 GEMM.
#include "kernels.h"

extern "C" lb_status lb_sgemm_nt(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                 const float *B, size_t ldb, float *Y, size_t ldy) {
  if (lda < K || ldb < K || ldy < N) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && (!A || !B))) return LB_ERR_INVALID_ARGUMENT;
  lb_active()->sgemm_nt(M, N, K, A, lda, B, ldb, Y, ldy);
  return LB_OK;
}
