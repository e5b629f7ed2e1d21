// Grouped GEMM, plain AdvSIMD (baseline AArch64; kernels.h, lb_ggemm_args), on the 4-column
// panels of the dotprod kernels. 4- and 2-bit weights: without sdot, smull multiplies the
// weights (0 .. 15, valid int8) by a broadcast of four activation bytes into int16 (at most
// 15 * 128: exact) and sadalp adds neighbouring products into int32 lanes, two partial sums per
// column, folded into one per column (addp) at each group's end.
#include <string.h>

#include "ggemm_neon_common.h"

namespace {

// R rows x C panels: 2 R C int32 (columns 0-1 and 2-3, two partial sums each) and R C float
// accumulators.
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
    int32x4_t lo[R][C], hi[R][C];
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) lo[i][j] = hi[i][j] = vdupq_n_s32(0);
    const uint8_t *Bg = B + g * chunks * 16;
    const int8_t *Ag = A + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      uint8x16_t x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) x[j] = vld1q_u8(Bg + j * panel + c * 16);
      LB_UNROLL for (int t = 0; t < kPer; ++t) {
        int8x16_t b[C];
        LB_UNROLL for (int j = 0; j < C; ++j) b[j] = vreinterpretq_s8_u8(lb_neon_field<BITS>(x[j], t, mask));
        LB_UNROLL for (int i = 0; i < R; ++i) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
          const int8x16_t av = vreinterpretq_s8_s32(vdupq_n_s32(a4));
          LB_UNROLL for (int j = 0; j < C; ++j) {
            lo[i][j] = vpadalq_s16(lo[i][j], vmull_s8(vget_low_s8(b[j]), vget_low_s8(av)));
            hi[i][j] = vpadalq_s16(hi[i][j], vmull_high_s8(b[j], av));
          }
        }
      }
    }
    int32x4_t v[R][C];  // columns 0, 1, 2, 3
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) v[i][j] = vpaddq_s32(lo[i][j], hi[i][j]);
    lb_neon_group_end<R, C>(a, m, p, g, v, false, y);
  }
  lb_neon_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

// 8-bit weights (0 .. 255: not int8, so no smull of bytes): widened to int16 (vmovl) and
// multiplied by the widened activations into int32 (vmlal: at most 255 * 128, exact), one
// accumulator per column (its four k in the lanes), reduced by two addp at the group's end.
template <int R, int C>
void tile_u8(const lb_ggemm_args &a, size_t m, size_t p) {
  const size_t chunks = a.Gp / 4, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 16;
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  float32x4_t y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] = vdupq_n_f32(0.0f);
  for (size_t g = 0; g < a.groups; ++g) {
    int32x4_t acc[R][C][4];
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) LB_UNROLL for (int q = 0; q < 4; ++q)
        acc[i][j][q] = vdupq_n_s32(0);
    const uint8_t *Bg = B + g * chunks * 16;
    const int8_t *Ag = A + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      int16x8_t lo[C], hi[C];  // columns 0-1 and 2-3
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const uint8x16_t x = vld1q_u8(Bg + j * panel + c * 16);
        lo[j] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x)));
        hi[j] = vreinterpretq_s16_u16(vmovl_high_u8(x));
      }
      LB_UNROLL for (int i = 0; i < R; ++i) {
        int32_t a4;
        memcpy(&a4, Ag + i * lda + c * 4, 4);
        const int16x8_t av = vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(a4)));
        LB_UNROLL for (int j = 0; j < C; ++j) {
          acc[i][j][0] = vmlal_s16(acc[i][j][0], vget_low_s16(lo[j]), vget_low_s16(av));
          acc[i][j][1] = vmlal_high_s16(acc[i][j][1], lo[j], av);
          acc[i][j][2] = vmlal_s16(acc[i][j][2], vget_low_s16(hi[j]), vget_low_s16(av));
          acc[i][j][3] = vmlal_high_s16(acc[i][j][3], hi[j], av);
        }
      }
    }
    int32x4_t v[R][C];  // columns 0, 1, 2, 3
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) v[i][j] =
        vpaddq_s32(vpaddq_s32(acc[i][j][0], acc[i][j][1]), vpaddq_s32(acc[i][j][2], acc[i][j][3]));
    lb_neon_group_end<R, C>(a, m, p, g, v, false, y);
  }
  lb_neon_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

template <int BITS>
void ggemm(const lb_ggemm_args &a) {
  auto run = [&](auto r, auto c, size_t m, size_t p) {
    if constexpr (BITS == 8) tile_u8<r.value, c.value>(a, m, p);
    else tile<BITS, r.value, c.value>(a, m, p);
  };
  const size_t panels = a.N / 4;
  if (BITS == 8)  // four accumulators a column: 2 x 2 panels keep them in registers
    lb_for_each_tile<2, 2>(a.M, panels, run);
  else if (a.M <= 2)
    lb_for_each_tile<2, 4>(a.M, panels, run);
  else
    lb_for_each_tile<4, 2>(a.M, panels, run);
}

}  // namespace

void ggemm_u8s8_neon(const lb_ggemm_args &a) { ggemm<8>(a); }
void ggemm_u4s8_neon(const lb_ggemm_args &a) { ggemm<4>(a); }
void ggemm_u2s8_neon(const lb_ggemm_args &a) { ggemm<2>(a); }
