// The GEMM engine's non-template parts: kernel choice, block sizes, scratch (gemm_driver.h).
#include "gemm_driver.h"

lb_gemm_plan lb_gemm_choose(const lb_packed_weights &w, int a_range) {
  const lb_gemm_i8_kernel &k = *w.kern;
  if (a_range == 7 && k.fn_u7) return {k.fn_u7, false, 64};
  if (w.b_sym && (a_range == 7 || a_range == 8) && k.fn_sym) return {k.fn_sym, true, 0};
  return {k.fn, k.a_signed, k.a_signed ? 0 : 128};
}

namespace {
std::atomic<size_t> g_mc_override{0}, g_nc_override{0};
}

void lb_gemm_set_block_override(size_t MC, size_t NC) {
  g_mc_override.store(MC);
  g_nc_override.store(NC);
}

lb_gemm_blocks lb_gemm_block_sizes(const lb_packed_weights &w, size_t Mp, size_t threads) {
  if (const size_t mc = g_mc_override.load(), nc = g_nc_override.load(); mc && nc)
    return {mc < Mp ? mc : Mp, nc < w.Np ? nc : w.Np};
  // Multiples of 48 suit every register tile (3, 4, 2 rows or columns) and AMX's 16.
  const size_t unit = 48, Kp = w.Kp ? w.Kp : 64, l2 = lb_caches().l2;
  auto pick = [&](size_t budget, size_t limit) {
    size_t v = budget / Kp / unit * unit;
    if (v < unit) v = unit;
    return v < limit ? v : limit;
  };
  // Half the L2 for a block of B, a quarter for A's block; capped by the padded sizes.
  lb_gemm_blocks b{pick(l2 / 4, Mp), pick(l2 / 2, w.Np)};
  // The block's int32 products wait in L2 for the epilogue too: at most a quarter of it, taken
  // from MC (B's block is the one reused). With a 2 MiB L2 and K = 1024, MC x NC was 480 x
  // 1008, 1.9 MiB of products, and the AMX kernel ran 15% slower than on 96 x 240 blocks.
  while (b.MC > unit && b.MC * b.NC * sizeof(int32_t) > l2 / 4) b.MC -= unit;
  // Enough blocks for every thread to get two or more: smaller blocks, the larger side first.
  auto count = [&] { return ((Mp + b.MC - 1) / b.MC) * ((w.Np + b.NC - 1) / b.NC); };
  while (count() < 2 * threads && (b.MC > unit || b.NC > unit)) {
    size_t &side = b.NC >= b.MC ? b.NC : b.MC;
    side = side / 2 / unit * unit;
    if (side < unit) side = unit;
  }
  return b;
}

namespace {

constexpr int kSlots = 5;  // 0 A', 1 row sums, 2 C blocks, 3 A' row groups, 4 linear's scales
constexpr size_t kKeepBytes = size_t(8) << 20;  // larger scratch is not kept between calls

struct cached {
  void *p = nullptr;
  size_t bytes = 0;
  ~cached() { lb_aligned_free(p); }
};
thread_local cached t_cache[kSlots];

}  // namespace

lb_scratch::lb_scratch(int slot, size_t bytes) : p_(nullptr), owned_(false) {
  if (bytes == 0) bytes = 64;
  if (bytes > kKeepBytes) {
    p_ = lb_aligned_alloc(bytes);
    owned_ = true;
    return;
  }
  cached &c = t_cache[slot];
  if (c.bytes < bytes) {
    lb_aligned_free(c.p);
    c.p = lb_aligned_alloc(bytes);
    c.bytes = c.p ? bytes : 0;
  }
  p_ = c.p;
}

lb_scratch::~lb_scratch() {
  if (owned_) lb_aligned_free(p_);
}
