// Raw 8-bit GEMM, AVX-VNNI: vpdpbusd (uint8 x int8, four products summed exactly, then a
// wrapping add; the non-saturating form) on 256-bit registers.
#pragma GCC target("avx2,fma,avxvnni")
#include <immintrin.h>

#include "../kernels.h"
#include "../tile_loop.h"

namespace {

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// 32 k per step: 12 accumulators + 3 A + 1 B registers.
template <int R, int C>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_si256();
  for (size_t k = 0; k < K; k += 32) {
    __m256i a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = _mm256_load_si256((const __m256i *)(A + i * K + k));
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m256i b = _mm256_load_si256((const __m256i *)(B + j * K + k));
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], a[i], b);
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      hsum_epi32(acc[i][j]);
}

}  // namespace

void gemm_u8s8_avxvnni(size_t M, size_t N, size_t K, const void *Av, const int8_t *B, int32_t *C,
                       size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  lb_for_each_tile<3, 4>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    tile<r.value, c.value>(K, A + m * K, B + n * K, C + m * ldc + n, ldc);
  });
}

const lb_gemm_i8_kernel gemm_i8_avxvnni = {gemm_u8s8_avxvnni, false, 1, 1, nullptr, nullptr,
                                           nullptr, false};
