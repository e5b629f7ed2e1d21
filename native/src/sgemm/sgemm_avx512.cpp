// Float32 GEMM (Y = A * B^T), AVX-512F: the packed driver's 12 x 32 broadcast-FMA tile (24
// accumulators, 2 B vectors, 1 broadcast A: 27 of the 32 zmm registers), and for a few rows
// of A, 4 x 4 dot-product tiles on the unpacked rows (sgemm_blocking.h says why).
#pragma GCC target("avx512f,avx512bw,avx512vl,fma")
#include <immintrin.h>

#include "../kernels.h"
#include "sgemm_blocking.h"
#include "sgemm_pack_avx2.h"

namespace {

// From this many rows of A on, the packed driver (see sgemm_avx2.cpp).
constexpr size_t kPackedMinM = 32;

struct kernel_avx512_12x32 {
  static constexpr size_t MR = 12, NR = 32;

  static void tile(size_t kc, const float *Ap, const float *Bp, float *Y, size_t ldy,
                   bool accumulate) {
    __m512 acc[MR][2];
    LB_UNROLL for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (size_t k = 0; k < kc; ++k) {
      const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
      LB_UNROLL for (size_t i = 0; i < MR; ++i) {
        const __m512 a = _mm512_set1_ps(Ap[i]);
        acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
      }
      Ap += MR;
      Bp += NR;
    }
    // Y is read after the loop, so a miss on it does not hold the FMAs up.
    LB_UNROLL for (size_t i = 0; i < MR; ++i) {
      if (accumulate) {
        acc[i][0] = _mm512_add_ps(_mm512_loadu_ps(Y + i * ldy), acc[i][0]);
        acc[i][1] = _mm512_add_ps(_mm512_loadu_ps(Y + i * ldy + 16), acc[i][1]);
      }
      _mm512_storeu_ps(Y + i * ldy, acc[i][0]);
      _mm512_storeu_ps(Y + i * ldy + 16, acc[i][1]);
    }
  }

  static void pack_a(size_t kc, const float *A, size_t lda, float *Ap, const float *next) {
    lb_pack_panel_avx2_f32<8, MR>(kc, A, lda, Ap, next);  // rows 0-7 at stride MR, then 8-11
    for (size_t k = 0; k < kc; ++k)
      LB_UNROLL for (size_t i = MR - 4; i < MR; ++i) Ap[k * MR + i] = A[i * lda + k];
  }

  static void pack_b(size_t kc, const float *B, size_t ldb, float *Bp, const float *next) {
    lb_pack_panel_avx2_f32<NR>(kc, B, ldb, Bp, next);
  }
};

// The dot-product tile: 16 accumulators + 4 A + 1 B of 32 registers; the K tail uses masked
// loads.
template <int R, int C>
void dot_tile(size_t K, const float *A, size_t lda, const float *B, size_t ldb, float *Y,
              size_t ldy, bool accumulate) {
  __m512 acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm512_setzero_ps();
  auto step = [&](size_t k, __mmask16 mask) {
    __m512 a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] = _mm512_maskz_loadu_ps(mask, A + i * lda + k);
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m512 b = _mm512_maskz_loadu_ps(mask, B + j * ldb + k);
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
    }
  };
  size_t k = 0;
  for (; k + 16 <= K; k += 16) step(k, (__mmask16)0xFFFF);
  if (k < K) step(k, (__mmask16)((1u << (K - k)) - 1));
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    float v = _mm512_reduce_add_ps(acc[i][j]);
    Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + v : v;
  }
}

}  // namespace

void sgemm_nt_avx512(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                     size_t ldb, float *Y, size_t ldy) {
  if (M >= kPackedMinM && lb_sgemm_packed<kernel_avx512_12x32>(M, N, K, A, lda, B, ldb, Y, ldy))
    return;
  lb_sgemm_dot<4, 4>(M, N, K, Y, ldy, [&](auto r, auto c, size_t m, size_t n, size_t k0,
                                          size_t kc) {
    dot_tile<r.value, c.value>(kc, A + m * lda + k0, lda, B + n * ldb + k0, ldb,
                               Y + m * ldy + n, ldy, k0 > 0);
  });
}
