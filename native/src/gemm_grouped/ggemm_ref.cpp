// Scalar reference of the grouped GEMM family (kernels.h, lb_ggemm_args): one output at a time,
// the formula as written, on panels of 4 columns. Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include "../formats.h"
#include "../kernels.h"

namespace {

constexpr size_t kNR = 4;

template <int BITS>
void ggemm_ref(const lb_ggemm_args &a) {
  constexpr unsigned kPer = 8 / BITS, kMask = (1u << BITS) - 1;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  for (size_t m = 0; m < a.M; ++m)
    for (size_t n = 0; n < a.N; ++n) {
      const size_t p = n / kNR, j = n % kNR;
      float y = 0.0f;
      for (size_t g = 0; g < a.groups; ++g) {
        uint32_t raw = 0;
        for (size_t c = 0; c < chunks; ++c) {
          const uint8_t *chunk = a.B + ((p * a.groups + g) * chunks + c) * kNR * 4;
          for (unsigned t = 0; t < kPer; ++t)
            for (unsigned i = 0; i < 4; ++i) {
              const uint32_t u = (chunk[4 * j + i] >> (t * BITS)) & kMask;
              const int32_t x = a.A[m * lda + g * a.Gp + c * kr + 4 * t + i];
              raw += (uint32_t)x * u;
            }
        }
        const size_t w = (p * a.groups + g) * kNR + j;
        uint32_t acc = raw - (uint32_t)a.w_zp[w] * (uint32_t)a.a_sum[m * a.groups + g];
        if (a.a_zp) acc -= (uint32_t)a.a_zp[m] * (uint32_t)a.w_qsum[w];
        const float ws = a.w_scale16 ? lb_f16_to_f32(a.w_scale16[w]) : a.w_scale[w];
        y = y + (float)(int32_t)acc * (a.a_scale[m] * ws);
      }
      a.Y[m * a.ldy + n] = a.bias ? y + a.bias[n] : y;
    }
}

}  // namespace

void ggemm_u8s8_ref(const lb_ggemm_args &a) { ggemm_ref<8>(a); }
void ggemm_u4s8_ref(const lb_ggemm_args &a) { ggemm_ref<4>(a); }
void ggemm_u2s8_ref(const lb_ggemm_args &a) { ggemm_ref<2>(a); }
