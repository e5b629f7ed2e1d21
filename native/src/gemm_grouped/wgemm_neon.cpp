// Weight-only GEMM, AdvSIMD (kernels.h, lb_wgemm_args), on the 4-column panels of the NEON
// grouped kernels (the reference's layout): each field of a 16-byte chunk is column j's four k
// in lanes 4 j .. 4 j + 3, so a column's weights widen (vmovl, vcvt) or look up (nf4: tbl of the
// 16-float code book) into one float32x4 that multiplies four consecutive activations. Each
// column keeps its four lane sums through a group; two addp give the four columns' sums,
// scaled once at the group's end. SPEC §4's tolerance, not bit-exact.
#include "ggemm_neon_common.h"

namespace {

// Column j's four values of field vector u as floats: (u - zp) converted, or the code book's.
template <bool kBook>
inline float32x4_t column(uint8x16_t u, int j, int32x4_t zp, const uint8x16x4_t &book) {
  if constexpr (kBook) {
    // Byte 4 i + b of the result: byte b of code[u[4 j + i]], i.e. table byte 4 u + b.
    static const uint8_t spread[4][16] = {{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
                                          {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
                                          {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
                                          {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15}};
    static const uint8_t byte_of[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
    const uint8x16_t idx = vaddq_u8(vshlq_n_u8(vqtbl1q_u8(u, vld1q_u8(spread[j])), 2), vld1q_u8(byte_of));
    return vreinterpretq_f32_u8(vqtbl4q_u8(book, idx));
  } else {
    const uint16x8_t h = j < 2 ? vmovl_u8(vget_low_u8(u)) : vmovl_high_u8(u);
    const uint32x4_t w = (j & 1) ? vmovl_high_u16(h) : vmovl_u16(vget_low_u16(h));
    return vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(w), zp));
  }
}

template <int BITS, bool kBook, int R, int C>
void tile(const lb_wgemm_args &a, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 16;
  const float *X = a.X + m * lda;
  const uint8_t *B = a.B + p * panel;
  const uint8x16_t mask = vdupq_n_u8((uint8_t)((1 << BITS) - 1));
  uint8x16x4_t book{};
  if constexpr (kBook) book = vld1q_u8_x4((const uint8_t *)a.codebook);
  float32x4_t y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] = vdupq_n_f32(0.0f);
  for (size_t g = 0; g < a.groups; ++g) {
    float32x4_t s[R][C][4];  // column q of panel j: four lane sums
    LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) LB_UNROLL for (int q = 0; q < 4; ++q)
        s[i][j][q] = vdupq_n_f32(0.0f);
    int32x4_t zp[C][4];
    LB_UNROLL for (int j = 0; j < C; ++j) LB_UNROLL for (int q = 0; q < 4; ++q)
        zp[j][q] = vdupq_n_s32(kBook ? 0 : a.w_zp[((p + j) * a.groups + g) * 4 + q]);
    const uint8_t *Bg = B + g * chunks * 16;
    const float *Xg = X + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      uint8x16_t x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) x[j] = vld1q_u8(Bg + j * panel + c * 16);
      LB_UNROLL for (int t = 0; t < kPer; ++t) {
        float32x4_t xv[R];
        LB_UNROLL for (int i = 0; i < R; ++i) xv[i] = vld1q_f32(Xg + i * lda + c * kr + 4 * t);
        LB_UNROLL for (int j = 0; j < C; ++j) {
          const uint8x16_t u = BITS == 8 ? x[j] : lb_neon_field<BITS>(x[j], t, mask);
          LB_UNROLL for (int q = 0; q < 4; ++q) {
            const float32x4_t w = column<kBook>(u, q, zp[j][q], book);
            LB_UNROLL for (int i = 0; i < R; ++i) s[i][j][q] = vfmaq_f32(s[i][j][q], w, xv[i]);
          }
        }
      }
    }
    LB_UNROLL for (int j = 0; j < C; ++j) {
      const size_t w = ((p + j) * a.groups + g) * 4;
      const float32x4_t sc = lb_neon_scales(a.w_scale, a.w_scale16, w);
      LB_UNROLL for (int i = 0; i < R; ++i) {
        const float32x4_t sum = vpaddq_f32(vpaddq_f32(s[i][j][0], s[i][j][1]), vpaddq_f32(s[i][j][2], s[i][j][3]));
        y[i][j] = vfmaq_f32(y[i][j], sum, sc);
      }
    }
  }
  lb_neon_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

// 2 rows x 1 panel: 8 sum registers, 4 zero points, 4 code book registers (2 panels spilled).
template <int BITS>
void wgemm(const lb_wgemm_args &a) {
  const size_t panels = a.N / 4;
  if (BITS == 4 && a.codebook)
    lb_for_each_tile<2, 1>(a.M, panels, [&](auto r, auto c, size_t m, size_t p) { tile<BITS, true, r.value, c.value>(a, m, p); });
  else
    lb_for_each_tile<2, 1>(a.M, panels, [&](auto r, auto c, size_t m, size_t p) { tile<BITS, false, r.value, c.value>(a, m, p); });
}

}  // namespace

void wgemm_u8f32_neon(const lb_wgemm_args &a) { wgemm<8>(a); }
void wgemm_u4f32_neon(const lb_wgemm_args &a) { wgemm<4>(a); }
void wgemm_u2f32_neon(const lb_wgemm_args &a) { wgemm<2>(a); }
