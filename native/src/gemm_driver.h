// The GEMM engine shared by lb_matmul_integer, lb_linear_f32 and lb_linear_q8: packed weights,
// the choice of kernel variant, and the blocked, threaded loops around the raw 8-bit kernels
// (lb_gemm_run) and the grouped kernels of the low-bit formats (lb_ggemm_run) (kernels.h).
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

#include "formats.h"
#include "kernels.h"
#include "thread_pool.h"

// Packed weights (lb_prepack, weights.cpp): the format, the kernel the layout was made for (a
// later setIsa does not matter: every kernel gives the same results), and the numerics the
// weights own: scales and zero points per (row, group). Two layouts, by the kernel's kind:
//   RAW_I8 (8-bit, one group of K): B' = B - beta, N x K, padded to Np x Kp with zeros, in the
//     raw kernel's layout, with its column sums: the int8 path of before, unchanged;
//   GROUPED: U = q - qmin in the grouped kernel's panels (kernels.h, lb_ggemm_args), with
//     the per-(panel, group) scales, shifted zero points and sums of U - zp.
struct lb_packed_weights {
  const lb_format *fmt;
  const lb_kernel_entry *entry;
  size_t N, K;
  size_t G, groups;  // values per group (K for one group) and groups per row (0 when K = 0)
  float *scale;      // N x groups, or null: integer-only weights (lb_matmul_integer_packed)
  int32_t *zp;       // N x groups, or null (all 0)

  // RAW_I8
  const lb_gemm_i8_kernel *kern;
  size_t Np, Kp;
  lb_dtype type;
  int beta;     // caller's value = B' + beta
  bool b_sym;   // no B' value is -128: the narrow-range kernels apply
  int8_t *Bp;
  uint32_t *col_sum;  // sum_k B'[n][k], modulo 2^32

  // GROUPED
  size_t Gp, nr, panels;   // padded group, panel width, panels (Np = panels * nr)
  uint8_t *Up;
  float *p_scale;          // [panel][group][nr], or null when p_scale16 holds them
  uint16_t *p_scale16;     // the same in binary16, for weights that came with binary16 scales:
                           // a GEMV streams 4.5 bits per int4 g32 weight instead of 5
  int32_t *p_zp, *p_qsum;  // the same
  bool zp_uniform;         // one zero point everywhere (symmetric weights), padding included
};

// The RAW_I8 layout (matmul_integer.cpp): packs B (K x N or N x K) for `kern` into w's RAW_I8
// fields, and frees them. keep: B' goes to the calling thread's kept buffer, not memory w owns
// (lb_release_raw then leaves it).
lb_status lb_pack_raw(const lb_gemm_i8_kernel &kern, const void *B, lb_dtype b_type,
                      lb_layout layout, size_t ldb, size_t N, size_t K, lb_packed_weights *w,
                      bool keep = false);
void lb_release_raw(lb_packed_weights *w);

// B as the caller holds it, for a product that packs it block by block (lb_gemm_run) instead
// of whole before the product: each block's columns of B' (B shifted by w's beta) go to the
// thread's scratch just before the kernel reads them, so they are written and read in L2, and
// their column sums come with them. Where lb_raw_blockwise says so: N x K bytes, kernels with a
// direct packer (kernels.h, pack_b_nk) and no narrow-range variants, which would need to know
// whether all of B' avoids -128 before the first block.
struct lb_raw_source {
  const uint8_t *B;
  lb_layout layout;
  size_t ldb;
};
// The RAW_I8 fields of w for B (N x K) without B': the shape, types and offset.
void lb_raw_shape(const lb_gemm_i8_kernel &kern, lb_dtype b_type, size_t N, size_t K, lb_packed_weights *w);
// Whether `kern` can take B in `layout` block by block (lb_raw_source).
bool lb_raw_blockwise(const lb_gemm_i8_kernel &kern, lb_layout layout);
// Columns n0 .. n0 + nc - 1 (a multiple of n_align; the real ones first) of src as B' into out
// (nc x Kp bytes of the layout), their sums into col_sum, unless this thread's last block of
// this call (call, an lb_next_call() number) had the same columns and memory (reuse).
void lb_pack_raw_block(const lb_raw_source &src, const lb_packed_weights &w, uint64_t call, size_t n0,
                       size_t nc, bool reuse, int8_t *out, uint32_t *col_sum);
