// Peak loops, AVX2 + FMA on 256-bit registers (AT&T operand order: sources first, then the
// destination). Operations: 2 per multiply-add; vpmaddwd by ones only widens, so it counts none.
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "peak.h"

namespace {

double hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

double hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 12 chains of vfmadd231ps: latency 4-5 at 2 per cycle needs 8-10 in flight. c += 1e-7 * 1
// stays far from overflow and from denormals (which would slow the loop) for any iters.
double fma_ps(uint64_t iters) {
  const __m256 a = _mm256_set1_ps(1e-7f), b = _mm256_set1_ps(1.0f);
  __m256 c0 = _mm256_set1_ps(1.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
         c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
#define STEP(i) "vfmadd231ps %[a], %[b], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP12(STEP) : LB_PEAK_OPS12("+x") : [a] "x"(a), [b] "x"(b));
#undef STEP
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  return hsum_ps(s);
}

double sum8(__m256i c0, __m256i c1, __m256i c2, __m256i c3, __m256i c4, __m256i c5, __m256i c6,
            __m256i c7) {
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                               _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  return hsum_epi32(s);
}

// uint8 x int8: vpmaddubsw (32 products, pairs summed to int16, saturating), vpmaddwd by ones
// (pairs to int32), vpaddd into the chain: 32 multiply-adds per step. The chains' only
// loop-carried dependency is the 1-cycle vpaddd, so 8 chains are plenty.
double maddubs(uint64_t iters) {
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-5), ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, t;
#define STEP(i)                          \
  "vpmaddubsw %[b], %[a], %[t]\n\t"      \
  "vpmaddwd %[ones], %[t], %[t]\n\t"     \
  "vpaddd %[t], %[c" #i "], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP8(STEP)
                 : LB_PEAK_OPS8("+x"), [t] "=&x"(t)
                 : [a] "x"(a), [b] "x"(b), [ones] "x"(ones));
#undef STEP
  return sum8(c0, c1, c2, c3, c4, c5, c6, c7);
}

// int8 x int8 exactly, the "sign trick": vpmaddubsw wants an unsigned operand, so it gets
// |a| (computed once per A register in a kernel, here once) and b with a's sign moved onto it
// (vpsignb, once per pair of operands); then as above. 32 multiply-adds per step.
double sign_maddubs(uint64_t iters) {
  const __m256i a = _mm256_set1_epi8(-7), abs_a = _mm256_abs_epi8(a), b = _mm256_set1_epi8(5);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, t;
#define STEP(i)                          \
  "vpsignb %[a], %[b], %[t]\n\t"         \
  "vpmaddubsw %[t], %[abs_a], %[t]\n\t"  \
  "vpmaddwd %[ones], %[t], %[t]\n\t"     \
  "vpaddd %[t], %[c" #i "], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP8(STEP)
                 : LB_PEAK_OPS8("+x"), [t] "=&x"(t)
                 : [a] "x"(a), [abs_a] "x"(abs_a), [b] "x"(b), [ones] "x"(ones));
#undef STEP
  return sum8(c0, c1, c2, c3, c4, c5, c6, c7);
}

// 7-bit activations: two vpmaddubsw results added in int16 (exact while |a| <= 63), one
// vpmaddwd and one vpaddd for both: 64 multiply-adds per step for 3 multiplier instructions
// instead of 4.
double maddubs2(uint64_t iters) {
  const __m256i a0 = _mm256_set1_epi8(3), a1 = _mm256_set1_epi8(9), b0 = _mm256_set1_epi8(-5);
  const __m256i b1 = _mm256_set1_epi8(7), ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
          c7 = c0, t0, t1;
#define STEP(i)                          \
  "vpmaddubsw %[b0], %[a0], %[t0]\n\t"   \
  "vpmaddubsw %[b1], %[a1], %[t1]\n\t"   \
  "vpaddw %[t1], %[t0], %[t0]\n\t"       \
  "vpmaddwd %[ones], %[t0], %[t0]\n\t"   \
  "vpaddd %[t0], %[c" #i "], %[c" #i "]\n\t"
  for (uint64_t n = 0; n < iters; ++n)
    asm volatile(LB_PEAK_REP8(STEP)
                 : LB_PEAK_OPS8("+x"), [t0] "=&x"(t0), [t1] "=&x"(t1)
                 : [a0] "x"(a0), [a1] "x"(a1), [b0] "x"(b0), [b1] "x"(b1), [ones] "x"(ones));
#undef STEP
  return sum8(c0, c1, c2, c3, c4, c5, c6, c7);
}

}  // namespace

extern const lb_peak_kind lb_peak_avx2_fma = {"avx2-vfmadd231ps", LB_CPU_AVX2, 12 * 8 * 2, fma_ps};
extern const lb_peak_kind lb_peak_avx2_maddubs = {"avx2-vpmaddubsw-vpmaddwd-vpaddd", LB_CPU_AVX2,
                                                  8 * 32 * 2, maddubs};
extern const lb_peak_kind lb_peak_avx2_sign_maddubs = {
    "avx2-vpsignb-vpmaddubsw-vpmaddwd-vpaddd", LB_CPU_AVX2, 8 * 32 * 2, sign_maddubs};
extern const lb_peak_kind lb_peak_avx2_maddubs2 = {"avx2-2vpmaddubsw-vpaddw-vpmaddwd-vpaddd",
                                                   LB_CPU_AVX2, 8 * 64 * 2, maddubs2};
