// The end of a K x N byte kernel (gemv_u8_avx512vnni.cpp, gemv_u8_avxvnni.cpp): its sums wait
// in P (and S) in the unpacks' column order, W columns a block; each block goes into column
// order in place (to_columns), the partial last block from the kernel's local tile. With K = 0
// no block ran, and the rows are zero.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace {

template <size_t W, class ToColumns>
void kn_finish(size_t M, size_t N, size_t K, int32_t *P, size_t ldp, int32_t *S, int32_t (*tail)[W],
               ToColumns &&to_columns) {
  const size_t whole = N / W * W, rows = M + (S ? 1 : 0);
  for (size_t m = 0; m < rows; ++m) {
    int32_t *row = m < M ? P + m * ldp : S;
    if (K == 0) {
      memset(row, 0, N * sizeof(int32_t));
      continue;
    }
    for (size_t n = 0; n < whole; n += W) to_columns(row + n);
    if (whole < N) {
      to_columns(tail[m]);
      memcpy(row + whole, tail[m], (N - whole) * sizeof(int32_t));
    }
  }
}

}  // namespace
