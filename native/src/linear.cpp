// lb_linear_f32: a quantized linear layer, float in and float out (SPEC §4). Activations are
// quantized per row (symmetric, scale = absmax / qmax) while the GEMM engine packs them, so
// no quantized copy of X is written; the product is exact in int32, and the float epilogue
// runs in one fixed order (-ffp-contract=off: no fused multiply-add), so the result is the
// same on every ISA, every thread count and the TS fallback.
#include <math.h>

#include <atomic>

#include "gemm_driver.h"

namespace {

bool count_ok(size_t count, size_t n) { return count == 1 || count == n; }

}  // namespace

extern "C" lb_status lb_linear_f32(size_t M, const float *X, size_t ldx, const lb_packed_weights *W,
                                   const float *w_scale, size_t w_scale_count, const void *w_zp,
                                   size_t w_zp_count, const float *bias, int activation_bits,
                                   float *Y, size_t ldy) {
  if (!W || (activation_bits != 8 && activation_bits != 7) || !w_scale) return LB_ERR_INVALID_ARGUMENT;
  const size_t N = W->N, K = W->K;
  if (ldx < K || ldy < N || !count_ok(w_scale_count, N) || (w_zp && !count_ok(w_zp_count, N)))
    return LB_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < w_scale_count; ++i)
    if (!(w_scale[i] > 0.0f && w_scale[i] <= 3.4028235e38f)) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && !X)) return LB_ERR_INVALID_ARGUMENT;

  lb_scratch scale_buf(4, M * sizeof(float));
  float *a_scale = (float *)scale_buf.get();
  if (!a_scale) return LB_ERR_OUT_OF_MEMORY;

  // Each row's scale right before its quantization, while the row is in L1: an infinite value
  // flags the call, which then fails after packing, before anything is written to Y.
  const int32_t qmax = activation_bits == 8 ? 127 : 63;
  const lb_quant_kernels &qk = *lb_active()->quant;
  const lb_epilogue_kernels &ek = *lb_active()->epilogue;
  std::atomic<bool> infinite{false};
  const lb_gemm_plan plan = lb_gemm_choose(*W, activation_bits);
  // A kernel that takes uint8 gets q + 128 (q + 64 for 7-bit kernels): quantizing with that
  // zero point and a shifted clamp gives exactly the shifted values.
  const int32_t shift = plan.a_shift;
  auto pack_a = [&](size_t m, uint8_t *dst) {
    const float *x = X + m * ldx;
    float mn = 0.0f, mx = 0.0f;
    if (K) qk.minmax(K, x, &mn, &mx);
    if (mn == -INFINITY || mx == INFINITY) infinite.store(true, std::memory_order_relaxed);
    if (mn > mx) mn = mx = 0.0f;  // only NaN in the row
    const float amax = -mn > mx ? -mn : mx;
    const float sc = amax / (float)qmax;
    a_scale[m] = sc > 0.0f ? sc : 1.0f;  // an all-zero row, or a scale below float32's range
    qk.quantize(K, x, a_scale[m], shift, shift - qmax, shift + qmax, dst);
    return ek.byte_sum(K, dst, plan.a_signed);
  };
  // acc = (A' + alpha - 0)(B' + beta - zb)^T expanded as in matmul_integer.cpp, modulo 2^32,
  // with alpha = -shift, then the fixed-order float epilogue (kernels.h, to_f32). Without
  // weight zero points (zb' = 0 for every column) a row of the block is one call; else
  // 64-column strips share their zb'.
  const uint32_t za = (uint32_t)shift, ka = (uint32_t)K * za;
  const bool per_col_scale = w_scale_count != 1, has_zb = w_zp || W->beta;
  auto epilogue = [&](size_t m0, size_t mc, size_t n0, size_t nc, const int32_t *C, size_t ldc,
                      const uint32_t *row_sum) {
    uint32_t zb[64];
    const size_t strip = has_zb ? 64 : nc;
    for (size_t j0 = 0; j0 < nc; j0 += strip) {
      const size_t jn = nc - j0 < strip ? nc - j0 : strip, n1 = n0 + j0;
      for (size_t j = 0; has_zb && j < jn; ++j) {
        int32_t zp = 0;
        if (w_zp) {
          const size_t zi = w_zp_count == 1 ? 0 : n1 + j;
          zp = W->type == LB_INT8 ? ((const int8_t *)w_zp)[zi] : ((const uint8_t *)w_zp)[zi];
        }
        zb[j] = (uint32_t)(zp - W->beta);
      }
      for (size_t i = 0; i < mc; ++i) {
        const size_t m = m0 + i;
        ek.to_f32(jn, C + i * ldc + j0, has_zb ? zb : nullptr, ka - row_sum[i], za,
                  W->col_sum + n1, a_scale[m], per_col_scale ? w_scale + n1 : w_scale,
                  per_col_scale, bias ? bias + n1 : nullptr, Y + m * ldy + n1);
      }
    }
  };
  return lb_gemm_run(M, *W, plan, pack_a, epilogue, &infinite);
}
