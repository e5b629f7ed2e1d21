// The "VNNI" layout of B shared by the AVX-512 VNNI and AMX kernels (kernels.h).
#include <string.h>

#include "../kernels.h"

// Row-major N x K rows (N % 16 == 0, K % 64 == 0) -> for each block of 16 columns, K / 4 rows
// of 64 bytes; row q holds, for each column c of the block, its four bytes k = 4q .. 4q + 3.
// A block is 16 K bytes long and starts at B + n K for its first column n, as kernels.h asks.
// Sixteen consecutive rows are one AMX B tile; one row is one vpdpbusd operand.
void lb_pack_b_vnni16(size_t N, size_t K, const int8_t *B, int8_t *out) {
  for (size_t nb = 0; nb < N / 16; ++nb)
    for (size_t c = 0; c < 16; ++c) {
      const int8_t *src = B + (nb * 16 + c) * K;
      int8_t *dst = out + nb * 16 * K + c * 4;
      for (size_t q = 0; q < K / 4; ++q) memcpy(dst + q * 64, src + q * 4, 4);
    }
}
