// What the 512-bit grouped kernels share (ggemm_avx512vnni.cpp, ggemm_amx.cpp, panels of 16
// columns): a group's end in SPEC §4's order. Include it after the file's target pragma.
#pragma once
#include <immintrin.h>

#include "../kernels.h"

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

// Symmetric weights' start of row `row` in group g: -zp * a_sum, modulo 2^32.
inline int32_t lb_group_start(const lb_ggemm_args &a, size_t row, size_t g) {
  return (int32_t)(0u - (uint32_t)a.w_zp[0] * (uint32_t)a.a_sum[row * a.groups + g]);
}

}  // namespace