// A number for each product, for the scratch a thread keeps between the blocks of one call.
uint64_t lb_next_call();

// Value (q - zp) * scale of W[n][k] as dequantize gives it (nf4: code * absmax), from the
// grouped layout: the weight-only path's source, and the tests'.
float lb_packed_dequantize(const lb_packed_weights &w, size_t n, size_t k);
// Dequantizes columns n0 .. n0 + nc - 1 (whole panels, n0 a multiple of nr) into nc rows of K floats.
void lb_packed_dequantize_panels(const lb_packed_weights &w, size_t n0, size_t nc, float *out);

// The kernel a product runs and the form of its A' operand: A' = a + a_shift, as int8
// (a_signed) or uint8, for signed activation values a.
struct lb_gemm_plan {
  lb_gemm_i8_fn fn;
  bool a_signed;
  int a_shift;
};

// a_7bit: A lies in [-63, 63] (the 7-bit kernel may run); any other int8 A takes the sign-trick
// kernel where B' avoids -128 (prepack records it as b_sym), else the general one.
lb_gemm_plan lb_gemm_choose(const lb_packed_weights &w, bool a_7bit);

// A thread's cached scratch buffer (one per slot and thread, kept between calls up to a few
// MiB; larger requests get memory of their own, freed by the destructor).
class lb_scratch {
 public:
  lb_scratch(int slot, size_t bytes);
  ~lb_scratch();
  void *get() const { return p_; }
  // Whether the memory is the thread's kept buffer (what it held survives until the next use
  // of the slot) rather than a one-off allocation.
  bool kept() const { return !owned_; }
  lb_scratch(const lb_scratch &) = delete;
  lb_scratch &operator=(const lb_scratch &) = delete;

 private:
  void *p_;
  bool owned_;
};

struct lb_gemm_blocks {
  size_t MC, NC;
};
// MC x NC output blocks for Mp x Np outputs (multiples of unit_m / unit_n) when a row of A takes
// a_row bytes, a column of B b_col bytes and an output out_bytes: B's block half the L2, A's a
// quarter, the block's outputs at most a quarter, and two or more blocks per thread.
lb_gemm_blocks lb_block_sizes(size_t a_row, size_t b_col, size_t out_bytes, size_t Mp, size_t Np,
                              size_t unit_m, size_t unit_n, size_t threads);
lb_gemm_blocks lb_gemm_block_sizes(const lb_packed_weights &w, size_t Mp, size_t threads);
// For the tests and the bench: whether the grouped engine expands 4- and 2-bit blocks to the
// 8-bit layout beyond 4 rows (the default), so both paths can be tested and timed.
void lb_ggemm_set_expand(bool on);
bool lb_ggemm_expand_enabled();
// For the tests: fixed block sizes (multiples of 48; 0, 0 = chosen from the caches again), so
// small products also cross block and thread boundaries.
void lb_gemm_set_block_override(size_t MC, size_t NC);

inline size_t lb_round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

// Panel p's scales in the GROUPED layout: float32 or binary16, the other null.
inline const float *lb_panel_scale(const lb_packed_weights &w, size_t p) {
  return w.p_scale ? w.p_scale + p * w.groups * w.nr : nullptr;
}
inline const uint16_t *lb_panel_scale16(const lb_packed_weights &w, size_t p) {
  return w.p_scale16 ? w.p_scale16 + p * w.groups * w.nr : nullptr;
}
// The scale at index `at` of that layout, as float32.
inline float lb_packed_scale(const lb_packed_weights &w, size_t at) {
  return w.p_scale16 ? lb_f16_to_f32(w.p_scale16[at]) : w.p_scale[at];
}

// 16 rows of Kp bytes (row-major) -> Kp/64 blocks of 16 rows x 64 bytes (kernels.h a_tiles16).
inline void lb_pack_a_tiles16(size_t Kp, const uint8_t *rows, uint8_t *out) {
  for (size_t kb = 0; kb < Kp / 64; ++kb)
    for (size_t r = 0; r < 16; ++r) memcpy(out + kb * 1024 + r * 64, rows + r * Kp + kb * 64, 64);
}

