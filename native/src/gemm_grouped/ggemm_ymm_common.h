// What the 256-bit grouped kernels share (ggemm_avx2.cpp, ggemm_avxvnni.cpp, wgemm_avx2.cpp, all
// on panels of 8 columns): a group's accumulators at its start, its end (zero points, scales,
// the float add in SPEC §4's order) and the store. Include it after the file's target pragma.
#pragma once
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// One zero point for every column (symmetric weights): the accumulators start at -zp * a_sum,
// one broadcast per row, instead of a vpmulld and a subtraction each at the group's end.
template <int R, int C>
inline void lb_ymm_group_start(const lb_ggemm_args &a, size_t m, size_t g, __m256i (&acc)[R][C]) {
  LB_UNROLL for (int i = 0; i < R; ++i) {
    const __m256i start = a.zp_uniform
        ? _mm256_set1_epi32((int32_t)(0u - (uint32_t)a.w_zp[0] * (uint32_t)a.a_sum[(m + i) * a.groups + g]))
        : _mm256_setzero_si256();
    LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = start;
  }
}

// The 8 scales at index w, float32 or binary16 (widened exactly).
inline __m256 lb_ymm_scales(const float *s32, const uint16_t *s16, size_t w) {
  return s16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s16 + w))) : _mm256_loadu_ps(s32 + w);
}

// The float sums live in registers (__m256) or, in compute-bound tiles that want the registers
// for int32 accumulators, in an L1 tile (float[8], 32-byte aligned).
inline void lb_ymm_add(__m256 &y, __m256 t) { y = _mm256_add_ps(y, t); }
inline void lb_ymm_add(float (&y)[8], __m256 t) { _mm256_store_ps(y, _mm256_add_ps(_mm256_load_ps(y), t)); }
inline __m256 lb_ymm_get(const __m256 &y) { return y; }
inline __m256 lb_ymm_get(const float (&y)[8]) { return _mm256_load_ps(y); }
template <bool kMem> struct lb_ymm_sum { typedef __m256 type; };  // (no __m256 template argument:
template <> struct lb_ymm_sum<true> { typedef float type[8]; };    // GCC drops its attributes)

template <int R, int C, class YT>
inline void lb_ymm_group_end(const lb_ggemm_args &a, size_t m, size_t p, size_t g, __m256i (&acc)[R][C],
                             YT (&y)[R][C]) {
  LB_UNROLL for (int j = 0; j < C; ++j) {
    const size_t w = ((p + j) * a.groups + g) * 8;
    const __m256 ws = lb_ymm_scales(a.w_scale, a.w_scale16, w);
    // Symmetric weights never read w_zp (as ggemm_avx512vnni.cpp: it was a quarter of the bytes).
    const __m256i zp = a.zp_uniform ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(a.w_zp + w));
    LB_UNROLL for (int i = 0; i < R; ++i) {
      __m256i v = a.zp_uniform ? acc[i][j] : _mm256_sub_epi32(acc[i][j],
          _mm256_mullo_epi32(zp, _mm256_set1_epi32(a.a_sum[(m + i) * a.groups + g])));
      if (a.a_zp)
        v = _mm256_sub_epi32(v, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(a.w_qsum + w)),
                                                   _mm256_set1_epi32(a.a_zp[m + i])));
      const __m256 s = _mm256_mul_ps(_mm256_set1_ps(a.a_scale[m + i]), ws);
      lb_ymm_add(y[i][j], _mm256_mul_ps(_mm256_cvtepi32_ps(v), s));
    }
  }
}

// y (+ bias) to Y: rows m .., panels p .. of 8 columns.
template <int R, int C, class YT>
inline void lb_ymm_store(const float *bias, float *Y, size_t ldy, size_t m, size_t p, YT (&y)[R][C]) {
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    __m256 v = lb_ymm_get(y[i][j]);
    const size_t n = (p + j) * 8;
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + n));
    _mm256_storeu_ps(Y + (m + i) * ldy + n, v);
  }
}

}  // namespace
