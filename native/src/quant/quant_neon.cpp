// Quantize / dequantize float32 runs, plain AdvSIMD (baseline AArch64, no target pragma needed;
// contract in kernels.h, arithmetic in SPEC §3). Bit-exact with quant_ref.cpp:
//   quantize:   fdiv (IEEE, never a reciprocal), then fcvtns: round to nearest, ties to even,
//               whatever FPCR's rounding mode, NaN -> 0, out-of-range values saturated to the
//               int32 range (architecturally defined, unlike x86's cvtps2dq). Clamping that
//               integer to [qmin - zp, qmax - zp] is clamping before rounding, as the reference
//               does, since the bounds are integers and rounding is monotonic. NaN lanes take
//               zp by a select (zp may lie outside [qmin, qmax]: a narrowed range). The low
//               bytes are gathered with uzp1, 16 per store.
//   dequantize: widen, subtract zp in int32, convert (exact), one fmul.
//   minmax:     compare-and-select (fcmgt / fcmlt are false for NaN, so NaN never wins, signalling
//               NaN included); the result is order-independent except for the sign of a zero,
//               made +0 at the end.
//   blocks:     one block at a time with its scale and zero point broadcast, through the same
//               per-run code; blocks shorter than 16 through the _vec code, their scales and
//               zero points expanded to one per element in a small buffer.
// FPCR is never touched (no flush-to-zero). Tails of fewer than 16 elements go through the same
// vector code on a zero-padded copy.
#include <arm_neon.h>

#include "../kernels.h"
#include "block_walk.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "uzp1 gathers the low bytes on little-endian only");

namespace {

// As in quant_avx2.cpp: bounds and zero points in int16 (every dtype range, narrowed or not,
// with zero points in the dtype's range); anything else is handed to the reference.
inline bool in_int16(int32_t v) { return -32768 <= v && v <= 32767; }
inline bool vector_range(int32_t qmin, int32_t qmax) {
  return in_int16(qmin) && in_int16(qmax) && qmin <= qmax;
}

// 4 lanes: clamp(round_half_even(x / s), lo, hi) + zp with lo = qmin - zp, hi = qmax - zp;
// NaN -> zp.
inline int32x4_t quant4(float32x4_t x, float32x4_t s, int32x4_t lo, int32x4_t hi, int32x4_t zp) {
  float32x4_t v = vdivq_f32(x, s);
  int32x4_t r = vaddq_s32(vminq_s32(vmaxq_s32(vcvtnq_s32_f32(v), lo), hi), zp);
  return vbslq_s32(vceqq_f32(v, v), r, zp);  // v == v: not NaN
}

// Low bytes of 4 x 4 int32, in order.
inline uint8x16_t low_bytes16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  int16x8_t ab = vuzp1q_s16(vreinterpretq_s16_s32(a), vreinterpretq_s16_s32(b));
  int16x8_t cd = vuzp1q_s16(vreinterpretq_s16_s32(c), vreinterpretq_s16_s32(d));
  return vuzp1q_u8(vreinterpretq_u8_s16(ab), vreinterpretq_u8_s16(cd));
}

// Runs body(x, scale, zp, q) on 16-element groups; the last n % 16 elements on zero-padded
// copies (x 0, scale 1, zp 0), so they take the same path.
template <class Body>
inline void quantize_by16(size_t n, const float *x, const float *scale, const int32_t *zp,
                          uint8_t *q, size_t step, Body body) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) body(x + i, scale + i * step, zp + i * step, q + i);
  if (i < n) {
    float xb[16], sb[16];
    int32_t zb[16];
    uint8_t qb[16];
    const size_t r = n - i;
    for (size_t k = 0; k < 16; ++k) {
      xb[k] = k < r ? x[i + k] : 0.0f;
      sb[k] = k < r && step ? scale[i + k] : 1.0f;
      zb[k] = k < r && step ? zp[i + k] : 0;
    }
    body(xb, sb, zb, qb);
    for (size_t k = 0; k < r; ++k) q[i + k] = qb[k];
  }
}

// n elements sharing one scale and zero point: s, zp broadcast, lo / hi = qmin - zp, qmax - zp.
__attribute__((always_inline)) inline void quantize_run(size_t n, const float *x, float32x4_t s,
                                                        int32x4_t lo, int32x4_t hi, int32x4_t z,
                                                        uint8_t *q) {
  quantize_by16(n, x, nullptr, nullptr, q, 0,
                [&](const float *xp, const float *, const int32_t *, uint8_t *qp) {
                  int32x4_t a = quant4(vld1q_f32(xp), s, lo, hi, z);
                  int32x4_t b = quant4(vld1q_f32(xp + 4), s, lo, hi, z);
                  int32x4_t c = quant4(vld1q_f32(xp + 8), s, lo, hi, z);
                  int32x4_t d = quant4(vld1q_f32(xp + 12), s, lo, hi, z);
                  vst1q_u8(qp, low_bytes16(a, b, c, d));
                });
}