// Runs block(m0, mc, n0, nc) over the MC x NC blocks of an Mp x Np output on `threads`
// threads: blocks ordered column block first, cut into runs of consecutive blocks, up to four
// runs per thread, claimed as threads come free: on the lent 16-core Xeon one run per thread
// left the slowest thread finishing 2-15x after the fastest (cores shared with other guests),
// and the call waited for it. A thread mostly streams its share of B from memory once.
template <class Block>
void lb_run_blocks(size_t Mp, size_t Np, lb_gemm_blocks b, size_t threads, Block &&block) {
  const size_t n_blocks_n = (Np + b.NC - 1) / b.NC, n_blocks_m = (Mp + b.MC - 1) / b.MC;
  const size_t n_blocks = n_blocks_n * n_blocks_m;
  const size_t n_tasks = threads == 1 ? 1 : n_blocks < 4 * threads ? n_blocks : 4 * threads;
  lb_parallel(n_tasks, [&](size_t t) {
    for (size_t i = n_blocks * t / n_tasks, end = n_blocks * (t + 1) / n_tasks; i < end; ++i) {
      const size_t n0 = (i / n_blocks_m) * b.NC, m0 = (i % n_blocks_m) * b.MC;
      block(m0, Mp - m0 < b.MC ? Mp - m0 : b.MC, n0, Np - n0 < b.NC ? Np - n0 : b.NC);
    }
  });
}

// Rows 0 .. M-1 in parallel tasks of at least 16 KiB (row_bytes each), claimed as threads come
// free, so one slow thread (a busy core on a shared host) does not hold the region up.
template <class Row>
void lb_parallel_rows(size_t M, size_t row_bytes, size_t group, Row &&row_task) {
  const size_t rows_per_task = lb_round_up(row_bytes ? (16384 + row_bytes - 1) / row_bytes : M, group);
  lb_parallel((M + rows_per_task - 1) / rows_per_task, [&](size_t t) {
    row_task(t * rows_per_task, (t + 1) * rows_per_task < M ? (t + 1) * rows_per_task : M);
  });
}

// Below ~4 M multiply-adds a parallel region costs more than it saves.
inline size_t lb_product_threads(size_t M, size_t N, size_t K) {
  return (double)M * (double)N * (double)(K ? K : 1) < 4e6 ? 1 : lb_region_threads();
}

