// Peak loops, AVX-512 on 512-bit registers: vfmadd231ps (AVX-512 F) and vpdpbusd (AVX-512
// VNNI). The target is avx512f alone: the VNNI instruction lives in asm, so GCC cannot put
// VNNI code into the float kind, which CPUs with AVX-512 F but no VNNI must still run.
#pragma GCC target("avx512f")
#include <immintrin.h>

#include "peak.h"

namespace {

// 12 chains of 16 floats: latency 4 at 2 per cycle needs 8 in flight. c += 1e-7 * 1 stays
// far from overflow and denormals.
double fma_ps(uint64_t iters) {
  const __m512 a = _mm512_set1_ps(1e-7f), b = _mm512_set1_ps(1.0f);
  __m512 c0 = _mm512_set1_ps(1.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
         c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
#define STEP(i) "vfmadd231ps %[a], %[b], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP12(STEP) : LB_PEAK_OPS12("+v") : [a] "v"(a), [b] "v"(b));
#undef STEP
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                           _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  return _mm512_reduce_add_ps(s);
}

// 12 chains of vpdpbusd zmm: 64 multiply-adds per instruction.
double dpbusd(uint64_t iters) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
#define STEP(i) "vpdpbusd %[b], %[a], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP12(STEP) : LB_PEAK_OPS12("+v") : [a] "v"(a), [b] "v"(b));
#undef STEP
  __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                               _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
  s = _mm512_add_epi32(s, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
  // The lanes wrap (the sum only keeps the loop alive): add them as uint32, not as int, whose
  // overflow _mm512_reduce_add_epi32 would make undefined.
  alignas(64) uint32_t lane[16];
  _mm512_store_si512((void *)lane, s);
  uint32_t sum = 0;
  for (uint32_t v : lane) sum += v;
  return (double)(int32_t)sum;
}

}  // namespace

extern const lb_peak_kind lb_peak_avx512_fma = {"avx512f-vfmadd231ps", LB_CPU_AVX512F,
                                                12 * 16 * 2, fma_ps};
extern const lb_peak_kind lb_peak_avx512vnni_dpbusd = {
    "avx512vnni-vpdpbusd", LB_CPU_AVX512F | LB_CPU_AVX512VNNI, 12 * 64 * 2, dpbusd};
