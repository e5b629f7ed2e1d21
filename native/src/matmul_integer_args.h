// Argument checks shared by lb_matmul_integer and its reference.
#pragma once
#include "lowbit.h"

inline bool lb_is_8bit_dtype(lb_dtype t) { return t == LB_INT8 || t == LB_UINT8; }

inline lb_status lb_check_matmul_integer_args(size_t M, size_t N, size_t K, const void *A,
                                              lb_dtype a_type, size_t lda, const void *B,
                                              lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                              const void *a_zp, size_t a_zp_count,
                                              const void *b_zp, size_t b_zp_count, int32_t *Y,
                                              size_t ldy) {
  if (!lb_is_8bit_dtype(a_type) || !lb_is_8bit_dtype(b_type)) return LB_ERR_INVALID_ARGUMENT;
  if (b_layout != LB_LAYOUT_KN && b_layout != LB_LAYOUT_NK) return LB_ERR_INVALID_ARGUMENT;
  if (lda < K || ldy < N || ldb < (b_layout == LB_LAYOUT_KN ? N : K)) return LB_ERR_INVALID_ARGUMENT;
  if (a_zp && a_zp_count != 1 && a_zp_count != M) return LB_ERR_INVALID_ARGUMENT;
  if (b_zp && b_zp_count != 1 && b_zp_count != N) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && (!A || !B))) return LB_ERR_INVALID_ARGUMENT;
  return LB_OK;
}
