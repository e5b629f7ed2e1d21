// Cache blocking shared by the float32 GEMM kernels (Y = A * B^T, B is N x K).
// K is cut into KC-long panels and N into NC-column blocks, so one block of B (NC x KC floats,
// 192 KiB) stays in L2 while every row of A passes over it; the register tiles then read A and
// B panels from L1/L2. Tile(r, c, m, n, k0, kc) computes an r x c tile over one K panel and
// adds it to Y when k0 > 0.
#pragma once
#include <string.h>

#include "../tile_loop.h"

template <int MR, int NR, class Tile>
inline void lb_sgemm_blocked(size_t M, size_t N, size_t K, float *Y, size_t ldy, Tile &&tile) {
  constexpr size_t KC = 512, NC = 96;
  if (K == 0) {
    for (size_t m = 0; m < M; ++m) memset(Y + m * ldy, 0, N * sizeof(float));
    return;
  }
  for (size_t k0 = 0; k0 < K; k0 += KC) {
    const size_t kc = K - k0 < KC ? K - k0 : KC;
    for (size_t n0 = 0; n0 < N; n0 += NC) {
      const size_t nc = N - n0 < NC ? N - n0 : NC;
      lb_for_each_tile<MR, NR>(M, nc, [&](auto r, auto c, size_t m, size_t n) {
        tile(r, c, m, n0 + n, k0, kc);
      });
    }
  }
}