void quantize(size_t n, const float *x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
              uint8_t *q) {
  if (!vector_range(qmin, qmax) || !in_int16(zp))
    return quant_ref.quantize(n, x, scale, zp, qmin, qmax, q);
  quantize_run(n, x, vdupq_n_f32(scale), vdupq_n_s32(qmin - zp), vdupq_n_s32(qmax - zp),
               vdupq_n_s32(zp), q);
}

void quantize_vec(size_t n, const float *x, const float *scale, const int32_t *zp, int32_t qmin,
                  int32_t qmax, uint8_t *q) {
  if (!vector_range(qmin, qmax)) return quant_ref.quantize_vec(n, x, scale, zp, qmin, qmax, q);
  const int32x4_t qlo = vdupq_n_s32(qmin), qhi = vdupq_n_s32(qmax);
  auto at = [&](const float *xp, const float *sp, const int32_t *zpp) {
    int32x4_t z = vld1q_s32(zpp);
    return quant4(vld1q_f32(xp), vld1q_f32(sp), vsubq_s32(qlo, z), vsubq_s32(qhi, z), z);
  };
  quantize_by16(n, x, scale, zp, q, 1,
                [&](const float *xp, const float *sp, const int32_t *zpp, uint8_t *qp) {
                  int32x4_t a = at(xp, sp, zpp), b = at(xp + 4, sp + 4, zpp + 4);
                  int32x4_t c = at(xp + 8, sp + 8, zpp + 8), d = at(xp + 12, sp + 12, zpp + 12);
                  vst1q_u8(qp, low_bytes16(a, b, c, d));
                });
}

// 16 bytes at p, sign- or zero-extended to 4 x int32.
template <bool Signed>
inline void widen16(const uint8_t *p, int32x4_t w[4]) {
  int16x8_t lo, hi;
  if (Signed) {
    int8x16_t b = vld1q_s8((const int8_t *)p);
    lo = vmovl_s8(vget_low_s8(b));
    hi = vmovl_high_s8(b);
  } else {
    uint8x16_t b = vld1q_u8(p);
    lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(b)));
    hi = vreinterpretq_s16_u16(vmovl_high_u8(b));
  }
  w[0] = vmovl_s16(vget_low_s16(lo));
  w[1] = vmovl_high_s16(lo);
  w[2] = vmovl_s16(vget_low_s16(hi));
  w[3] = vmovl_high_s16(hi);
}

inline float32x4_t dequant4(int32x4_t q, int32x4_t zp, float32x4_t s) {
  return vmulq_f32(vcvtq_f32_s32(vsubq_s32(q, zp)), s);
}

// Runs body(q, scale, zp, x) on 16-element groups; the last n % 16 on padded copies.
template <class Body>
inline void dequantize_by16(size_t n, const uint8_t *q, const float *scale, const int32_t *zp,
                            float *x, size_t step, Body body) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) body(q + i, scale + i * step, zp + i * step, x + i);
  if (i < n) {
    uint8_t qb[16];
    float sb[16], xb[16];
    int32_t zb[16];
    const size_t r = n - i;
    for (size_t k = 0; k < 16; ++k) {
      qb[k] = k < r ? q[i + k] : 0;
      sb[k] = k < r && step ? scale[i + k] : 1.0f;
      zb[k] = k < r && step ? zp[i + k] : 0;
    }
    body(qb, sb, zb, xb);
    for (size_t k = 0; k < r; ++k) x[i + k] = xb[k];
  }
}

// n elements sharing one scale and zero point (s, z broadcast).
template <bool Signed>
__attribute__((always_inline)) inline void dequantize_run(size_t n, const uint8_t *q,
                                                          float32x4_t s, int32x4_t z, float *x) {
  dequantize_by16(n, q, nullptr, nullptr, x, 0,
                  [&](const uint8_t *qp, const float *, const int32_t *, float *xp) {
                    int32x4_t w[4];
                    widen16<Signed>(qp, w);
                    for (int j = 0; j < 4; ++j) vst1q_f32(xp + 4 * j, dequant4(w[j], z, s));
                  });
}

template <bool Signed>
void dequantize_t(size_t n, const uint8_t *q, float scale, int32_t zp, float *x) {
  dequantize_run<Signed>(n, q, vdupq_n_f32(scale), vdupq_n_s32(zp), x);
}

template <bool Signed>
void dequantize_vec_t(size_t n, const uint8_t *q, const float *scale, const int32_t *zp,
                      float *x) {
  dequantize_by16(n, q, scale, zp, x, 1,
                  [&](const uint8_t *qp, const float *sp, const int32_t *zpp, float *xp) {
                    int32x4_t w[4];
                    widen16<Signed>(qp, w);
                    for (int j = 0; j < 4; ++j)
                      vst1q_f32(xp + 4 * j,
                                dequant4(w[j], vld1q_s32(zpp + 4 * j), vld1q_f32(sp + 4 * j)));
                  });
}

void dequantize(size_t n, const uint8_t *q, bool q_signed, float scale, int32_t zp, float *x) {
  q_signed ? dequantize_t<true>(n, q, scale, zp, x) : dequantize_t<false>(n, q, scale, zp, x);
}

