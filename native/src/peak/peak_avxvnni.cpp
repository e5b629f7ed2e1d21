// Peak loop, AVX-VNNI: vpdpbusd on 256-bit registers (uint8 x int8, four products summed into
// each int32 lane: 32 multiply-adds per instruction). "{vex}" forces the VEX (AVX-VNNI)
// encoding; the plain mnemonic assembles to the EVEX (AVX-512 VNNI) one, which CPUs with
// AVX-VNNI alone do not run.
#pragma GCC target("avx2,fma,avxvnni")
#include <immintrin.h>

#include "peak.h"

namespace {

// 12 chains: latency 4-5 at up to 2 per cycle.
double dpbusd(uint64_t iters) {
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-5);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
#define STEP(i) "%{vex%} vpdpbusd %[b], %[a], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP12(STEP) : LB_PEAK_OPS12("+x") : [a] "x"(a), [b] "x"(b));
#undef STEP
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                               _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_add_epi32(c8, c9), _mm256_add_epi32(c10, c11)));
  alignas(32) int32_t lanes[8];
  _mm256_store_si256((__m256i *)lanes, s);
  double sum = 0;
  for (int32_t v : lanes) sum += v;
  return sum;
}

}  // namespace

extern const lb_peak_kind lb_peak_avxvnni_dpbusd = {"avxvnni-vpdpbusd",
                                                    LB_CPU_AVX2 | LB_CPU_AVXVNNI, 12 * 32 * 2,
                                                    dpbusd};