// Y = epilogue(A' x B'^T) for M >= 1 rows of A', M x N, on lb_region_threads() threads.
//   pack_a(m, dst): writes row m of A' (K bytes, of type plan.a_signed) to dst and returns
//     the row's sum modulo 2^32; rows are packed in parallel.
//   epilogue(m0, mc, n0, nc, C, ldc, row_sum, col_sum): turns the raw products of rows m0 ..
//     m0+mc-1 and columns n0 .. n0+nc-1 (C[(m - m0) * ldc + (n - n0)]) into the caller's
//     output; row_sum points at row m0's sum, col_sum at column n0's.
// Both run on pool threads: they must write disjoint outputs per row / per block.
//   reject: set by pack_a for input it cannot take (an infinite activation): the call then
//     returns LB_ERR_INVALID_ARGUMENT after packing, before any epilogue writes.
//   src: B to pack block by block (w then holds no B'), or null.
template <class PackA, class Epilogue>
lb_status lb_gemm_run(size_t M, const lb_packed_weights &w, lb_gemm_plan plan, PackA &&pack_a,
                      Epilogue &&epilogue, const std::atomic<bool> *reject = nullptr,
                      const lb_raw_source *src = nullptr) {
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

  // A': zero padding to Kp and Mp; whole 16-row groups per task for tile layouts.
  const size_t group = kern.a_tiles16 && !small ? 16 : 1;
  std::atomic<bool> scratch_ok{true};
  lb_parallel_rows(Mp, Kp, group, [&](size_t m_begin, size_t m_end) {
    lb_scratch rows_buf(3, group > 1 ? group * Kp : 0);
    uint8_t *rows = (uint8_t *)rows_buf.get();
    if (!rows) {
      scratch_ok.store(false);
      return;
    }
    for (size_t m = m_begin; m < m_end; ++m) {
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

  const size_t threads = lb_product_threads(M, w.N, K);
  const lb_gemm_blocks b = lb_gemm_block_sizes(w, Mp, threads);
  const uint64_t call = src ? lb_next_call() : 0;
  std::atomic<lb_status> status{LB_OK};
  lb_run_blocks(Mp, Np, b, threads, [&](size_t m0, size_t mc, size_t n0, size_t nc) {
    lb_scratch c_buf(2, b.MC * b.NC * sizeof(int32_t)), b_buf(8, src ? b.NC * (Kp + sizeof(uint32_t)) : 0);
    int32_t *C = (int32_t *)c_buf.get();
    int8_t *Bb = (int8_t *)b_buf.get();
    if (!C || !Bb) {
      status.store(LB_ERR_OUT_OF_MEMORY);
      return;
    }
    const int8_t *B = src ? Bb : w.Bp + n0 * Kp;
    const uint32_t *col_sum = src ? (const uint32_t *)(Bb + b.NC * Kp) : w.col_sum + n0;
    if (src) lb_pack_raw_block(*src, w, call, n0, nc, b_buf.kept(), Bb, (uint32_t *)(Bb + b.NC * Kp));
    fn(mc, nc, Kp, Ap + m0 * Kp, B, C, nc);
    epilogue(m0, M - m0 < mc ? M - m0 : mc, n0, w.N - n0 < nc ? w.N - n0 : nc, (const int32_t *)C,
             nc, row_sum + m0, col_sum);
  });
  return status.load();
}

// The blocks of a product on GROUPED weights, on the pool: kernel(m0, mc, n, cols, bias, y, ld)
// computes rows m0 .. m0 + mc - 1 and the whole panels of columns n .. n + cols - 1 into y (row
// stride ld). The kernels write whole panels: the columns of a last, partial panel go through a
// small buffer, and a bias is read from a copy padded to whole panels. a_row: bytes of one
// packed row of activations (for the block sizes).
// b_bits: bits per weight of the blocks the kernels read (the packed ones, or 8 when expanded).
template <class Kernel>
lb_status lb_panel_blocks(size_t M, const lb_packed_weights &w, size_t a_row, unsigned b_bits,
                          const float *bias, float *Y, size_t ldy, Kernel &&kernel) {
  const size_t N = w.N, nr = w.nr, Np = w.panels * nr;
  lb_scratch bias_buf(3, bias && Np != N ? Np * sizeof(float) : 0);
  float *bias_p = (float *)bias_buf.get();
  if (!bias_p) return LB_ERR_OUT_OF_MEMORY;
  if (bias && Np != N) {
    memcpy(bias_p, bias, N * sizeof(float));
    memset(bias_p + N, 0, (Np - N) * sizeof(float));
    bias = bias_p;
  }
  const size_t threads = lb_product_threads(M, N, w.K);
  const size_t b_col = w.groups * w.Gp * b_bits / 8;
  const lb_gemm_blocks b = lb_block_sizes(a_row, b_col, sizeof(float), M, Np, w.entry->mr, w.entry->nr, threads);
  std::atomic<lb_status> status{LB_OK};
  lb_run_blocks(M, Np, b, threads, [&](size_t m0, size_t mc, size_t n0, size_t nc) {
    auto at = [&](size_t n) { return bias ? bias + n : nullptr; };
    if (n0 + nc <= N) return kernel(m0, mc, n0, nc, at(n0), Y + m0 * ldy + n0, ldy);
    const size_t whole = (N - n0) / nr * nr, last = n0 + whole;  // the partial panel's start
    if (whole) kernel(m0, mc, n0, whole, at(n0), Y + m0 * ldy + n0, ldy);
    lb_scratch t_buf(2, mc * nr * sizeof(float));
    float *T = (float *)t_buf.get();
    if (!T) return status.store(LB_ERR_OUT_OF_MEMORY);
    kernel(m0, mc, last, nr, at(last), T, nr);
    for (size_t i = 0; i < mc; ++i) memcpy(Y + (m0 + i) * ldy + last, T + i * nr, (N - last) * sizeof(float));
  });
  return status.load();
}

// Y = the grouped product (kernels.h, lb_ggemm_args) of M >= 1 rows on w (GROUPED layout).
//   pack_a(m, dst, sums): writes row m's groups x Gp int8 values (the group padding zero) to
//     dst and its group sums to sums; returns the row's scale.
//   a_zp: one zero point per row, in the int8 values' shift, or null.
//   reject: as lb_gemm_run's.
template <class PackA>
lb_status lb_ggemm_run(size_t M, const lb_packed_weights &w, PackA &&pack_a, const int32_t *a_zp,
                       const float *bias, float *Y, size_t ldy,
                       const std::atomic<bool> *reject = nullptr) {
  const size_t groups = w.groups, lda = groups * w.Gp, nr = w.nr;
  const size_t panel_bytes = lda * w.entry->bits / 8 * nr;
  size_t a_bytes;
  if (__builtin_mul_overflow(M, lda, &a_bytes)) return LB_ERR_SIZE_OVERFLOW;
  lb_scratch a_buf(0, a_bytes), sum_buf(1, M * groups * sizeof(int32_t)), scale_buf(4, M * sizeof(float));
  int8_t *A = (int8_t *)a_buf.get();
  int32_t *a_sum = (int32_t *)sum_buf.get();
  float *a_scale = (float *)scale_buf.get();
  if (!A || !a_sum || !a_scale) return LB_ERR_OUT_OF_MEMORY;
  lb_parallel_rows(M, lda, 1, [&](size_t m_begin, size_t m_end) {
    for (size_t m = m_begin; m < m_end; ++m) a_scale[m] = pack_a(m, A + m * lda, a_sum + m * groups);
  });
  if (reject && reject->load()) return LB_ERR_INVALID_ARGUMENT;
  // More than direct_m rows: each block's panels expanded to the 8-bit layout once (a few per
  // cent of the block's work at 64 rows and more), so the row tiles skip the unpacking.
  const lb_kernel_entry &e = *w.entry;
  const bool expand = M > e.direct_m && e.expand && e.grouped_x8 && lb_ggemm_expand_enabled();
  // Signed panels (kernels.h, signed_m) where the weights have one zero point.
  const bool b_signed = expand && e.expand_s8 && M >= e.signed_m && w.zp_uniform &&
                        (w.Gp <= 64 || w.Gp % 64 == 0);
  const unsigned per = 8 / e.bits;
  // A thread's blocks come column block first, so its next block mostly has the same columns:
  // the expansion it made is reused (keyed by this call, so never across calls). A small gain:
  // 512 x 4096 x 4096 int4, AMD host, 1 thread, 8 row blocks per column block, interleaved
  // runs: 461-467 -> 467-472 GOPS.
  const uint64_t call = lb_next_call();
  struct expanded {
    uint64_t call;
    size_t p, cols;
  };
  static thread_local expanded last{0, 0, 0};
  std::atomic<bool> ok{true};
  const lb_status st = lb_panel_blocks(M, w, lda, expand ? 8 : e.bits, bias, Y, ldy,
                         [&](size_t m0, size_t mc, size_t n, size_t cols, const float *b, float *y, size_t ld) {
    const size_t p = n / nr;
    const uint8_t *B = w.Up + p * panel_bytes;
    lb_scratch x_buf(7, expand ? cols / nr * panel_bytes * per : 0);
    if (expand) {
      if (!x_buf.get()) return ok.store(false);
      if (!x_buf.kept() || last.call != call || last.p != p || last.cols != cols) {
        const size_t chunks = cols / nr * panel_bytes / (4 * nr);
        if (b_signed) e.expand_s8(B, chunks, (uint8_t)w.p_zp[0], (uint8_t *)x_buf.get());
        else e.expand(B, chunks, (uint8_t *)x_buf.get());
        last = x_buf.kept() ? expanded{call, p, cols} : expanded{0, 0, 0};
      }
      B = (const uint8_t *)x_buf.get();
    }
    (expand ? e.grouped_x8 : e.grouped)(lb_ggemm_args{mc, cols, groups, w.Gp, A + m0 * lda, a_scale + m0,
        a_sum + m0 * groups, a_zp ? a_zp + m0 : nullptr, B, lb_panel_scale(w, p), lb_panel_scale16(w, p),
        w.p_zp + p * groups * nr, w.p_qsum + p * groups * nr, w.zp_uniform, b, y, ld, b_signed});
  });
  return st != LB_OK ? st : ok.load() ? LB_OK : LB_ERR_OUT_OF_MEMORY;
}
