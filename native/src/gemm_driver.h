// The 8-bit GEMM engine shared by lb_matmul_integer and lb_linear_f32: packed weights, the
// choice of kernel variant, and the blocked, threaded loop around the raw kernels (kernels.h).
//
// Blocking: the output is cut into blocks of MC rows x NC columns. NC columns of packed B
// (NC x K bytes) take half the L2, so while one block runs, B comes from L2 and each kernel
// tile's few rows of A from L1. Blocks are ordered column block first and handed out in runs of
// consecutive blocks (up to four runs per thread, taken as threads come free), so a thread
// mostly streams its share of B from memory once.
// Threads split M and N only, never K: every output is one kernel's exact sum, so the result
// does not depend on the thread count (integer sums are exact anyway; SPEC §4).
#pragma once
#include <string.h>

#include <atomic>

#include "kernels.h"
#include "thread_pool.h"

// Packed weights (lb_prepack): B' = B - beta, N x K, padded to Np x Kp with zeros, in the
// layout of the kernel it was packed for, and its column sums.
struct lb_packed_weights {
  const lb_gemm_i8_kernel *kern;  // the kernel the layout was made for (setIsa later: no matter)
  size_t N, K, Np, Kp;
  lb_dtype type;
  int beta;     // caller's value = B' + beta
  bool b_sym;   // no B' value is -128: the narrow-range kernels apply
  int8_t *Bp;
  uint32_t *col_sum;  // sum_k B'[n][k], modulo 2^32
};

// The kernel a product runs and the form of its A' operand: A' = a + a_shift, as int8
// (a_signed) or uint8, for signed activation values a.
struct lb_gemm_plan {
  lb_gemm_i8_fn fn;
  bool a_signed;
  int a_shift;
};

// a_range: 0 for any int8 A, 8 when A lies in [-127, 127], 7 when in [-63, 63].
lb_gemm_plan lb_gemm_choose(const lb_packed_weights &w, int a_range);

// A thread's cached scratch buffer (one per slot and thread, kept between calls up to a few
// MiB; larger requests get memory of their own, freed by the destructor).
class lb_scratch {
 public:
  lb_scratch(int slot, size_t bytes);
  ~lb_scratch();
  void *get() const { return p_; }
  lb_scratch(const lb_scratch &) = delete;
  lb_scratch &operator=(const lb_scratch &) = delete;

 private:
  void *p_;
  bool owned_;
};

struct lb_gemm_blocks {
  size_t MC, NC;
};
lb_gemm_blocks lb_gemm_block_sizes(const lb_packed_weights &w, size_t Mp, size_t threads);
// For the tests: fixed block sizes (multiples of 48; 0, 0 = chosen from the caches again), so
// small products also cross block and thread boundaries.
void lb_gemm_set_block_override(size_t MC, size_t NC);

inline size_t lb_round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

// 16 rows of Kp bytes (row-major) -> Kp/64 blocks of 16 rows x 64 bytes (kernels.h a_tiles16).
inline void lb_pack_a_tiles16(size_t Kp, const uint8_t *rows, uint8_t *out) {
  for (size_t kb = 0; kb < Kp / 64; ++kb)
    for (size_t r = 0; r < 16; ++r) memcpy(out + kb * 1024 + r * 64, rows + r * Kp + kb * 64, 64);
}

