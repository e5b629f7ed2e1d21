// Raw 8-bit GEMM, AVX-VNNI: vpdpbusd (uint8 x int8, four products summed exactly, then a
// wrapping add; the non-saturating form) on 256-bit registers.
#pragma GCC target("avx2,fma,avxvnni")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"
#include "tile_3x3_avx2.h"

namespace {

// 32 k per step; the tails of the 3 x 3 assembly tile below. (The former 3 x 4 intrinsic
// tile, all of A loaded first, ran at under 40% of the VNNI peak on the lent Xeon.)
template <int R, int C, bool kStream = false>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_si256();
  for (size_t k = 0; k < K; k += 32) {
    __m256i b[C];
    lb_prefetch_b<C, kStream>(B, K, k);
    LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm256_load_si256((const __m256i *)(B + j * K + k));
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m256i a = _mm256_load_si256((const __m256i *)(A + i * K + k));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], a, b[j]);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      hsum_epi32(acc[i][j]);
}

#define LB_ROW_VNNI(a_row, acc0, acc1, acc2)                          \
  "vmovdqa (%[" a_row "],%[k]), %%ymm12\n\t"                          \
  "%{vex%} vpdpbusd %%ymm9, %%ymm12, %%ymm" acc0 "\n\t"                 \
  "%{vex%} vpdpbusd %%ymm10, %%ymm12, %%ymm" acc1 "\n\t"                \
  "%{vex%} vpdpbusd %%ymm11, %%ymm12, %%ymm" acc2 "\n\t"

// The full 3 x 3 tile in assembly (tile_3x3_avx2.h); {vex} asks for the AVX-VNNI encoding,
// which CPUs without AVX-512 run.
void tile_3x3(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[9];
  size_t k = 0;
  if (empty3x3(K, Y, ldc)) return;
  LB_TILE3X3_ASM(
      LB_ROW_VNNI("a0", "0", "1", "2") LB_ROW_VNNI("a1", "3", "4", "5") LB_ROW_VNNI("a2", "6", "7", "8"));
  store3x3(acc, Y, ldc);
}

}  // namespace

void gemm_u8s8_avxvnni(size_t M, size_t N, size_t K, const void *A, const int8_t *B, int32_t *C,
                       size_t ldc) {
  lb_gemm_tiles<3, 3, 4, 2>(
      M, N, K, (const uint8_t *)A, B, C, ldc, 4,
      [&](auto r, auto c, auto stream, auto a, auto b, auto y) {
        tile<r.value, c.value, stream.value>(K, a, b, y, ldc);
      },
      [&](auto a, auto b, auto y) { tile_3x3(K, a, b, y, ldc); });
}

const lb_gemm_i8_kernel gemm_i8_avxvnni = {gemm_u8s8_avxvnni, false, 1, 1, nullptr, nullptr,
                                           nullptr, false};
