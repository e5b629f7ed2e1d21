// Walking a run in blocks (the `_blocks` kernels of quant_<isa>.cpp). Include after the ISA
// file's `#pragma GCC target`, so the instantiations, with each file's own lambdas, get it.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace {

// Blocks shorter than a vector: their scales and zero points expanded to one per element, 64
// elements at a time, for run(first, count, scales, zero points) (the _vec path).
template <class Run>
inline void expand_blocks(size_t n, size_t block, const float *scale, const int32_t *zp, Run run) {
  constexpr size_t C = 64;
  alignas(64) float sb[C];
  alignas(64) int32_t zb[C];
  size_t b = 0, k = 0;  // the block of the next element, and its index in the block
  for (size_t i = 0; i < n; i += C) {
    const size_t c = n - i < C ? n - i : C;
    for (size_t j = 0; j < c; ++j) {
      sb[j] = scale[b], zb[j] = zp[b];
      if (++k == block) k = 0, ++b;
    }
    run(i, c, sb, zb);
  }
}

// run(first, count, block index) for each block of n elements, the last possibly short. The
// common block sizes are compile-time constants here, so that the per-run code inlined into run
// has its loops and tail tests folded away for every full block.
template <size_t B, class Run>
__attribute__((always_inline)) inline void each_block_of(size_t n, Run run) {
  size_t i = 0, b = 0;
  for (; i + B <= n; i += B, ++b) run(i, B, b);
  if (i < n) run(i, n - i, b);
}

template <class Run>
__attribute__((always_inline)) inline void each_block(size_t n, size_t block, Run run) {
  switch (block) {
    case 16: return each_block_of<16>(n, run);
    case 32: return each_block_of<32>(n, run);
    case 64: return each_block_of<64>(n, run);
    case 128: return each_block_of<128>(n, run);
  }
  for (size_t i = 0, b = 0; i < n; i += block, ++b) run(i, n - i < block ? n - i : block, b);
}


}  // namespace