void dequantize_vec(size_t n, const uint8_t *q, bool q_signed, const float *scale,
                    const int32_t *zp, float *x) {
  q_signed ? dequantize_vec_t<true>(n, q, scale, zp, x)
           : dequantize_vec_t<false>(n, q, scale, zp, x);
}

// One block at a time, its scale and zero point broadcast, through the per-run code (the last
// elements of a block not filling 16 take its padded tail).
void quantize_blocks(size_t n, const float *x, size_t block, const float *scale,
                     const int32_t *zp, int32_t qmin, int32_t qmax, uint8_t *q) {
  if (!vector_range(qmin, qmax))
    return quant_ref.quantize_blocks(n, x, block, scale, zp, qmin, qmax, q);
  if (block < 16)
    return expand_blocks(n, block, scale, zp,
                         [&](size_t i, size_t c, const float *sb, const int32_t *zb) {
                           quantize_vec(c, x + i, sb, zb, qmin, qmax, q + i);
                         });
  const int32x4_t qlo = vdupq_n_s32(qmin), qhi = vdupq_n_s32(qmax);
  each_block(n, block, [&](size_t i, size_t len, size_t b) __attribute__((always_inline)) {
    const int32x4_t z = vdupq_n_s32(zp[b]);
    quantize_run(len, x + i, vdupq_n_f32(scale[b]), vsubq_s32(qlo, z), vsubq_s32(qhi, z), z,
                 q + i);
  });
}

template <bool Signed>
void dequantize_blocks_t(size_t n, const uint8_t *q, size_t block, const float *scale,
                         const int32_t *zp, float *x) {
  if (block < 16)
    return expand_blocks(n, block, scale, zp,
                         [&](size_t i, size_t c, const float *sb, const int32_t *zb) {
                           dequantize_vec_t<Signed>(c, q + i, sb, zb, x + i);
                         });
  each_block(n, block, [&](size_t i, size_t len, size_t b) __attribute__((always_inline)) {
    dequantize_run<Signed>(len, q + i, vdupq_n_f32(scale[b]), vdupq_n_s32(zp[b]), x + i);
  });
}

void dequantize_blocks(size_t n, const uint8_t *q, bool q_signed, size_t block,
                       const float *scale, const int32_t *zp, float *x) {
  q_signed ? dequantize_blocks_t<true>(n, q, block, scale, zp, x)
           : dequantize_blocks_t<false>(n, q, block, scale, zp, x);
}

// acc = x where x < acc (x > acc for max); NaN compares false, so the accumulator stays.
inline float32x4_t keep_min(float32x4_t x, float32x4_t acc) {
  return vbslq_f32(vcltq_f32(x, acc), x, acc);
}
inline float32x4_t keep_max(float32x4_t x, float32x4_t acc) {
  return vbslq_f32(vcgtq_f32(x, acc), x, acc);
}

void minmax(size_t n, const float *x, float *mn, float *mx) {
  float32x4_t lo0 = vdupq_n_f32(__builtin_inff()), lo1 = lo0, lo2 = lo0, lo3 = lo0;
  float32x4_t hi0 = vdupq_n_f32(-__builtin_inff()), hi1 = hi0, hi2 = hi0, hi3 = hi0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
    float32x4_t c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);
    lo0 = keep_min(a, lo0), hi0 = keep_max(a, hi0);
    lo1 = keep_min(b, lo1), hi1 = keep_max(b, hi1);
    lo2 = keep_min(c, lo2), hi2 = keep_max(c, hi2);
    lo3 = keep_min(d, lo3), hi3 = keep_max(d, hi3);
  }
  for (; i + 4 <= n; i += 4) {
    float32x4_t a = vld1q_f32(x + i);
    lo0 = keep_min(a, lo0), hi0 = keep_max(a, hi0);
  }
  if (i < n && n >= 4) {  // the last 4, overlapping what was seen: min / max are idempotent
    float32x4_t a = vld1q_f32(x + n - 4);
    lo1 = keep_min(a, lo1), hi1 = keep_max(a, hi1);
    i = n;
  }
  // No NaN in the accumulators, so fmin / fmax / fminv / fmaxv just pick the extreme value.
  float lo = vminvq_f32(vminq_f32(vminq_f32(lo0, lo1), vminq_f32(lo2, lo3)));
  float hi = vmaxvq_f32(vmaxq_f32(vmaxq_f32(hi0, hi1), vmaxq_f32(hi2, hi3)));
  for (; i < n; ++i) {  // n < 4
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  // A zero result is +0 whichever zero the lanes kept (the contract in kernels.h).
  if (lo == 0.0f) lo = 0.0f;
  if (hi == 0.0f) hi = 0.0f;
  *mn = lo;
  *mx = hi;
}

}  // namespace

const lb_quant_kernels quant_neon = {quantize,        quantize_vec,      dequantize, dequantize_vec,
                                     quantize_blocks, dequantize_blocks, minmax};
