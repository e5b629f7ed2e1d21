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

// The grouped GEMV tiles, 4 and 2 bits in groups of 32: f(rows, cols, chunks, m, n) with a
// group's chunk count as a third constant in the full MR x NR tiles (0 in the tails: a loop),
// so that those unroll a group whole. Loop and pointer updates were a third of the instructions
// between group ends (AMD host, 1 thread, int4 g32 1 x 4096 x 4096, AVX-512 VNNI: 0.129-0.150
// -> 0.109-0.126 ms); groups of 64 k or more unrolled ran no faster, or slower.
template <int MR, int NR, size_t kChunks, class F>
inline void lb_for_each_tile_g32(size_t M, size_t N, F &&f) {
  lb_for_each_tile<MR, NR>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    f(r, c, std::integral_constant<size_t, r.value == MR && c.value == NR ? kChunks : 0>{}, m, n);
  });
}

// An int8 kernel's tiles over its M x N block (rows of A and B K bytes apart, Y ldc apart).
// Up to stream_m rows, GEMV-like: B comes from memory and is used once or twice, so the rows
// of A meet it in as few passes as possible, in tiles of 2 x NR2 up to M = 2, else 4 x NR4 (the
// widest that keep each ISA's accumulators in registers), which prefetch B for streaming
// (lb_prefetch_b<C, true>). Beyond, MR x NR tiles, the full ones by `full` when the ISA has an
// assembly tile. tile(rows, cols, stream, A, B, Y) gets rows, cols and stream as constants
// (std::integral_constant); full(A, B, Y).
struct lb_no_full_tile {};
template <int MR, int NR, int NR2, int NR4, class TA, class Tile, class Full = lb_no_full_tile>
inline void lb_gemm_tiles(size_t M, size_t N, size_t K, const TA *A, const int8_t *B, int32_t *Y,
                          size_t ldc, size_t stream_m, Tile &&tile, Full &&full = {}) {
  auto at = [&](auto r, auto c, auto stream, size_t m, size_t n) {
    tile(r, c, stream, A + m * K, B + n * K, Y + m * ldc + n);
  };
  if (M <= stream_m) {
    auto streaming = [&](auto r, auto c, size_t m, size_t n) { at(r, c, std::true_type{}, m, n); };
    if (M <= 2)
      lb_for_each_tile<2, NR2>(M, N, streaming);
    else
      lb_for_each_tile<4, NR4>(M, N, streaming);
    return;
  }
  lb_for_each_tile<MR, NR>(M, N, [&](auto r, auto c, size_t m, size_t n) {
    if constexpr (r.value == MR && c.value == NR && !std::is_same_v<std::decay_t<Full>, lb_no_full_tile>)
      full(A + m * K, B + n * K, Y + m * ldc + n);
    else
      at(r, c, std::false_type{}, m, n);
  });
}

// B's prefetch at byte k of a tile's C rows of B (K bytes apart, the next tile's rows right
// after them, as the packed layout has them). Compute-bound tiles (kStream false) fetch each
// row 512 bytes ahead into L1, as the 3 x 3 assembly tiles do. Streaming tiles (small M, B
// used once) fetch the next tile's rows into L2, a line per row every 64 bytes: the stream is
// then a whole tile ahead and each new tile starts warm instead of on cold rows. The small-M
// path as a whole (these tiles, this prefetch) on the AMD host, 11008 x 4096 weights, median
// GOPS of interleaved runs: M = 1 21.7 -> 27.0, M = 2 39 -> 49, M = 4 54 -> 78.
template <int C, bool kStream>
inline void lb_prefetch_b(const int8_t *B, size_t K, size_t k) {
  for (int j = 0; j < C; ++j) {
    if (!kStream)
      __builtin_prefetch(B + j * K + k + 512, 0, 3);
    else if ((k & 63) == 0)
      __builtin_prefetch(B + (C + j) * K + k, 0, 2);
  }
}

#define LB_UNROLL _Pragma("GCC unroll 16")
