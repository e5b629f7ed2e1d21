// lb_sgemm_nt: checks its arguments and runs the dispatched float32 GEMM. Also the float32
// driver's target-independent parts (sgemm/sgemm_config.h): block sizes and packing buffers.
#include <atomic>

#include "kernels.h"
#include "sgemm/sgemm_config.h"

extern "C" lb_status lb_sgemm_nt(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                 const float *B, size_t ldb, float *Y, size_t ldy) {
  if (lda < K || ldb < K || ldy < N) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && (!A || !B))) return LB_ERR_INVALID_ARGUMENT;
  lb_active()->sgemm_nt(M, N, K, A, lda, B, ldb, Y, ldy);
  return LB_OK;
}

namespace {
std::atomic<size_t> g_mc_override{0}, g_nc_override{0}, g_kc_override{0};

size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }
}  // namespace

void lb_sgemm_set_block_override(size_t MC, size_t NC, size_t KC) {
  g_mc_override.store(MC);
  g_nc_override.store(NC);
  g_kc_override.store(KC);
}

lb_sgemm_blocks lb_sgemm_block_sizes(size_t MR, size_t NR, size_t M, size_t N, size_t K) {
  if (const size_t kc = g_kc_override.load()) {
    const size_t mc = g_mc_override.load(), nc = g_nc_override.load();
    return {round_up(mc ? mc : MR, MR), round_up(nc ? nc : NR, NR), kc};
  }
  const lb_cache_sizes &c = lb_caches();
  // KC: one packed B micro-panel (KC x NR) takes half the L1, so it stays there while the
  // A micro-panels stream past it. Then K is cut into equal blocks (no short last one).
  size_t kc = c.l1d / 2 / (NR * sizeof(float)) / 16 * 16;
  kc = kc < 128 ? 128 : kc > 512 ? 512 : kc;
  const size_t nk = (K + kc - 1) / kc;
  kc = round_up((K + nk - 1) / nk, 8);
  // MC: the packed A block (MC x KC) takes half the L2.
  size_t mc = c.l2 / 2 / (kc * sizeof(float)) / MR * MR;
  if (mc < MR) mc = MR;
  if (mc > round_up(M, MR)) mc = round_up(M, MR);
  // NC: the packed B block (KC x NC) takes the other half of the L2. (Larger B blocks, kept in
  // the L3 and read again for each A block, measured 10-25% slower on a 2-core Zen 3 VM.)
  size_t nc = c.l2 / 2 / (kc * sizeof(float)) / NR * NR;
  nc = nc < NR ? NR : nc > 4096 ? 4096 : nc;
  if (nc > round_up(N, NR)) nc = round_up(N, NR);
  return {mc, nc, kc};
}

namespace {
// Buffers up to this size stay with the thread between calls.
constexpr size_t kKeepFloats = (size_t)4 << 20 >> 2;

struct scratch_slot {
  float *p = nullptr;
  size_t floats = 0;
  ~scratch_slot() { lb_aligned_free(p); }
};
thread_local scratch_slot t_scratch[2];
}  // namespace

float *lb_sgemm_scratch(int slot, size_t floats) {
  scratch_slot &s = t_scratch[slot];
  if (s.floats < floats || (s.floats > kKeepFloats && floats <= kKeepFloats)) {
    lb_aligned_free(s.p);
    s.p = (float *)lb_aligned_alloc(floats * sizeof(float));
    s.floats = s.p ? floats : 0;
  }
  return s.p;
}
