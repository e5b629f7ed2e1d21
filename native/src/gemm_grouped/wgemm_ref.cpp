// Scalar reference of the weight-only family (kernels.h, lb_wgemm_args): one output at a time,
// on panels of 4 columns (the grouped reference kernels' layout). Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../formats.h"
#include "../kernels.h"

namespace {

constexpr size_t kNR = 4;

template <int BITS>
void wgemm_ref(const lb_wgemm_args &a) {
  constexpr unsigned kPer = 8 / BITS, kMask = (1u << BITS) - 1;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  for (size_t m = 0; m < a.M; ++m)
    for (size_t n = 0; n < a.N; ++n) {
      const size_t p = n / kNR, j = n % kNR;
      float y = 0.0f;
      for (size_t g = 0; g < a.groups; ++g) {
        const size_t w = (p * a.groups + g) * kNR + j;
        float s = 0.0f;  // the group's sum, scaled once at its end
        for (size_t c = 0; c < chunks; ++c) {
          const uint8_t *chunk = a.B + ((p * a.groups + g) * chunks + c) * kNR * 4;
          for (unsigned t = 0; t < kPer; ++t)
            for (unsigned i = 0; i < 4; ++i) {
              const int u = (chunk[4 * j + i] >> (t * BITS)) & kMask;
              const float wv = a.codebook ? a.codebook[u] : (float)(u - a.w_zp[w]);
              s = s + a.X[m * lda + g * a.Gp + c * kr + 4 * t + i] * wv;
            }
        }
        y = y + s * (a.w_scale16 ? lb_f16_to_f32(a.w_scale16[w]) : a.w_scale[w]);
      }
      a.Y[m * a.ldy + n] = a.bias ? y + a.bias[n] : y;
    }
}

}  // namespace

void wgemm_u8f32_ref(const lb_wgemm_args &a) { wgemm_ref<8>(a); }
void wgemm_u4f32_ref(const lb_wgemm_args &a) { wgemm_ref<4>(a); }
void wgemm_u2f32_ref(const lb_wgemm_args &a) { wgemm_ref<2>(a); }
