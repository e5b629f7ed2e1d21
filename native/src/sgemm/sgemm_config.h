// Target-independent parts of the float32 GEMM driver, defined in sgemm_nt.cpp (compiled
// without any ISA pragma, so no ISA file's copy of them can be picked by the linker).
#pragma once
#include <stddef.h>

// Cache blocks of the packed driver: KC of K per packed panel, MC rows of A per packed block
// (in L2), NC columns of B per packed block.
struct lb_sgemm_blocks {
  size_t MC, NC, KC;
};

// Blocks for an MR x NR register tile, on a product of M x N x K (M and N of one thread's part).
// KC depends on K and the L1 size only: it fixes the sum order (sgemm_blocking.h).
lb_sgemm_blocks lb_sgemm_block_sizes(size_t MR, size_t NR, size_t M, size_t N, size_t K);

// For the tests: fixed block sizes (0, 0, 0 = from the caches again), so small products cross
// every block boundary. MC and NC are rounded up to the tile's MR and NR.
void lb_sgemm_set_block_override(size_t MC, size_t NC, size_t KC);

// A thread's packing buffer (slot 0: A, 1: B), 64-byte aligned, kept between calls up to a
// few MiB (larger requests reallocate). Null when memory runs out.
float *lb_sgemm_scratch(int slot, size_t floats);
