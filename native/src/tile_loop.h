// Walks an M x N output in MR x NR register tiles. The callback gets the tile's size as
// compile-time constants (std::integral_constant), so the tails (R < MR or C < NR) run the
// same SIMD code with fewer registers instead of a scalar slow path.
//
// Include it after the ISA file's `#pragma GCC target`, so the instantiations get that target;
// the callbacks are lambdas local to each ISA file, so no two files share an instantiation.
#pragma once
#include <stddef.h>

#include <type_traits>

template <int R, int C, class F>
inline void lb_tile_cols(size_t m, size_t n, size_t nr, F &f) {
  if constexpr (C > 0) {
    if (nr == (size_t)C)
      f(std::integral_constant<int, R>{}, std::integral_constant<int, C>{}, m, n);
    else
      lb_tile_cols<R, C - 1>(m, n, nr, f);
  }
}

template <int R, int NR, class F>
inline void lb_tile_row(size_t m, size_t N, F &f) {
  size_t n = 0;
  for (; n + NR <= N; n += NR)
    f(std::integral_constant<int, R>{}, std::integral_constant<int, NR>{}, m, n);
  if (n < N) lb_tile_cols<R, NR - 1>(m, n, N - n, f);
}

template <int R, int NR, class F>
inline void lb_tile_rows_tail(size_t m, size_t mr, size_t N, F &f) {
  if constexpr (R > 0) {
    if (mr == (size_t)R)
      lb_tile_row<R, NR>(m, N, f);
    else
      lb_tile_rows_tail<R - 1, NR>(m, mr, N, f);
  }
}

template <int MR, int NR, class F>
inline void lb_for_each_tile(size_t M, size_t N, F &&f) {
  size_t m = 0;
  for (; m + MR <= M; m += MR) lb_tile_row<MR, NR>(m, N, f);
  if (m < M) lb_tile_rows_tail<MR - 1, NR>(m, M - m, N, f);
}

#define LB_UNROLL _Pragma("GCC unroll 16")
