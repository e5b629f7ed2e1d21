// Float32 GEMM (Y = A * B^T), AVX2 + FMA: the packed driver's 6 x 16 broadcast-FMA tile (12
// accumulators, 2 B vectors, 1 broadcast A: 15 of the 16 ymm registers), and for a few rows of
// A, 3 x 4 dot-product tiles on the unpacked rows (sgemm_blocking.h says why).
#pragma GCC target("avx2,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "sgemm_blocking.h"
#include "sgemm_pack_avx2.h"

namespace {

// From this many rows of A on, the packed driver. Below, the dot tiles on B's rows: B is used
// by too few rows of A to repay the packing pass over it (a transpose of rows far apart, slow
// on memory), measured on a Zen 3 (N = K = 4096): 16 rows 39 vs 28 GFLOP/s, 32 rows 39 vs 42.
constexpr size_t kPackedMinM = 32;

struct kernel_avx2_6x16 {
  static constexpr size_t MR = 6, NR = 16;

  static void tile(size_t kc, const float *Ap, const float *Bp, float *Y, size_t ldy,
                   bool accumulate) {
    __m256 acc[MR][2];
    LB_UNROLL for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (size_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
      LB_UNROLL for (size_t i = 0; i < MR; ++i) {
        const __m256 a = _mm256_broadcast_ss(Ap + i);
        acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
      }
      Ap += MR;
      Bp += NR;
    }
    // Y is read after the loop, so a miss on it does not hold the FMAs up.
    LB_UNROLL for (size_t i = 0; i < MR; ++i) {
      if (accumulate) {
        acc[i][0] = _mm256_add_ps(_mm256_loadu_ps(Y + i * ldy), acc[i][0]);
        acc[i][1] = _mm256_add_ps(_mm256_loadu_ps(Y + i * ldy + 8), acc[i][1]);
      }
      _mm256_storeu_ps(Y + i * ldy, acc[i][0]);
      _mm256_storeu_ps(Y + i * ldy + 8, acc[i][1]);
    }
  }

  // MR rows: few enough that a plain loop is as good as a transpose.
  static void pack_a(size_t kc, const float *A, size_t lda, float *Ap, const float *next) {
    for (size_t k = 0; k < kc; ++k) {
      if (next && k % 16 == 0)
        LB_UNROLL for (size_t i = 0; i < MR; ++i) _mm_prefetch((const char *)(next + i * lda + k),
                                                               _MM_HINT_T1);
      LB_UNROLL for (size_t i = 0; i < MR; ++i) Ap[k * MR + i] = A[i * lda + k];
    }
  }

  static void pack_b(size_t kc, const float *B, size_t ldb, float *Bp, const float *next) {
    lb_pack_panel_avx2_f32<NR>(kc, B, ldb, Bp, next);
  }
};

inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// `mask` selects the valid lanes of the last, partial step of K.
inline __m256 load(const float *p, bool partial, __m256i mask) {
  return partial ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

// The dot-product tile: 12 accumulators + 3 A + 1 B registers; the K tail uses masked loads.
template <int R, int C>
void dot_tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
              size_t ldy, bool accumulate) {
  __m256 acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_ps();
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  auto step = [&](size_t k, bool partial, __m256i mask) {
    __m256 a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = load(A + i * lda + k, partial, mask);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m256 b = load(B + j * ldb + k, partial, mask);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm256_fmadd_ps(a[i], b, acc[i][j]);
    }
  };
  size_t k = 0;
  for (; k + 8 <= K; k += 8) step(k, false, lane);
  if (k < K) step(k, true, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane));
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float v = hsum_ps(acc[i][j]);
    Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + v : v;
  }
}

}  // namespace

void sgemm_nt_avx2(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                   size_t ldb, float *Y, size_t ldy) {
  if (M >= kPackedMinM && lb_sgemm_packed<kernel_avx2_6x16>(M, N, K, A, lda, B, ldb, Y, ldy))
    return;
  lb_sgemm_dot<3, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                          size_t kc) {
    dot_tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb,
                               Y + m * ldy + n, ldy, k0 > 0);
  });
}
