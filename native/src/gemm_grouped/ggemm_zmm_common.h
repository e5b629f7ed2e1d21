// What the 512-bit grouped kernels share (ggemm_avx512vnni.cpp, ggemm_amx.cpp, panels of 16
// columns): a group's end in SPEC §4's order. Include it after the file's target pragma.
#pragma once
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// The 16 scales at index w, float32 or binary16 (widened exactly).
inline __m512 lb_zmm_scales(const lb_ggemm_args &a, size_t w) {
  return a.w_scale16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a.w_scale16 + w)))
                     : _mm512_loadu_ps(a.w_scale + w);
}

// Row `row`'s term of group g for the 16 columns at w: float(acc - zero-point terms) * (a_scale
// * w_scale). kUniform: v already holds the symmetric weights' -zp * a_sum (it started there);
// otherwise a zero point per column and group is subtracted here (symmetric weights never read
// w_zp: 64 bytes a panel and group, a quarter of int4 g32's own bytes).
template <bool kUniform>
inline __m512 lb_zmm_group_term(const lb_ggemm_args &a, size_t row, size_t g, size_t w, __m512i v, __m512 ws) {
  if (!kUniform)
    v = _mm512_sub_epi32(v, _mm512_mullo_epi32(_mm512_loadu_si512((const void *)(a.w_zp + w)),
                                               _mm512_set1_epi32(a.a_sum[row * a.groups + g])));
  if (a.a_zp)
    v = _mm512_sub_epi32(v, _mm512_mullo_epi32(_mm512_loadu_si512((const void *)(a.w_qsum + w)),
                                               _mm512_set1_epi32(a.a_zp[row])));
  return _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_set1_ps(a.a_scale[row]), ws));
}

// Group g's end for an R x C tile at rows m, panels p: add(i, j, term) receives each
// accumulator's term as lb_zmm_group_term computes it. The zero-point corrections are passes
// of their own, each behind one test per group, so the common case (symmetric weights that
// started at -zp * a_sum, no activation zero points) is straight-line code: with the tests per
// accumulator, GCC kept them in the 6 x 4 tile's group end, and that end took 47% of the
// tile's time at int4 g32 (perf, AMD host).
template <bool kUniform, int R, int C, class Add>
inline void lb_zmm_group_end(const lb_ggemm_args &a, size_t m, size_t p, size_t g, __m512i (&acc)[R][C], Add &&add) {
  size_t w[C];
  __m512 ws[C];
  LB_UNROLL for (int j = 0; j < C; ++j) {
    w[j] = ((p + j) * a.groups + g) * 16;
    ws[j] = lb_zmm_scales(a, w[j]);
  }
  if (!kUniform) LB_UNROLL for (int j = 0; j < C; ++j) {
    const __m512i zp = _mm512_loadu_si512((const void *)(a.w_zp + w[j]));
    LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_sub_epi32(acc[i][j],
        _mm512_mullo_epi32(zp, _mm512_set1_epi32(a.a_sum[(m + i) * a.groups + g])));
  }
  if (a.a_zp) LB_UNROLL for (int j = 0; j < C; ++j) {
    const __m512i qs = _mm512_loadu_si512((const void *)(a.w_qsum + w[j]));
    LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_sub_epi32(acc[i][j],
        _mm512_mullo_epi32(qs, _mm512_set1_epi32(a.a_zp[m + i])));
  }
  LB_UNROLL for (int i = 0; i < R; ++i) {
    const __m512 as = _mm512_set1_ps(a.a_scale[m + i]);
    LB_UNROLL for (int j = 0; j < C; ++j) add(i, j, _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i][j]), _mm512_mul_ps(as, ws[j])));
  }
}

// Symmetric weights' start of row `row` in group g: -zp * a_sum, modulo 2^32.
inline int32_t lb_group_start(const lb_ggemm_args &a, size_t row, size_t g) {
  return (int32_t)(0u - (uint32_t)a.w_zp[0] * (uint32_t)a.a_sum[row * a.groups + g]);
}

}  // namespace
