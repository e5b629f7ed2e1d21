// Quantize / dequantize float32 runs, AVX-512F/BW/VL (contract in kernels.h, arithmetic in
// SPEC §3). The same steps as quant_avx2.cpp, 16 lanes wide, bit-exact with quant_ref.cpp:
//   quantize:   vdivps (IEEE, never a reciprocal); clamp in float to [qmin - zp, qmax - zp]
//               before the conversion, so vcvtps2dq never overflows (vmaxps(v, lo) gives lo for
//               a NaN); the conversion rounds to nearest even by its embedded rounding
//               ({rn-sae}), independent of MXCSR; NaN lanes take zp through the mask of the add
//               (zp may lie outside [qmin, qmax]: a narrowed range); the int32 results are
//               packed to their low bytes, 64 per store.
//   dequantize: widen, subtract zp in int32, convert (exact), one vmulps.
//   minmax:     vminps(x, acc) returns acc when x is NaN, so NaN never wins; the result is
//               order-independent except for the sign of a zero, fixed up at the end.
//   blocks:     one block at a time with its scale and zero point broadcast, through the same
//               per-run code; blocks shorter than a vector through the _vec code, their scales
//               and zero points expanded to one per element in a small buffer.
// MXCSR is never touched (no FTZ / DAZ). Tails use masked loads / stores through the same
// vector code, so every element goes through one path.
#pragma GCC target("avx512f,avx512bw,avx512vl")
#include <immintrin.h>

#include "../kernels.h"
#include "block_walk.h"

namespace {

// As in quant_avx2.cpp: bounds and zero points in int16 (every dtype range, narrowed or not,
// with zero points in the dtype's range); anything else is handed to the reference.
inline bool in_int16(int32_t v) { return -32768 <= v && v <= 32767; }
inline bool vector_range(int32_t qmin, int32_t qmax) {
  return in_int16(qmin) && in_int16(qmax) && qmin <= qmax;
}

// Lanes i < r set (r <= 16).
inline __mmask16 tail_mask(size_t r) { return (__mmask16)((1u << r) - 1); }

// 16 lanes: round_half_even(clamp(x / s, lo, hi)) + zp as int32; NaN -> zp.
inline __m512i quant16(__m512 x, __m512 s, __m512 lo, __m512 hi, __m512i zp) {
  __m512 v = _mm512_div_ps(x, s);
  const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);  // lanes where v is not NaN
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);                      // NaN -> lo
  __m512i r = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_mask_add_epi32(zp, ordered, r, zp);  // NaN lanes: zp
}

// Low bytes of 4 x 16 int32 (each in int16 range), in order.
inline __m512i low_bytes64(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ff = _mm512_set1_epi16(0xFF);
  __m512i ab = _mm512_and_si512(_mm512_packs_epi32(a, b), ff);  // per 128-bit lane L: aL bL
  __m512i cd = _mm512_and_si512(_mm512_packs_epi32(c, d), ff);
  __m512i r = _mm512_packus_epi16(ab, cd);  // dword 4L + {0,1,2,3} = 4 bytes of a, b, c, d
  return _mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), r);
}

// n elements sharing one scale and zero point: s, zp broadcast, lo / hi = qmin - zp, qmax - zp.
__attribute__((always_inline)) inline void quantize_run(size_t n, const float *x, __m512 s,
                                                        __m512 lo, __m512 hi, __m512i z,
                                                        uint8_t *q) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i a = quant16(_mm512_loadu_ps(x + i), s, lo, hi, z);
    __m512i b = quant16(_mm512_loadu_ps(x + i + 16), s, lo, hi, z);
    __m512i c = quant16(_mm512_loadu_ps(x + i + 32), s, lo, hi, z);
    __m512i d = quant16(_mm512_loadu_ps(x + i + 48), s, lo, hi, z);
    _mm512_storeu_si512((void *)(q + i), low_bytes64(a, b, c, d));
  }
  for (; i < n; i += 16) {  // 0 in the lanes past the end; vpmovdb keeps the low bytes
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask(n - i);
    __m512i v = quant16(_mm512_maskz_loadu_ps(m, x + i), s, lo, hi, z);
    _mm512_mask_cvtepi32_storeu_epi8(q + i, m, v);
  }
}

