// Quantize / dequantize float32 runs, AVX2 (contract in kernels.h, arithmetic in SPEC §3).
// Bit-exact with quant_ref.cpp: the same IEEE operations, lane by lane.
//   quantize:   vdivps (IEEE, never a reciprocal); clamp in float to [qmin - zp, qmax - zp]
//               before any conversion, so vcvtps2dq never overflows (vmaxps(v, lo) gives lo for
//               a NaN); vroundps to nearest even, independent of MXCSR's rounding mode; NaN
//               lanes take zp by a blend (zp may lie outside [qmin, qmax]: a narrowed range);
//               the int32 results are packed to their low bytes, 32 per store.
//   dequantize: widen, subtract zp in int32, convert (exact), one vmulps.
//   minmax:     vminps(x, acc) returns acc when x is NaN, so NaN never wins; the result is
//               order-independent except for the sign of a zero, fixed up at the end.
//   blocks:     one block at a time with its scale and zero point broadcast, through the same
//               per-run code; blocks shorter than a vector through the _vec code, their scales
//               and zero points expanded to one per element in a small buffer.
// MXCSR is never touched (no FTZ / DAZ). Tails use masked loads / stores through the same
// vector code, so every element goes through one path.
#pragma GCC target("avx2")
#include <immintrin.h>

#include "../kernels.h"
#include "block_walk.h"

namespace {

// The vector path needs the bounds and the zero points in int16: the float bounds are then
// exact, the conversions cannot overflow and the int32 -> int16 pack never saturates. Every
// dtype range (narrowed or not) qualifies, with zero points in the dtype's range (the driver
// checks them; the per-element ones of the _vec kernels are taken as checked); anything else
// is handed to the reference.
inline bool in_int16(int32_t v) { return -32768 <= v && v <= 32767; }
inline bool vector_range(int32_t qmin, int32_t qmax) {
  return in_int16(qmin) && in_int16(qmax) && qmin <= qmax;
}

// Lanes i < r set (r <= 8), for vmaskmov.
inline __m256i tail_mask(size_t r) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 8 lanes: round_half_even(clamp(x / s, lo, hi)) + zp as int32; NaN -> zp.
inline __m256i quant8(__m256 x, __m256 s, __m256 lo, __m256 hi, __m256i zp) {
  __m256 v = _mm256_div_ps(x, s);
  __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);      // all ones where v is not NaN
  v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);           // NaN -> lo: no NaN reaches the cvt
  v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zp);  // v is an integer: exact
  return _mm256_blendv_epi8(zp, q, _mm256_castps_si256(ordered));
}

// Low bytes of 4 x 8 int32 (each in int16 range), in order.
inline __m256i low_bytes32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ff = _mm256_set1_epi16(0xFF);
  __m256i ab = _mm256_and_si256(_mm256_packs_epi32(a, b), ff);  // a0-3 b0-3 | a4-7 b4-7
  __m256i cd = _mm256_and_si256(_mm256_packs_epi32(c, d), ff);
  __m256i r = _mm256_packus_epi16(ab, cd);  // dwords: a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
  return _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Low bytes of 8 int32 (each in int16 range) in the low 8 bytes.
inline __m128i low_bytes8(__m256i a) {
  __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  w = _mm_and_si128(w, _mm_set1_epi16(0xFF));
  return _mm_packus_epi16(w, w);
}

inline void store_bytes(uint8_t *q, size_t r, __m128i v) {  // the low r <= 8 bytes of v
  uint64_t b = (uint64_t)_mm_cvtsi128_si64(v);
  for (size_t k = 0; k < r; ++k) q[k] = (uint8_t)(b >> (8 * k));
}

// n elements sharing one scale and zero point: s, zp broadcast, lo / hi = qmin - zp, qmax - zp.
__attribute__((always_inline)) inline void quantize_run(size_t n, const float *x, __m256 s,
                                                        __m256 lo, __m256 hi, __m256i z,
                                                        uint8_t *q) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = quant8(_mm256_loadu_ps(x + i), s, lo, hi, z);
    __m256i b = quant8(_mm256_loadu_ps(x + i + 8), s, lo, hi, z);
    __m256i c = quant8(_mm256_loadu_ps(x + i + 16), s, lo, hi, z);
    __m256i d = quant8(_mm256_loadu_ps(x + i + 24), s, lo, hi, z);
    _mm256_storeu_si256((__m256i *)(q + i), low_bytes32(a, b, c, d));
  }
  for (; i + 8 <= n; i += 8)
    _mm_storel_epi64((__m128i *)(q + i), low_bytes8(quant8(_mm256_loadu_ps(x + i), s, lo, hi, z)));
  if (i < n) {
    __m256 xv = _mm256_maskload_ps(x + i, tail_mask(n - i));  // 0 in the lanes past the end
    store_bytes(q + i, n - i, low_bytes8(quant8(xv, s, lo, hi, z)));
  }
}

