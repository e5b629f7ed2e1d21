// Raw 8-bit GEMM, AVX-512 VNNI: vpdpbusd (non-saturating) on 512-bit registers.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// The sums of four accumulators' 16 lanes, in one 128-bit vector: two rounds of unpack-and-add
// leave each 128-bit lane holding [a, b, c, d] partial sums, two halvings add the lanes. 13
// instructions for four outputs, where _mm512_reduce_add_epi32 takes about 8 for each one; at
// K = 1024 an 8 x 3 tile runs only 16 steps, so its 24 reductions are not small beside them.
inline __m128i reduce4(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
  const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
  const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// 64 k per step: 8 x 3 tiles, 24 accumulators + 3 B + 1 A of the 32 registers: eight rows of
// A (from L1) per row of B loaded (from L2, where the engine's column block lives). Small M
// uses 2 x 8 and 4 x 4 tiles that stream B (lb_gemm_tiles).
template <int R, int C, bool kStream = false>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m512i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm512_setzero_si512();
  for (size_t k = 0; k < K; k += 64) {
    __m512i b[C];
    if (kStream) lb_prefetch_b<C, true>(B, K, k);
    LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_load_si512((const void *)(B + j * K + k));
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i a = _mm512_load_si512((const void *)(A + i * K + k));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a, b[j]);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      _mm512_reduce_add_epi32(acc[i][j]);
}

// One row of A against the three rows of B in zmm24-26 (AT&T order: B, A, accumulator).
#define LB_ROW_8X3(a_mem, acc0, acc1, acc2)                 \
  "vmovdqa64 " a_mem ", %%zmm27\n\t"                        \
  "vpdpbusd %%zmm24, %%zmm27, %%zmm" acc0 "\n\t"            \
  "vpdpbusd %%zmm25, %%zmm27, %%zmm" acc1 "\n\t"            \
  "vpdpbusd %%zmm26, %%zmm27, %%zmm" acc2 "\n\t"
#define LB_ZERO4(a, b, c, d)                                                          \
  "vpxord %%zmm" a ", %%zmm" a ", %%zmm" a "\n\tvpxord %%zmm" b ", %%zmm" b ", %%zmm" b \
  "\n\tvpxord %%zmm" c ", %%zmm" c ", %%zmm" c "\n\tvpxord %%zmm" d ", %%zmm" d ", %%zmm" d "\n\t"
#define LB_SAVE4(a, b, c, d)                                                    \
  "vmovdqa64 %%zmm" a ", " a "*64(%[buf])\n\tvmovdqa64 %%zmm" b ", " b "*64(%[buf])\n\t" \
  "vmovdqa64 %%zmm" c ", " c "*64(%[buf])\n\tvmovdqa64 %%zmm" d ", " d "*64(%[buf])\n\t"

// The full 8 x 3 tile in assembly: accumulator (i, j) in zmm(3i + j), B in zmm24-26, A in
// zmm27. GCC's allocation of the intrinsic version moved accumulators between registers and
// the stack inside the loop once the reduction below was added. The accumulators leave
// through memory and are reduced four at a time (reduce4).
void tile_8x3(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  alignas(64) int32_t buf[24][16];
  const uint8_t *a0 = A, *a4 = A + 4 * K;
  const int8_t *b = B;
  const size_t K3 = 3 * K;
  size_t steps = K / 64;
  asm volatile(
      LB_ZERO4("0", "1", "2", "3") LB_ZERO4("4", "5", "6", "7") LB_ZERO4("8", "9", "10", "11")
      LB_ZERO4("12", "13", "14", "15") LB_ZERO4("16", "17", "18", "19")
      LB_ZERO4("20", "21", "22", "23")
      "test %[n], %[n]\n\t"
      "jz 2f\n\t"
      ".p2align 4\n"
      "1:\n\t"
      "vmovdqa64 (%[b]), %%zmm24\n\t"
      "vmovdqa64 (%[b],%[K]), %%zmm25\n\t"
      "vmovdqa64 (%[b],%[K],2), %%zmm26\n\t"
      LB_ROW_8X3("(%[a0])", "0", "1", "2") LB_ROW_8X3("(%[a0],%[K])", "3", "4", "5")
      LB_ROW_8X3("(%[a0],%[K],2)", "6", "7", "8") LB_ROW_8X3("(%[a0],%[K3])", "9", "10", "11")
      LB_ROW_8X3("(%[a4])", "12", "13", "14") LB_ROW_8X3("(%[a4],%[K])", "15", "16", "17")
      LB_ROW_8X3("(%[a4],%[K],2)", "18", "19", "20") LB_ROW_8X3("(%[a4],%[K3])", "21", "22", "23")
      "add $64, %[a0]\n\t"
      "add $64, %[a4]\n\t"
      "add $64, %[b]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n"
      "2:\n\t"
      LB_SAVE4("0", "1", "2", "3") LB_SAVE4("4", "5", "6", "7") LB_SAVE4("8", "9", "10", "11")
      LB_SAVE4("12", "13", "14", "15") LB_SAVE4("16", "17", "18", "19")
      LB_SAVE4("20", "21", "22", "23")
      : [a0] "+r"(a0), [a4] "+r"(a4), [b] "+r"(b), [n] "+r"(steps)
      : [K] "r"(K), [K3] "r"(K3), [buf] "r"(buf)
      : "memory", "zmm0", "zmm1", "zmm2", "zmm3", "zmm4", "zmm5", "zmm6", "zmm7", "zmm8", "zmm9",
        "zmm10", "zmm11", "zmm12", "zmm13", "zmm14", "zmm15", "zmm16", "zmm17", "zmm18", "zmm19",
        "zmm20", "zmm21", "zmm22", "zmm23", "zmm24", "zmm25", "zmm26", "zmm27");
  LB_UNROLL for (int t = 0; t < 24; t += 4) {
    alignas(16) int32_t s[4];
    _mm_store_si128((__m128i *)s, reduce4(_mm512_load_si512(buf[t]), _mm512_load_si512(buf[t + 1]),
                                          _mm512_load_si512(buf[t + 2]),
                                          _mm512_load_si512(buf[t + 3])));
    LB_UNROLL for (int q = 0; q < 4; ++q) Y[(t + q) / 3 * ldc + (t + q) % 3] = s[q];
  }
}

}  // namespace

void gemm_u8s8_avx512vnni(size_t M, size_t N, size_t K, const void *A, const int8_t *B,
                          int32_t *C, size_t ldc) {
  lb_gemm_tiles<8, 3, 8, 4>(
      M, N, K, (const uint8_t *)A, B, C, ldc, 4,
      [&](auto r, auto c, auto stream, auto a, auto b, auto y) {
        tile<r.value, c.value, stream.value>(K, a, b, y, ldc);
      },
      [&](auto a, auto b, auto y) { tile_8x3(K, a, b, y, ldc); });
}

const lb_gemm_i8_kernel gemm_i8_avx512vnni = {gemm_u8s8_avx512vnni, false, 1, 1, nullptr, nullptr,
                                              nullptr, false};
