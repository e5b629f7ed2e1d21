// The GEMM engine's non-template parts: kernel choice, block sizes, scratch (gemm_driver.h).
#include "gemm_driver.h"

lb_gemm_plan lb_gemm_choose(const lb_packed_weights &w, bool a_7bit) {
  const lb_gemm_i8_kernel &k = *w.kern;
  if (a_7bit && k.fn_u7) return {k.fn_u7, false, 64};
  if (w.b_sym && k.fn_sym) return {k.fn_sym, true, 0};
  return {k.fn, k.a_signed, k.a_signed ? 0 : 128};
}

namespace {
std::atomic<size_t> g_mc_override{0}, g_nc_override{0};
std::atomic<bool> g_expand{true};
}

void lb_ggemm_set_expand(bool on) { g_expand.store(on); }
bool lb_ggemm_expand_enabled() { return g_expand.load(std::memory_order_relaxed); }

void lb_gemm_set_block_override(size_t MC, size_t NC) {
  g_mc_override.store(MC);
  g_nc_override.store(NC);
}

lb_gemm_blocks lb_block_sizes(size_t a_row, size_t b_col, size_t out_bytes, size_t Mp, size_t Np,
                              size_t unit_m, size_t unit_n, size_t threads) {
  if (const size_t mc = g_mc_override.load(), nc = g_nc_override.load(); mc && nc)
    return {mc < Mp ? mc : Mp, lb_round_up(nc < Np ? nc : Np, unit_n)};
  const size_t l2 = lb_caches().l2;
  auto pick = [&](size_t budget, size_t bytes, size_t unit, size_t limit) {
    size_t v = budget / (bytes ? bytes : 64) / unit * unit;
    if (v < unit) v = unit;
    return v < limit ? v : limit;
  };
  // Half the L2 for a block of B, a quarter for A's block; capped by the padded sizes.
  lb_gemm_blocks b{pick(l2 / 4, a_row, unit_m, Mp), pick(l2 / 2, b_col, unit_n, Np)};
  // The block's outputs wait in L2 too: at most a quarter of it, taken from MC (B's block is
  // the one reused). With a 2 MiB L2 and K = 1024, MC x NC was 480 x 1008, 1.9 MiB of int32
  // products, and the AMX kernel ran 15% slower than on 96 x 240 blocks.
  while (b.MC > unit_m && b.MC * b.NC * out_bytes > l2 / 4) b.MC -= unit_m;
  // Enough blocks for every thread to get two or more: smaller blocks, the larger side first.
  auto count = [&] { return ((Mp + b.MC - 1) / b.MC) * ((Np + b.NC - 1) / b.NC); };
  while (count() < 2 * threads && (b.MC > unit_m || b.NC > unit_n)) {
    const bool cut_n = b.NC >= b.MC ? b.NC > unit_n : b.MC <= unit_m;
    size_t &side = cut_n ? b.NC : b.MC;
    const size_t unit = cut_n ? unit_n : unit_m;
    side = side / 2 / unit * unit;
    if (side < unit) side = unit;
  }
  return b;
}

lb_gemm_blocks lb_gemm_block_sizes(const lb_packed_weights &w, size_t Mp, size_t threads) {
  // Multiples of 48 suit every register tile (3, 4, 2 rows or columns) and AMX's 16.
  const size_t Kp = w.Kp ? w.Kp : 64;
  return lb_block_sizes(Kp, Kp, sizeof(int32_t), Mp, w.Np, 48, 48, threads);
}

namespace {

// 0 A', 1 row sums, 2 C blocks (and float blocks), 3 A' row groups (a padded bias), 4 row
// scales, 5 a row being quantized, 6 activation zero points, 7 expanded weight panels, 8 a
// block of B' packed during the product
constexpr int kSlots = 9;
std::atomic<uint64_t> g_calls{0};
constexpr size_t kKeepBytes = size_t(8) << 20;  // larger scratch is not kept between calls

struct cached {
  void *p = nullptr;
  size_t bytes = 0;
  ~cached() { lb_aligned_free(p); }
};
thread_local cached t_cache[kSlots];

}  // namespace

uint64_t lb_next_call() { return g_calls.fetch_add(1, std::memory_order_relaxed) + 1; }

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