void quantize(size_t n, const float *x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
              uint8_t *q) {
  if (!vector_range(qmin, qmax) || !in_int16(zp))
    return quant_ref.quantize(n, x, scale, zp, qmin, qmax, q);
  const __m256 lo = _mm256_set1_ps((float)(qmin - zp)), hi = _mm256_set1_ps((float)(qmax - zp));
  quantize_run(n, x, _mm256_set1_ps(scale), lo, hi, _mm256_set1_epi32(zp), q);
}

void quantize_vec(size_t n, const float *x, const float *scale, const int32_t *zp, int32_t qmin,
                  int32_t qmax, uint8_t *q) {
  if (!vector_range(qmin, qmax)) return quant_ref.quantize_vec(n, x, scale, zp, qmin, qmax, q);
  const __m256i qlo = _mm256_set1_epi32(qmin), qhi = _mm256_set1_epi32(qmax);
  auto lanes = [&](__m256 xv, __m256 sv, __m256i z) {
    return quant8(xv, sv, _mm256_cvtepi32_ps(_mm256_sub_epi32(qlo, z)),
                  _mm256_cvtepi32_ps(_mm256_sub_epi32(qhi, z)), z);
  };
  auto at = [&](size_t j) {
    return lanes(_mm256_loadu_ps(x + j), _mm256_loadu_ps(scale + j),
                 _mm256_loadu_si256((const __m256i *)(zp + j)));
  };
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256((__m256i *)(q + i), low_bytes32(at(i), at(i + 8), at(i + 16), at(i + 24)));
  for (; i + 8 <= n; i += 8) _mm_storel_epi64((__m128i *)(q + i), low_bytes8(at(i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    // Lanes past the end: x 0, scale 1, zp 0 (no 0 / 0 raised), results dropped.
    __m256 sv = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_maskload_ps(scale + i, m),
                                 _mm256_castsi256_ps(m));
    __m256i v = lanes(_mm256_maskload_ps(x + i, m), sv, _mm256_maskload_epi32(zp + i, m));
    store_bytes(q + i, n - i, low_bytes8(v));
  }
}

// 8 bytes at p, sign- or zero-extended to int32.
template <bool Signed>
inline __m256i widen8(const uint8_t *p) {
  __m128i b = _mm_loadl_epi64((const __m128i *)p);
  return Signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

inline __m256 dequant8(__m256i q, __m256i zp, __m256 s) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp)), s);
}

// n elements sharing one scale and zero point (s, z broadcast).
template <bool Signed>
__attribute__((always_inline)) inline void dequantize_run(size_t n, const uint8_t *q, __m256 s,
                                                          __m256i z, float *x) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = dequant8(widen8<Signed>(q + i), z, s);
    __m256 b = dequant8(widen8<Signed>(q + i + 8), z, s);
    __m256 c = dequant8(widen8<Signed>(q + i + 16), z, s);
    __m256 d = dequant8(widen8<Signed>(q + i + 24), z, s);
    _mm256_storeu_ps(x + i, a);
    _mm256_storeu_ps(x + i + 8, b);
    _mm256_storeu_ps(x + i + 16, c);
    _mm256_storeu_ps(x + i + 24, d);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, dequant8(widen8<Signed>(q + i), z, s));
  if (i < n) {
    uint8_t buf[8] = {0};
    for (size_t k = 0; k < n - i; ++k) buf[k] = q[i + k];
    _mm256_maskstore_ps(x + i, tail_mask(n - i), dequant8(widen8<Signed>(buf), z, s));
  }
}

template <bool Signed>
void dequantize_t(size_t n, const uint8_t *q, float scale, int32_t zp, float *x) {
  dequantize_run<Signed>(n, q, _mm256_set1_ps(scale), _mm256_set1_epi32(zp), x);
}