void quantize(size_t n, const float *x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
              uint8_t *q) {
  if (!vector_range(qmin, qmax) || !in_int16(zp))
    return quant_ref.quantize(n, x, scale, zp, qmin, qmax, q);
  const __m512 lo = _mm512_set1_ps((float)(qmin - zp)), hi = _mm512_set1_ps((float)(qmax - zp));
  quantize_run(n, x, _mm512_set1_ps(scale), lo, hi, _mm512_set1_epi32(zp), q);
}

void quantize_vec(size_t n, const float *x, const float *scale, const int32_t *zp, int32_t qmin,
                  int32_t qmax, uint8_t *q) {
  if (!vector_range(qmin, qmax)) return quant_ref.quantize_vec(n, x, scale, zp, qmin, qmax, q);
  const __m512i qlo = _mm512_set1_epi32(qmin), qhi = _mm512_set1_epi32(qmax);
  auto lanes = [&](__m512 xv, __m512 sv, __m512i z) {
    return quant16(xv, sv, _mm512_cvtepi32_ps(_mm512_sub_epi32(qlo, z)),
                   _mm512_cvtepi32_ps(_mm512_sub_epi32(qhi, z)), z);
  };
  auto at = [&](size_t j) {
    return lanes(_mm512_loadu_ps(x + j), _mm512_loadu_ps(scale + j),
                 _mm512_loadu_si512((const void *)(zp + j)));
  };
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
    _mm512_storeu_si512((void *)(q + i), low_bytes64(at(i), at(i + 16), at(i + 32), at(i + 48)));
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i < n; i += 16) {  // lanes past the end: x 0, scale 1, zp 0; not stored
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask(n - i);
    __m512i v = lanes(_mm512_maskz_loadu_ps(m, x + i), _mm512_mask_loadu_ps(one, m, scale + i),
                      _mm512_maskz_loadu_epi32(m, zp + i));
    _mm512_mask_cvtepi32_storeu_epi8(q + i, m, v);
  }
}

// 16 bytes (lanes of m) at p, sign- or zero-extended to int32.
template <bool Signed>
inline __m512i widen16(const uint8_t *p, __mmask16 m) {
  __m128i b = _mm_maskz_loadu_epi8(m, p);
  return Signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

template <bool Signed>
inline __m512i widen16(const uint8_t *p) {
  __m128i b = _mm_loadu_si128((const __m128i *)p);
  return Signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

inline __m512 dequant16(__m512i q, __m512i zp, __m512 s) {
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, zp)), s);
}

// n elements sharing one scale and zero point (s, z broadcast).
template <bool Signed>
__attribute__((always_inline)) inline void dequantize_run(size_t n, const uint8_t *q, __m512 s,
                                                          __m512i z, float *x) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 a = dequant16(widen16<Signed>(q + i), z, s);
    __m512 b = dequant16(widen16<Signed>(q + i + 16), z, s);
    __m512 c = dequant16(widen16<Signed>(q + i + 32), z, s);
    __m512 d = dequant16(widen16<Signed>(q + i + 48), z, s);
    _mm512_storeu_ps(x + i, a);
    _mm512_storeu_ps(x + i + 16, b);
    _mm512_storeu_ps(x + i + 32, c);
    _mm512_storeu_ps(x + i + 48, d);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, m, dequant16(widen16<Signed>(q + i, m), z, s));
  }
}

template <bool Signed>
void dequantize_t(size_t n, const uint8_t *q, float scale, int32_t zp, float *x) {
  dequantize_run<Signed>(n, q, _mm512_set1_ps(scale), _mm512_set1_epi32(zp), x);
}