// Y = epilogue(A' x B'^T) for M >= 1 rows of A', M x N, on lb_region_threads() threads.
//   pack_a(m, dst): writes row m of A' (K bytes, of type plan.a_signed) to dst and returns
//     the row's sum modulo 2^32; rows are packed in parallel.
//   epilogue(m0, mc, n0, nc, C, ldc, row_sum): turns the raw products of rows m0 .. m0+mc-1
//     and columns n0 .. n0+nc-1 (C[(m - m0) * ldc + (n - n0)]) into the caller's output;
//     row_sum points at row m0's sum.
// Both run on pool threads: they must write disjoint outputs per row / per block.
//   reject: set by pack_a for input it cannot take (an infinite activation): the call then
//     returns LB_ERR_INVALID_ARGUMENT after packing, before any epilogue writes.
template <class PackA, class Epilogue>
lb_status lb_gemm_run(size_t M, const lb_packed_weights &w, lb_gemm_plan plan, PackA &&pack_a,
                      Epilogue &&epilogue, const std::atomic<bool> *reject = nullptr) {
  const lb_gemm_i8_kernel &kern = *w.kern;
  const bool small = M <= kern.small_m && plan.fn == kern.fn;  // kernels.h fn_small
  const lb_gemm_i8_fn fn = small ? kern.fn_small : plan.fn;
  const size_t K = w.K, Kp = w.Kp, Np = w.Np, Mp = lb_round_up(M, small ? 1 : kern.m_align);
  size_t a_bytes;
  if (__builtin_mul_overflow(Mp, Kp, &a_bytes)) return LB_ERR_SIZE_OVERFLOW;
  lb_scratch a_buf(0, a_bytes), sum_buf(1, Mp * sizeof(uint32_t));
  uint8_t *Ap = (uint8_t *)a_buf.get();
  uint32_t *row_sum = (uint32_t *)sum_buf.get();
  if (!Ap || !row_sum) return LB_ERR_OUT_OF_MEMORY;

  // A': rows in parallel tasks of at least 16 KiB (whole 16-row groups for tile layouts),
  // zero padding to Kp and Mp. Tasks are claimed as threads come free, and several per thread
  // keep one slow thread (a busy core on a shared host) from holding the region up.
  const size_t group = kern.a_tiles16 && !small ? 16 : 1;
  const size_t rows_per_task = lb_round_up(K ? (16384 + K - 1) / K : Mp, group);
  std::atomic<bool> scratch_ok{true};
  lb_parallel((Mp + rows_per_task - 1) / rows_per_task, [&](size_t t) {
    const size_t m_end = (t + 1) * rows_per_task < Mp ? (t + 1) * rows_per_task : Mp;
    lb_scratch rows_buf(3, group > 1 ? group * Kp : 0);
    uint8_t *rows = (uint8_t *)rows_buf.get();
    if (!rows) {
      scratch_ok.store(false);
      return;
    }
    for (size_t m = t * rows_per_task; m < m_end; ++m) {
      uint8_t *dst = group > 1 ? rows + (m % group) * Kp : Ap + m * Kp;
      if (m < M) {
        row_sum[m] = pack_a(m, dst);
        memset(dst + K, 0, Kp - K);
      } else {
        row_sum[m] = 0;
        memset(dst, 0, Kp);
      }
      if (group > 1 && m % group == group - 1) lb_pack_a_tiles16(Kp, rows, Ap + (m + 1 - group) * Kp);
    }
  });
  if (!scratch_ok.load()) return LB_ERR_OUT_OF_MEMORY;
  if (reject && reject->load()) return LB_ERR_INVALID_ARGUMENT;

  // Below ~4 M multiply-adds a region costs more than it saves.
  const double macs = (double)M * (double)w.N * (double)(K ? K : 1);
  const size_t threads = macs < 4e6 ? 1 : lb_region_threads();
  const lb_gemm_blocks b = lb_gemm_block_sizes(w, Mp, threads);
  const size_t n_blocks_n = (Np + b.NC - 1) / b.NC, n_blocks_m = (Mp + b.MC - 1) / b.MC;
  const size_t n_blocks = n_blocks_n * n_blocks_m;
  // Up to four runs of consecutive blocks per thread, claimed as threads come free: on the
  // lent 16-core Xeon, one run per thread left the slowest thread finishing 2-15x after the
  // fastest (cores shared with other guests), and the call waited for it.
  const size_t n_tasks = threads == 1 ? 1 : n_blocks < 4 * threads ? n_blocks : 4 * threads;
  std::atomic<lb_status> status{LB_OK};
  lb_parallel(n_tasks, [&](size_t t) {
    lb_scratch c_buf(2, b.MC * b.NC * sizeof(int32_t));
    int32_t *C = (int32_t *)c_buf.get();
    if (!C) {
      status.store(LB_ERR_OUT_OF_MEMORY);
      return;
    }
    for (size_t i = n_blocks * t / n_tasks, end = n_blocks * (t + 1) / n_tasks; i < end; ++i) {
      const size_t n0 = (i / n_blocks_m) * b.NC, m0 = (i % n_blocks_m) * b.MC;
      const size_t nc = Np - n0 < b.NC ? Np - n0 : b.NC, mc = Mp - m0 < b.MC ? Mp - m0 : b.MC;
      fn(mc, nc, Kp, Ap + m0 * Kp, w.Bp + n0 * Kp, C, nc);
      epilogue(m0, M - m0 < mc ? M - m0 : mc, n0, w.N - n0 < nc ? w.N - n0 : nc, (const int32_t *)C,
               nc, row_sum + m0);
    }
  });
  return status.load();
}
