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

// prefetcht0 through asm: GCC 12 deleted _mm_prefetch as dead code in the helper below once it
// was inlined with a constant distance (no prefetch left in the object).
inline void lb_prefetch_l1(const void *p) { __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p)); }

// At group g, the scales of group g + ahead for the C panels from p fetched into L1 (nothing
// past the last group; binary16 scales at even g only: a line holds two groups' of a panel), for
// the tiles that stream the weights once: each panel's scales are a stream of their own beside
// its weights, which the weights' fetches ahead do not cover. Args: lb_ggemm_args or
// lb_wgemm_args.
template <int C, class Args>
inline void lb_zmm_prefetch_scales(const Args &a, size_t p, size_t g, size_t ahead) {
  if ((a.w_scale16 && g % 2) || g + ahead >= a.groups) return;
  LB_UNROLL for (int j = 0; j < C; ++j) {
    const size_t w = ((p + j) * a.groups + g + ahead) * 16;
    lb_prefetch_l1(a.w_scale16 ? (const void *)(a.w_scale16 + w) : (const void *)(a.w_scale + w));
  }
}

// Group g's scales for the C panels from p.
template <int C>
inline void lb_zmm_group_scales(const lb_ggemm_args &a, size_t p, size_t g, __m512 (&ws)[C]) {
  LB_UNROLL for (int j = 0; j < C; ++j) ws[j] = lb_zmm_scales(a, ((p + j) * a.groups + g) * 16);
}

// Group g's end for an R x C tile at rows m, panels p (ws: the group's scales): add(i, j, term)
// receives each accumulator's term float(acc - zero-point terms) * (a_scale * w_scale), SPEC §4.
// kUniform: acc already holds the symmetric weights' -zp * a_sum (it started there, and w_zp is
// never read: 64 bytes a panel and group, a quarter of int4 g32's own bytes); otherwise a zero
// point per column and group is subtracted here. The zero-point corrections are passes of their
// own, each behind one test per group, so the common case (symmetric weights, no activation
// zero points) is straight-line code: with tests per accumulator GCC kept them in the 6 x 4
// tile's group end, which took 47% of that tile's time at int4 g32 (perf, AMD host).
template <bool kUniform, int R, int C, class Add>
inline void lb_zmm_group_end(const lb_ggemm_args &a, size_t m, size_t p, size_t g, const __m512 (&ws)[C],
                             __m512i (&acc)[R][C], Add &&add) {
  if (!kUniform) LB_UNROLL for (int j = 0; j < C; ++j) {
    const __m512i zp = _mm512_loadu_si512((const void *)(a.w_zp + ((p + j) * a.groups + g) * 16));
    LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_sub_epi32(acc[i][j],
        _mm512_mullo_epi32(zp, _mm512_set1_epi32(a.a_sum[(m + i) * a.groups + g])));
  }
  if (a.a_zp) LB_UNROLL for (int j = 0; j < C; ++j) {
    const __m512i qs = _mm512_loadu_si512((const void *)(a.w_qsum + ((p + j) * a.groups + g) * 16));
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
