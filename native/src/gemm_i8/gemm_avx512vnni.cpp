// Raw 8-bit GEMM, AVX-512 VNNI: vpdpbusd (non-saturating) on 512-bit registers.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// 64 k per step: 8 x 3 tiles, 24 accumulators + 3 B + 1 A of the 32 registers: eight rows of
// A (from L1) per row of B loaded (from L2, where the engine's column block lives).
template <int R, int C>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m512i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm512_setzero_si512();
  for (size_t k = 0; k < K; k += 64) {
    __m512i b[C];
    LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_load_si512((const void *)(B + j * K + k));
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i a = _mm512_load_si512((const void *)(A + i * K + k));
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a, b[j]);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      _mm512_reduce_add_epi32(acc[i][j]);
}

}  // namespace

void gemm_u8s8_avx512vnni(size_t M, size_t N, size_t K, const void *Av, const int8_t *B,
                          int32_t *C, size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  lb_for_each_tile<8, 3>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    tile<r.value, c.value>(K, A + m * K, B + n * K, C + m * ldc + n, ldc);
  });
}

const lb_gemm_i8_kernel gemm_i8_avx512vnni = {gemm_u8s8_avx512vnni, false, 1, 1, nullptr, nullptr,
                                              nullptr, false};
