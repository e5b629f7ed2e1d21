// Pieces of the 3 x 3 inline-assembly tiles shared by the AVX2 kernels (gemm_avx2.cpp): ymm0-8 accumulate C[i][j] (register 3 i + j), ymm9-11 hold the step's
// three rows of B, ymm12 A, ymm13 a product, ymm14 int16 ones. GCC's allocation of the same
// tiles written with intrinsics copies or spills accumulators every step.
// Include after the file's `#pragma GCC target`.
#pragma once
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

namespace {

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

#define LB_LOAD_B3                         \
  "prefetcht0 512(%[b0],%[k])\n\t"        \
  "prefetcht0 512(%[b1],%[k])\n\t"        \
  "prefetcht0 512(%[b2],%[k])\n\t"        \
  "vmovdqa (%[b0],%[k]), %%ymm9\n\t"      \
  "vmovdqa (%[b1],%[k]), %%ymm10\n\t"     \
  "vmovdqa (%[b2],%[k]), %%ymm11\n\t"
#define LB_ZERO_ACC9                                                                   \
  "vpxor %%xmm0, %%xmm0, %%xmm0\n\t" "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"               \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\t" "vpxor %%xmm3, %%xmm3, %%xmm3\n\t"               \
  "vpxor %%xmm4, %%xmm4, %%xmm4\n\t" "vpxor %%xmm5, %%xmm5, %%xmm5\n\t"               \
  "vpxor %%xmm6, %%xmm6, %%xmm6\n\t" "vpxor %%xmm7, %%xmm7, %%xmm7\n\t"               \
  "vpxor %%xmm8, %%xmm8, %%xmm8\n\t"                                                   \
  "vpcmpeqw %%ymm14, %%ymm14, %%ymm14\n\t" "vpabsw %%ymm14, %%ymm14\n\t" /* ones */
#define LB_STORE_ACC9                                                                  \
  "vmovdqu %%ymm0, 0(%[acc])\n\t" "vmovdqu %%ymm1, 32(%[acc])\n\t"                    \
  "vmovdqu %%ymm2, 64(%[acc])\n\t" "vmovdqu %%ymm3, 96(%[acc])\n\t"                   \
  "vmovdqu %%ymm4, 128(%[acc])\n\t" "vmovdqu %%ymm5, 160(%[acc])\n\t"                 \
  "vmovdqu %%ymm6, 192(%[acc])\n\t" "vmovdqu %%ymm7, 224(%[acc])\n\t"                 \
  "vmovdqu %%ymm8, 256(%[acc])\n\t"
#define LB_CLOBBER_YMM                                                                  \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",       \
      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "memory", "cc"

// The whole tile: zero the accumulators, run `body` for each `step` bytes of k (A rows at
// %[a0] .. %[a2], B rows at %[b0] .. %[b2], offset %[k]), store the accumulators to acc (nine
// __m256i). Needs locals K, A, B, acc and size_t k = 0.
#define LB_TILE3X3_LOOP(body, step)                                                           \
  asm volatile(LB_ZERO_ACC9 "1:\n\t" body                                                     \
               "add $" step ", %[k]\n\t"                                                     \
               "cmp %[K], %[k]\n\t"                                                          \
               "jb 1b\n\t" LB_STORE_ACC9                                                     \
               : [k] "+r"(k)                                                                  \
               : [K] "r"(K), [a0] "r"(A), [a1] "r"(A + K), [a2] "r"(A + 2 * K), [b0] "r"(B),   \
                 [b1] "r"(B + K), [b2] "r"(B + 2 * K), [acc] "r"(acc)                          \
               : LB_CLOBBER_YMM)
// 32 k per step with the three rows of B loaded (prefetched ahead) into ymm9-11 first.
#define LB_TILE3X3_ASM(rows) LB_TILE3X3_LOOP(LB_LOAD_B3 rows, "32")

// The assembly loops run their body before the first test: K = 0 is answered here instead.
inline bool empty3x3(size_t K, int32_t *Y, size_t ldc) {
  if (K) return false;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Y[i * ldc + j] = 0;
  return true;
}

inline void store3x3(const __m256i *acc, int32_t *Y, size_t ldc) {
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Y[i * ldc + j] = hsum_epi32(_mm256_loadu_si256(acc + i * 3 + j));
}

}  // namespace