template <bool Signed>
void dequantize_vec_t(size_t n, const uint8_t *q, const float *scale, const int32_t *zp,
                      float *x) {
  auto at = [&](size_t j) {
    return dequant8(widen8<Signed>(q + j), _mm256_loadu_si256((const __m256i *)(zp + j)),
                    _mm256_loadu_ps(scale + j));
  };
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = at(i), b = at(i + 8), c = at(i + 16), d = at(i + 24);
    _mm256_storeu_ps(x + i, a);
    _mm256_storeu_ps(x + i + 8, b);
    _mm256_storeu_ps(x + i + 16, c);
    _mm256_storeu_ps(x + i + 24, d);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, at(i));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    uint8_t buf[8] = {0};
    for (size_t k = 0; k < n - i; ++k) buf[k] = q[i + k];
    __m256 v = dequant8(widen8<Signed>(buf), _mm256_maskload_epi32(zp + i, m),
                        _mm256_maskload_ps(scale + i, m));  // 0 * 0 past the end: dropped
    _mm256_maskstore_ps(x + i, m, v);
  }
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
// elements of a block not filling a vector take its masked tail).
void quantize_blocks(size_t n, const float *x, size_t block, const float *scale,
                     const int32_t *zp, int32_t qmin, int32_t qmax, uint8_t *q) {
  if (!vector_range(qmin, qmax))
    return quant_ref.quantize_blocks(n, x, block, scale, zp, qmin, qmax, q);
  if (block < 8)
    return expand_blocks(n, block, scale, zp,
                         [&](size_t i, size_t c, const float *sb, const int32_t *zb) {
                           quantize_vec(c, x + i, sb, zb, qmin, qmax, q + i);
                         });
  const __m256i qlo = _mm256_set1_epi32(qmin), qhi = _mm256_set1_epi32(qmax);
  each_block(n, block, [&](size_t i, size_t len, size_t b) __attribute__((always_inline)) {
    const __m256i z = _mm256_set1_epi32(zp[b]);
    quantize_run(len, x + i, _mm256_set1_ps(scale[b]), _mm256_cvtepi32_ps(_mm256_sub_epi32(qlo, z)),
                 _mm256_cvtepi32_ps(_mm256_sub_epi32(qhi, z)), z, q + i);
  });
}

template <bool Signed>
void dequantize_blocks_t(size_t n, const uint8_t *q, size_t block, const float *scale,
                         const int32_t *zp, float *x) {
  if (block < 8)
    return expand_blocks(n, block, scale, zp,
                         [&](size_t i, size_t c, const float *sb, const int32_t *zb) {
                           dequantize_vec_t<Signed>(c, q + i, sb, zb, x + i);
                         });
  each_block(n, block, [&](size_t i, size_t len, size_t b) __attribute__((always_inline)) {
    dequantize_run<Signed>(len, q + i, _mm256_set1_ps(scale[b]), _mm256_set1_epi32(zp[b]), x + i);
  });
}

void dequantize_blocks(size_t n, const uint8_t *q, bool q_signed, size_t block,
                       const float *scale, const int32_t *zp, float *x) {
  q_signed ? dequantize_blocks_t<true>(n, q, block, scale, zp, x)
           : dequantize_blocks_t<false>(n, q, block, scale, zp, x);
}

inline float hmin(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

void minmax(size_t n, const float *x, float *mn, float *mx) {
  // The accumulators never hold a NaN: vminps / vmaxps return the 2nd operand (acc) when
  // either is NaN. Which zero a lane keeps depends on order; a zero result is made +0 below.
  __m256 lo0 = _mm256_set1_ps(__builtin_inff()), lo1 = lo0, lo2 = lo0, lo3 = lo0;
  __m256 hi0 = _mm256_set1_ps(-__builtin_inff()), hi1 = hi0, hi2 = hi0, hi3 = hi0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
    lo0 = _mm256_min_ps(a, lo0), hi0 = _mm256_max_ps(a, hi0);
    lo1 = _mm256_min_ps(b, lo1), hi1 = _mm256_max_ps(b, hi1);
    lo2 = _mm256_min_ps(c, lo2), hi2 = _mm256_max_ps(c, hi2);
    lo3 = _mm256_min_ps(d, lo3), hi3 = _mm256_max_ps(d, hi3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 a = _mm256_loadu_ps(x + i);
    lo0 = _mm256_min_ps(a, lo0), hi0 = _mm256_max_ps(a, hi0);
  }
  if (i < n && n >= 8) {  // the last 8, overlapping what was seen: min / max are idempotent
    __m256 a = _mm256_loadu_ps(x + n - 8);
    lo1 = _mm256_min_ps(a, lo1), hi1 = _mm256_max_ps(a, hi1);
    i = n;
  }
  float lo = hmin(_mm256_min_ps(_mm256_min_ps(lo0, lo1), _mm256_min_ps(lo2, lo3)));
  float hi = hmax(_mm256_max_ps(_mm256_max_ps(hi0, hi1), _mm256_max_ps(hi2, hi3)));
  for (; i < n; ++i) {  // n < 8
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

const lb_quant_kernels quant_avx2 = {quantize,        quantize_vec,      dequantize, dequantize_vec,
                                     quantize_blocks, dequantize_blocks, minmax};
