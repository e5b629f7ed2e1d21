// Grouped GEMM, AdvSIMD dot product (kernels.h, lb_ggemm_args), for 4- and 2-bit weights:
// panels of 4 columns (16 bytes a chunk: column j's four k in lane j). The weights are stored
// unsigned (0 .. 15), so they are valid int8 too, and sdot multiplies them by a broadcast of
// four activation bytes: each lane adds four exact products (|u a| <= 15 * 128). 8-bit weights
// (up to 255) are not int8: sdot takes u - 128 (an XOR of the top bit) and the accumulators
// start at 128 * a_sum, which gives back sum(a u) exactly (wrapping). The combine is the AVX
// kernels'.
#pragma GCC target("arch=armv8.2-a+dotprod")
#include <string.h>

#include "ggemm_neon_common.h"

namespace {

// R rows x C panels: R x C int32 and R x C float accumulators (24 of the 32 registers at 4 x 3).
template <int BITS, int R, int C>
void tile(const lb_ggemm_args &a, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 16;
  const uint8x16_t mask = vdupq_n_u8((uint8_t)((1 << BITS) - 1));
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  float32x4_t y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] = vdupq_n_f32(0.0f);
  for (size_t g = 0; g < a.groups; ++g) {
    int32x4_t acc[R][C];  // uniform zero points: start at -zp * a_sum (see ggemm_avx512vnni.cpp)
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const uint32_t as = (uint32_t)a.a_sum[(m + i) * a.groups + g];
      const int32x4_t start = vdupq_n_s32((int32_t)((BITS == 8 ? 128u * as : 0u) -
                                                    (a.zp_uniform ? (uint32_t)a.w_zp[0] * as : 0u)));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = start;
    }
    const uint8_t *Bg = B + g * chunks * 16;
    const int8_t *Ag = A + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      uint8x16_t x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) x[j] = vld1q_u8(Bg + j * panel + c * 16);
      LB_UNROLL for (int t = 0; t < kPer; ++t) {
        int8x16_t b[C];
        LB_UNROLL for (int j = 0; j < C; ++j) b[j] = vreinterpretq_s8_u8(
            BITS == 8 ? veorq_u8(x[j], vdupq_n_u8(0x80)) : lb_neon_field<BITS>(x[j], t, mask));
        LB_UNROLL for (int i = 0; i < R; ++i) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
          const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(a4));
          LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = vdotq_s32(acc[i][j], b[j], av);
        }
      }
    }
    lb_neon_group_end<R, C>(a, m, p, g, acc, a.zp_uniform, y);
  }
  lb_neon_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

template <int BITS>
void ggemm(const lb_ggemm_args &a) {
  auto run = [&](auto r, auto c, size_t m, size_t p) { tile<BITS, r.value, c.value>(a, m, p); };
  const size_t panels = a.N / 4;
  if (a.M <= 2)
    lb_for_each_tile<2, 6>(a.M, panels, run);
  else
    lb_for_each_tile<4, 3>(a.M, panels, run);
}

}  // namespace

void ggemm_u8s8_neon_dotprod(const lb_ggemm_args &a) { ggemm<8>(a); }
void ggemm_u4s8_neon_dotprod(const lb_ggemm_args &a) { ggemm<4>(a); }
void ggemm_u2s8_neon_dotprod(const lb_ggemm_args &a) { ggemm<2>(a); }
