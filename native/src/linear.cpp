// lb_linear_f32: a quantized linear layer, float in and float out (SPEC §4). Activations are
// quantized per row with the quant kernels, multiplied exactly by the packed int8 weights, and
// the float epilogue runs in one fixed order (-ffp-contract=off: no fused multiply-add), so the
// result is the same on every ISA and on the TS fallback.
#include <math.h>
#include <string.h>

#include "kernels.h"

namespace {

struct scratch {
  void *p[3] = {nullptr, nullptr, nullptr};
  ~scratch() {
    for (void *q : p) lb_aligned_free(q);
  }
};

bool count_ok(size_t count, size_t n) { return count == 1 || count == n; }

}  // namespace

extern "C" lb_status lb_linear_f32(size_t M, const float *X, size_t ldx, const lb_packed_weights *W,
                                   const float *w_scale, size_t w_scale_count, const void *w_zp,
                                   size_t w_zp_count, const float *bias, int activation_bits,
                                   float *Y, size_t ldy) {
  if (!W || (activation_bits != 8 && activation_bits != 7) || !w_scale) return LB_ERR_INVALID_ARGUMENT;
  const size_t N = lb_packed_rows(W), K = lb_packed_cols(W);
  if (ldx < K || ldy < N || !count_ok(w_scale_count, N) || (w_zp && !count_ok(w_zp_count, N)))
    return LB_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < w_scale_count; ++i)
    if (!(w_scale[i] > 0.0f && w_scale[i] <= 3.4028235e38f)) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && !X)) return LB_ERR_INVALID_ARGUMENT;

  scratch s;
  int8_t *A = (int8_t *)(s.p[0] = lb_aligned_alloc(M * K));
  float *a_scale = (float *)(s.p[1] = lb_aligned_alloc(M * sizeof(float)));
  int32_t *acc = (int32_t *)(s.p[2] = lb_aligned_alloc(M * N * sizeof(int32_t)));
  if (!A || !a_scale || !acc) return LB_ERR_OUT_OF_MEMORY;

  // Per-row symmetric quantization: scale = absmax / qmax over the non-NaN values.
  const int32_t qmax = activation_bits == 8 ? 127 : 63;
  const lb_quant_kernels &k = *lb_active()->quant;
  for (size_t m = 0; m < M; ++m) {
    float mn = 0.0f, mx = 0.0f;
    if (K) k.minmax(K, X + m * ldx, &mn, &mx);
    if (mn == -INFINITY || mx == INFINITY) return LB_ERR_INVALID_ARGUMENT;  // nothing written yet
    if (mn > mx) mn = mx = 0.0f;  // only NaN in the row
    const float amax = -mn > mx ? -mn : mx;
    const float sc = amax / (float)qmax;
    a_scale[m] = sc > 0.0f ? sc : 1.0f;  // an all-zero row, or a scale below float32's range
  }
  for (size_t m = 0; m < M; ++m)
    k.quantize(K, X + m * ldx, a_scale[m], 0, -qmax, qmax, (uint8_t *)A + m * K);

  lb_status st = lb_matmul_integer_packed(M, A, LB_INT8, K, nullptr, 0, W, w_zp, w_zp_count, acc, N);
  if (st != LB_OK) return st;
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < N; ++n) {
      const float ws = w_scale[w_scale_count == 1 ? 0 : n];
      float y = (float)acc[m * N + n] * (a_scale[m] * ws);
      if (bias) y = y + bias[n];
      Y[m * ldy + n] = y;
    }
  return LB_OK;
}