template <bool Signed>
void dequantize_vec_t(size_t n, const uint8_t *q, const float *scale, const int32_t *zp,
                      float *x) {
  auto at = [&](size_t j) {
    return dequant16(widen16<Signed>(q + j), _mm512_loadu_si512((const void *)(zp + j)),
                     _mm512_loadu_ps(scale + j));
  };
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 a = at(i), b = at(i + 16), c = at(i + 32), d = at(i + 48);
    _mm512_storeu_ps(x + i, a);
    _mm512_storeu_ps(x + i + 16, b);
    _mm512_storeu_ps(x + i + 32, c);
    _mm512_storeu_ps(x + i + 48, d);
  }
  for (; i < n; i += 16) {  // 0 * 0 past the end, not stored
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask(n - i);
    __m512 v = dequant16(widen16<Signed>(q + i, m), _mm512_maskz_loadu_epi32(m, zp + i),
                         _mm512_maskz_loadu_ps(m, scale + i));
    _mm512_mask_storeu_ps(x + i, m, v);
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
  if (block < 16)
    return expand_blocks(n, block, scale, zp,
                         [&](size_t i, size_t c, const float *sb, const int32_t *zb) {
                           quantize_vec(c, x + i, sb, zb, qmin, qmax, q + i);
                         });
  const __m512i qlo = _mm512_set1_epi32(qmin), qhi = _mm512_set1_epi32(qmax);
  each_block(n, block, [&](size_t i, size_t len, size_t b) __attribute__((always_inline)) {
    const __m512i z = _mm512_set1_epi32(zp[b]);
    quantize_run(len, x + i, _mm512_set1_ps(scale[b]), _mm512_cvtepi32_ps(_mm512_sub_epi32(qlo, z)),
                 _mm512_cvtepi32_ps(_mm512_sub_epi32(qhi, z)), z, q + i);
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
    dequantize_run<Signed>(len, q + i, _mm512_set1_ps(scale[b]), _mm512_set1_epi32(zp[b]), x + i);
  });
}

void dequantize_blocks(size_t n, const uint8_t *q, bool q_signed, size_t block,
                       const float *scale, const int32_t *zp, float *x) {
  q_signed ? dequantize_blocks_t<true>(n, q, block, scale, zp, x)
           : dequantize_blocks_t<false>(n, q, block, scale, zp, x);
}

void minmax(size_t n, const float *x, float *mn, float *mx) {
  // The accumulators never hold a NaN: vminps / vmaxps return the 2nd operand (acc) when
  // either is NaN. Which zero a lane keeps depends on order; a zero result is made +0 below.
  __m512 lo0 = _mm512_set1_ps(__builtin_inff()), lo1 = lo0, lo2 = lo0, lo3 = lo0;
  __m512 hi0 = _mm512_set1_ps(-__builtin_inff()), hi1 = hi0, hi2 = hi0, hi3 = hi0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
    lo0 = _mm512_min_ps(a, lo0), hi0 = _mm512_max_ps(a, hi0);
    lo1 = _mm512_min_ps(b, lo1), hi1 = _mm512_max_ps(b, hi1);
    lo2 = _mm512_min_ps(c, lo2), hi2 = _mm512_max_ps(c, hi2);
    lo3 = _mm512_min_ps(d, lo3), hi3 = _mm512_max_ps(d, hi3);
  }
  for (; i < n; i += 16) {  // masked-off lanes keep the accumulator
    const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask(n - i);
    __m512 a = _mm512_maskz_loadu_ps(m, x + i);
    lo0 = _mm512_mask_min_ps(lo0, m, a, lo0);
    hi0 = _mm512_mask_max_ps(hi0, m, a, hi0);
  }
  float lo = _mm512_reduce_min_ps(_mm512_min_ps(_mm512_min_ps(lo0, lo1), _mm512_min_ps(lo2, lo3)));
  float hi = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(hi0, hi1), _mm512_max_ps(hi2, hi3)));
  // A zero result is +0 whichever zero the lanes kept (the contract in kernels.h).
  if (lo == 0.0f) lo = 0.0f;
  if (hi == 0.0f) hi = 0.0f;
  *mn = lo;
  *mx = hi;
}

}  // namespace

const lb_quant_kernels quant_avx512 = {quantize,        quantize_vec,      dequantize,
                                       dequantize_vec,  quantize_blocks,   dequantize_blocks,
                                       minmax};
