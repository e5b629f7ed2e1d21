// lb_matmul_integer: ONNX MatMulInteger on the GEMM engine (gemm_driver.h), and lb_prepack.
//
// Every kernel multiplies A' (uint8 or int8, as it prefers) by B' (int8). The driver maps the
// caller's types onto that with an offset: a = a' + alpha, b = b' + beta (alpha, beta in
// {-128, 0, 128}), and folds the offsets into the zero points:
//   (a - za)(b - zb) = (a' - za')(b' - zb'),  za' = za - alpha,  zb' = zb - beta
//   sum_k (a' - za')(b' - zb') = sum a'b' - zb' sum_k a' - za' sum_k b' + K za' zb'
// Every term is taken modulo 2^32 (uint32 arithmetic), so the result is the exact sum
// modulo 2^32 whatever the kernel, which is what makes all ISAs agree bit for bit. (Up to 16
// rows the byte kernels take A as it is and B' of the other signedness instead: small_m_u8.)
#include <string.h>

#include <atomic>
#include <new>

#include "gemm_driver.h"
#include "matmul_integer_args.h"
#if LB_ARCH_X86
#include <emmintrin.h>  // SSE2, the x86-64 baseline: no target pragma
#endif

namespace {

// Caller's value v of dtype `t` read as int.
int load(const void *p, lb_dtype t, size_t i) {
  return t == LB_INT8 ? (int)((const int8_t *)p)[i] : (int)((const uint8_t *)p)[i];
}

// Offset between a caller's dtype and the kernel's operand type (value = operand + offset).
int offset_of(lb_dtype caller, bool kernel_signed) {
  bool caller_signed = caller == LB_INT8;
  if (caller_signed == kernel_signed) return 0;
  return kernel_signed ? 128 : -128;
}

// 16 x 16 bytes transposed in registers: x[i] holds row i. Each round interleaves row j with
// row j + 8 (low halves into row 2 j, high into 2 j + 1), which rotates an element's 8-bit
// index (row bits, then column bits) left by one: four rounds swap row and column. GCC's
// vector extensions make it SSE2 / NEON code (punpck / zip) without an ISA file.
typedef uint8_t lb_v16u8 __attribute__((vector_size(16)));
inline void transpose16x16(lb_v16u8 x[16]) {
  const lb_v16u8 lo = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
  const lb_v16u8 hi = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  for (int round = 0; round < 4; ++round) {
    lb_v16u8 y[16];
    for (int j = 0; j < 8; ++j) {
      y[2 * j] = __builtin_shuffle(x[j], x[j + 8], lo);
      y[2 * j + 1] = __builtin_shuffle(x[j], x[j + 8], hi);
    }
    for (int j = 0; j < 16; ++j) x[j] = y[j];
  }
}

// The len bytes of B' at p added into *sum (modulo 2^32); the smaller of their smallest and
// low. On x86, SSE2 (the baseline) 16 bytes a step as unsigned b' ^ 0x80 = b' + 128: psadbw
// sums them, pminub finds the smallest; the compiler's own loop widened every byte to int32,
// about ten instructions per 16 bytes (perf: a third of a 64 x 4096 x 4096 N x K
// matmulInteger; in the K x N transpose below, 10 of its 16 ms at 4096 x 4096).
int8_t add_bytes(const int8_t *p, size_t len, uint32_t *sum, int8_t low) {
  uint32_t s = 0;
  size_t k = 0;
#if LB_ARCH_X86
  const __m128i bias = _mm_set1_epi8((char)0x80), zero = _mm_setzero_si128();
  __m128i acc = zero, mn = _mm_set1_epi8((char)0xFF);
  for (; k + 16 <= len; k += 16) {
    const __m128i u = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(p + k)), bias);
    acc = _mm_add_epi64(acc, _mm_sad_epu8(u, zero));
    mn = _mm_min_epu8(mn, u);
  }
  s = (uint32_t)(_mm_cvtsi128_si64(acc) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc))) - 128u * (uint32_t)k;
  alignas(16) uint8_t m16[16];
  _mm_store_si128((__m128i *)m16, mn);
  for (int i = 0; i < 16 && k; ++i) low = (int8_t)(m16[i] ^ 0x80) < low ? (int8_t)(m16[i] ^ 0x80) : low;
#endif
  for (; k < len; ++k) {
    s += (uint32_t)(int32_t)p[k];
    low = p[k] < low ? p[k] : low;
  }
  *sum += s;
  return low;
}

// Column sums of N rows of B' (row stride ldb) modulo 2^32, and their smallest value.
int8_t sum_rows(size_t N, size_t K, const int8_t *rows, size_t ldb, uint32_t *sums) {
  int8_t lowest = 0;
  for (size_t n = 0; n < N; ++n) {
    sums[n] = 0;
    lowest = add_bytes(rows + n * ldb, K, sums + n, lowest);
  }
  return lowest;
}

// dst[n * ldd + k] = src[k * lds + n] ^ flip for n < N, k < K, with sums[n] = sum_k of those
// bytes as int8 (wrapping); returns the smallest. The portable K x N packing of the ISAs without
// a packer of their own (kernels.h, pack_b_kn: the AVX2 one does this in 256-bit registers). In
// 64 x 64 tiles, each row of tiles walked along: a tile's source lines are copied into a
// buffer, transposed there in 16 x 16 blocks in registers, summed and written out as whole
// lines; the edges (K or N not a multiple of 64) byte by byte. Along a row of tiles, the source
// lines of the tile two ahead are fetched first: 64 lines from 64 pages a tile are too many
// streams for the hardware's prefetchers. (Xeon host, 4096 x 4096 standalone, ms: in tasks of
// 64 columns with a pass of sums after, 14.3-15.0; in tasks of 1024 so, 8.5-10.4.)
int8_t transpose_kn_to_nk(size_t K, size_t N, const uint8_t *src, size_t lds, uint8_t *dst, size_t ldd,
                          uint8_t flip, uint32_t *sums) {
  lb_v16u8 flip16;
  for (int i = 0; i < 16; ++i) flip16[i] = flip;
  alignas(64) uint8_t in[64][64], out[64][64];
  const size_t K64 = K & ~size_t(63), N64 = N & ~size_t(63), across = N64 / 64, tiles = K64 / 64 * across;
  for (size_t n = 0; n < N; ++n) sums[n] = 0;
  int8_t lowest = 0;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t k0 = t / across * 64, n0 = t % across * 64;
    if (across > 1 && t + 2 < tiles) {
      const uint8_t *next = src + (t + 2) / across * 64 * lds + (t + 2) % across * 64;
      for (int r = 0; r < 64; ++r) __builtin_prefetch(next + r * lds);
    }
    for (int r = 0; r < 64; ++r) memcpy(in[r], src + (k0 + r) * lds + n0, 64);
    for (int k = 0; k < 64; k += 16)
      for (int n = 0; n < 64; n += 16) {
        lb_v16u8 x[16];
        for (int r = 0; r < 16; ++r) memcpy(&x[r], &in[k + r][n], 16);
        transpose16x16(x);
        for (int c = 0; c < 16; ++c) {
          const lb_v16u8 v = x[c] ^ flip16;
          memcpy(&out[n + c][k], &v, 16);
        }
      }
    for (int c = 0; c < 64; ++c) {
      lowest = add_bytes((const int8_t *)out[c], 64, sums + n0 + c, lowest);
      memcpy(dst + (n0 + c) * ldd + k0, out[c], 64);
    }
  }
  for (size_t n = 0; n < N; ++n)
    for (size_t k = n < N64 ? K64 : 0; k < K; ++k) {
      const int8_t b = (int8_t)(dst[n * ldd + k] = src[k * lds + n] ^ flip);
      sums[n] += (uint32_t)(int32_t)b;
      lowest = b < lowest ? b : lowest;
    }
  return lowest;
}

// dst[n * ldd + k] = src[n * lds + k] ^ flip. A function of its own, not lambda code: byte
// stores may alias anything a lambda captures by reference, which kept GCC from vectorizing.
void copy_rows_xor(size_t N, size_t K, const uint8_t *__restrict src, size_t lds,
                   uint8_t *__restrict dst, size_t ldd, uint8_t flip) {
  for (size_t n = 0; n < N; ++n)
    for (size_t k = 0; k < K; ++k) dst[n * ldd + k] = src[n * lds + k] ^ flip;
}


// matmulInteger's per-call B', kept by the calling thread between calls up to kKeptB bytes:
// fresh memory each call was mapped, faulted in as huge pages (each cleared whole) and unmapped
// again, a fifth of a 64 x 4096 x 4096 call's time (perf: clear_page_erms, the guest's fault
// exits, munmap).
constexpr size_t kKeptB = size_t(64) << 20;
struct kept_b {
  void *p = nullptr;
  size_t bytes = 0;
  ~kept_b() { lb_aligned_free(p); }
  void *get(size_t n) {
    if (n > kKeptB) return nullptr;
    if (bytes < n) {
      lb_aligned_free(p);
      p = lb_aligned_alloc(n);
      bytes = p ? n : 0;
    }
    return p;
  }
};
thread_local kept_b t_kept_b;

void release(lb_packed_weights *w) {
  if (w->Bp != t_kept_b.p) lb_aligned_free(w->Bp);
  lb_aligned_free(w->col_sum);
  w->Bp = nullptr;
  w->col_sum = nullptr;
}

}  // namespace

void lb_release_raw(lb_packed_weights *w) { release(w); }

void lb_raw_shape(const lb_gemm_i8_kernel &kern, lb_dtype b_type, size_t N, size_t K, lb_packed_weights *w) {
  w->kern = &kern;
  w->N = N;
  w->K = K;
  w->Np = lb_round_up(N, kern.n_align);
  w->Kp = lb_round_up(K, 64);
  w->type = b_type;
  w->beta = offset_of(b_type, true);
  w->b_sym = true;
  w->Bp = nullptr;
  w->col_sum = nullptr;
}

namespace {
auto direct_packer(const lb_gemm_i8_kernel &kern, lb_layout layout) {
  return layout == LB_LAYOUT_KN ? kern.pack_b_kn : kern.pack_b_nk;
}
// The direct packers take up to 1024 columns a call (kernels.h).
constexpr size_t kDirectCols = 1024;
// B' = B ^ flip makes the caller's B the kernels' int8 B'.
uint8_t raw_flip(const lb_packed_weights &w) { return w.beta ? 0x80 : 0; }
// Columns n .. n + nt of B (nt <= kDirectCols; those past N zero) through the direct packer of
// its layout into out and col_sum; whether some B' is -128.
bool pack_direct(const lb_packed_weights &w, const uint8_t *B, lb_layout layout, size_t ldb, size_t n,
                 size_t nt, int8_t *out, uint32_t *col_sum) {
  const size_t nn = w.N > n ? (w.N - n < nt ? w.N - n : nt) : 0;  // real columns
  const uint8_t *src = B + (!nn ? 0 : layout == LB_LAYOUT_KN ? n : n * ldb);
  return direct_packer(*w.kern, layout)(w.K, w.Kp, nn, nt, src, ldb, raw_flip(w), out, col_sum);
}
}  // namespace

// N x K only: a column block of K x N bytes reads a line or two from each of B's K rows, a
// page each (a page walk each time, as the blocks come back to every row): 64 x 4096 x 4096
// K x N took 6.7 ms block by block against 4.3 packed whole (AMD host, 1 thread), while N x K
// went 3.9 -> 3.4 (B' no longer written to memory and read back).
bool lb_raw_blockwise(const lb_gemm_i8_kernel &kern, lb_layout layout) {
  return layout == LB_LAYOUT_NK && kern.pack_b_nk && !kern.fn_sym && !kern.fn_u7;
}

void lb_pack_raw_block(const lb_raw_source &src, const lb_packed_weights &w, uint64_t call, size_t n0,
                       size_t nc, bool reuse, int8_t *out, uint32_t *col_sum) {
  struct packed {
    uint64_t call;
    size_t n0, nc;
  };
  static thread_local packed last{0, 0, 0};
  if (reuse && last.call == call && last.n0 == n0 && last.nc == nc) return;
  for (size_t n = n0; n < n0 + nc; n += kDirectCols) {
    const size_t nt = n0 + nc - n < kDirectCols ? n0 + nc - n : kDirectCols;
    pack_direct(w, src.B, src.layout, src.ldb, n, nt, out + (n - n0) * w.Kp, col_sum + (n - n0));
  }
  last = reuse ? packed{call, n0, nc} : packed{0, 0, 0};
}

// B (K x N or N x K, of b_type) -> B' for `kern`, into w's RAW_I8 fields (which own the
// buffers after).
lb_status lb_pack_raw(const lb_gemm_i8_kernel &kern, const void *B, lb_dtype b_type,
                      lb_layout layout, size_t ldb, size_t N, size_t K, lb_packed_weights *w,
                      bool keep) {
  lb_raw_shape(kern, b_type, N, K, w);
  size_t b_bytes;
  if (__builtin_mul_overflow(w->Np, w->Kp, &b_bytes)) return LB_ERR_SIZE_OVERFLOW;
  w->Bp = (int8_t *)(keep ? t_kept_b.get(b_bytes) : nullptr);
  if (!w->Bp) w->Bp = (int8_t *)lb_aligned_alloc(b_bytes);
  w->col_sum = (uint32_t *)lb_aligned_alloc((N ? N : 1) * sizeof(uint32_t));
  if (!w->Bp || !w->col_sum) return release(w), LB_ERR_OUT_OF_MEMORY;
  const size_t Kp = w->Kp, Np = w->Np;
  const uint8_t b_flip = raw_flip(*w);
  // One parallel pass in tasks of 64 rows (the transpose's tile width, a multiple of every
  // n_align), padding rows included: each task shifts, sums and scans its rows for -128 (loops
  // the compiler vectorizes) and, for kernels with their own layout, packs them from a buffer
  // of its own while they are in L2. (The layout pass ran after, on one thread: 1 x 4096 x 4096
  // matmulInteger packed its weights in ~20 ms.)
  const auto direct = direct_packer(kern, layout);
  // Without a layout pass (kern.pack_b), a K x N B is transposed straight into Bp, in tasks of
  // up to 1024 columns (each row of tiles walked along); with one, 64 rows a task, in L2 for it.
  size_t rows_per_task = 64;
  const size_t threads = lb_region_threads(), share = lb_round_up((Np + threads - 1) / threads, 64);
  if (direct) rows_per_task = share < 256 ? 256 : share > kDirectCols ? kDirectCols : share;
  else if (layout == LB_LAYOUT_KN && !kern.pack_b) rows_per_task = share > kDirectCols ? kDirectCols : share;
  const size_t n_tasks = (Np + rows_per_task - 1) / rows_per_task;
  std::atomic<bool> sym_all{true}, ok{true};
  lb_parallel(n_tasks, [&](size_t t) {
    const size_t n0 = t * rows_per_task, nt = Np - n0 < rows_per_task ? Np - n0 : rows_per_task;
    const size_t nn = N > n0 ? (N - n0 < nt ? N - n0 : nt) : 0;  // real rows of the task
    if (direct) {
      if (pack_direct(*w, (const uint8_t *)B, layout, ldb, n0, nt, w->Bp + n0 * Kp, w->col_sum + n0))
        sym_all.store(false);
      return;
    }
    lb_scratch buf(3, kern.pack_b ? nt * Kp : 0);
    int8_t *rows = kern.pack_b ? (int8_t *)buf.get() : w->Bp + n0 * Kp;
    if (!rows) return ok.store(false);
    int8_t lowest;
    if (layout == LB_LAYOUT_NK) {
      copy_rows_xor(nn, K, (const uint8_t *)B + n0 * ldb, ldb, (uint8_t *)rows, Kp, b_flip);
      lowest = sum_rows(nn, K, rows, Kp, w->col_sum + n0);
    } else {
      lowest = transpose_kn_to_nk(K, nn, (const uint8_t *)B + n0, ldb, (uint8_t *)rows, Kp, b_flip, w->col_sum + n0);
    }
    for (size_t n = 0; n < nn; ++n) memset(rows + n * Kp + K, 0, Kp - K);
    memset(rows + nn * Kp, 0, (nt - nn) * Kp);
    if (lowest == -128) sym_all.store(false);
    if (kern.pack_b) kern.pack_b(nt, Kp, rows, w->Bp + n0 * Kp);
  });
  if (!ok.load()) return release(w), LB_ERR_OUT_OF_MEMORY;
  w->b_sym = sym_all.load();
  return LB_OK;
}

namespace {

// Y = (A - a_zp)(B - b_zp)^T on packed B, M >= 1, N >= 1 (arguments checked by the caller).
lb_status product(size_t M, const void *A, lb_dtype a_type, size_t lda, const void *a_zp,
                  size_t a_zp_count, const lb_packed_weights &w, const void *b_zp,
                  size_t b_zp_count, int32_t *Y, size_t ldy, const lb_raw_source *src = nullptr) {
  const size_t K = w.K;
  // Any 8-bit A: the sign-trick kernel (AVX2) needs only B' without -128 (w.b_sym).
  const lb_gemm_plan plan = lb_gemm_choose(w, false);
  const int alpha = offset_of(a_type, plan.a_signed);  // caller's value = A' + alpha
  const uint8_t a_flip = alpha ? 0x80 : 0;

  const lb_epilogue_kernels &ek = *lb_active()->epilogue;
  auto pack_a = [&](size_t m, uint8_t *dst) {
    copy_rows_xor(1, K, (const uint8_t *)A + m * lda, 0, dst, 0, a_flip);
    return ek.byte_sum(K, dst, plan.a_signed);
  };
  // Zero-point corrections, all modulo 2^32 (the file's opening comment), as
  // c - za' sum_k b' + zb' (K za' - sum_k a'). Without weight zero points (zb' = 0 for every
  // column) a row of the block is one call; else 64-column strips share their zb'.
  const uint32_t k32 = (uint32_t)K;
  const bool has_zb = b_zp || w.zp || w.beta;
  auto epilogue = [&](size_t m0, size_t mc, size_t n0, size_t nc, const int32_t *C, size_t ldc,
                      const uint32_t *row_sum, const uint32_t *col_sum) {
    uint32_t zb[64];
    const size_t strip = has_zb ? 64 : nc;
    for (size_t j0 = 0; j0 < nc; j0 += strip) {
      const size_t jn = nc - j0 < strip ? nc - j0 : strip, n1 = n0 + j0;
      if (has_zb)
        for (size_t j = 0; j < jn; ++j) {
          const int zp = b_zp ? load(b_zp, w.type, b_zp_count == 1 ? 0 : n1 + j)
                         : w.zp ? w.zp[n1 + j] : 0;
          zb[j] = (uint32_t)(zp - w.beta);
        }
      for (size_t i = 0; i < mc; ++i) {
        const size_t m = m0 + i;
        const int zp = a_zp ? load(a_zp, a_type, a_zp_count == 1 ? 0 : m) : 0;
        const uint32_t za = (uint32_t)(zp - alpha);
        ek.to_s32(jn, C + i * ldc + j0, has_zb ? zb : nullptr, k32 * za - row_sum[i], za,
                  col_sum + j0, Y + m * ldy + n1);
      }
    }
  };
  return lb_gemm_run(M, w, plan, pack_a, epilogue, nullptr, src);
}

}  // namespace

namespace {

// Up to 8 rows: no packing, B read once as it lies (kernels.h, gemv_kn / gemv_nk), the zero
// points applied on the way; the columns in blocks across the pool. Packing B (a transpose,
// a pass for the VNNI layout) cost 100x the product at 1 x 4096 x 4096.
constexpr size_t kGemvRows = 8;
// With the byte kernels: up to 16 rows, in passes of 8 over B. AMD host, interleaved, against
// packing B whole (K x N) or block by block (N x K), 4096 x 4096, 1 thread: K x N 12 rows
// 1.73-1.91 -> 1.18-1.22 ms, 16 rows 2.09-2.50 -> 1.40-1.44; N x K 16 rows 0.45-0.56 -> 0.68-0.73
// of the prepacked speed (2 threads 0.48-0.53 -> 0.63-0.70). At 24 rows three passes lost on
// 1 thread.
constexpr size_t kGemvRowsU8 = 16;
// AVX-VNNI (no kn_many) on 4 threads or more: a second pass of more than 2 rows loses to
// packing, which those threads share well. Lent 16-core Xeon, p10 ms, passes / packing, 4, 8
// and 16 threads: K x N 12 rows 1.70 / 1.37, 0.98 / 0.82, 0.73 / 0.59; 16 rows 1.88 / 1.66,
// 1.36 / 1.09, 0.70 / 0.66; N x K 16 rows 1.70 / 1.49, 1.05 / 0.92, 0.57 / 0.52; 10 rows (the
// second pass one-pass kernel's 2 rows) K x N a tie, N x K 1.04 / 1.37, 0.64 / 0.77, 0.36 /
// 0.43. On 1 and 2 threads the passes win on the 2-vCPU Xeon host (K x N 12 rows 3.45-3.48 /
// 3.95, 2 threads 1.73-1.75 / 2.07-2.09) and mostly lose on the lent one (3.16-3.19 / 2.73-2.85
// on 2 threads): left at 16 there.
constexpr size_t kGemvRowsU8Many = 10;

// K x N on several threads: each takes a contiguous range of B's rows (a sequential stream
// for the prefetchers, where column blocks walk every row at ldb strides) into partial sums
// of its own, which are then added: wrapping adds, so the bits do not depend on the split.
// Only while the partials stay small next to B (a quarter of its bytes at most). The number
// of parts, or 0 for column blocks. (Wall time, K x N int8, int16 kernels, interleaved runs:
// AMD host, 2 threads, 1 x 4000 x 4096 0.37-0.44 -> 0.18 ms, 1 x 4096 x 4096 0.60-0.63 ->
// 0.40-0.53, 4 rows 0.85-0.88 -> 0.61, 8 rows 1.97-2.04 -> 1.12-1.20; lent Xeon, 16 threads,
// 1 x 4000 x 4096 0.144-0.153 -> 0.114-0.119. The byte kernels' column blocks of 256 columns
// are short rows to stream: 8 x 4096 x 4096 on 16 threads took 0.47 ms in them against 0.06
// for N x K, so the bound grew from a sixteenth of B to a quarter.)
size_t k_parts(size_t M, size_t N, size_t K, lb_layout layout, size_t threads, size_t *kc) {
  *kc = lb_round_up((K + threads - 1) / threads ? (K + threads - 1) / threads : 1, 64);
  const size_t parts = (K + *kc - 1) / *kc;
  return layout == LB_LAYOUT_KN && threads > 1 && parts > 1 && 16 * parts * M <= K &&
                 parts * M * N <= (size_t(4) << 20) ? parts : 0;
}

// K x N on AVX2's int16 kernel (gemv_kn_avx2, every row of A against each group of B's rows),
// beyond 8 rows: against packing B and the GEMM, while one thread runs it or the threads split
// K (in column blocks each walks short rows: on the lent 16-core Xeon 32 x 4096 x 4096 took
// 3.3-3.8 ms so, against 1.4-1.6 packing); to 32 rows on one thread and 48 on more. Xeon host,
// x 4096 x 4096, p10 ms, the kernel / packing: 1 thread 24 rows 11.0 / 12.0, 32 rows 15.0-15.7 /
// 14.5-15.3, 40 rows 18.3 / 17.6, 48 rows 22.1 / 19.3; 2 threads 48 rows 9.6 / 10.4.
constexpr size_t kGemvRowsKn16 = 48, kGemvRowsKn16One = 32;
// Whether M rows go to the small-M path. K x N where the ISA has kn_many (AVX-512 VNNI, AMX):
// that kernel up to its many_rows, one pass.
bool small_m_fits(size_t M, size_t N, size_t K, lb_layout layout) {
  const lb_gemv_u8_kernels *u8 = lb_active()->gemv_u8;
  const bool kn = layout == LB_LAYOUT_KN;
  if (u8 && kn && u8->kn_many) return M <= (u8->many_rows > kGemvRowsU8 ? u8->many_rows : kGemvRowsU8);
  if (u8) return M <= (!u8->kn_many && lb_product_threads(M, N, K) >= 4 ? kGemvRowsU8Many : kGemvRowsU8);
  if (M <= kGemvRows) return true;
  if (!kn || lb_active()->gemv_kn == gemv_kn_ref) return false;
  size_t kc;
  const size_t threads = lb_product_threads(M, N, K);
  return threads == 1 ? M <= kGemvRowsKn16One : M <= kGemvRowsKn16 && k_parts(M, N, K, layout, threads, &kc);
}
constexpr size_t kSmallRowsMax = kGemvKnRowsAmx > kGemvKnRowsAvx512 ? kGemvKnRowsAmx : kGemvKnRowsAvx512;
static_assert(kSmallRowsMax >= kGemvRowsU8, "the row arrays of small_m_u8");

// Column blocks of 256 or more (whole 32-column steps), a few per thread.
size_t column_block(size_t N, size_t threads) {
  const size_t cols = threads == 1 ? N : lb_round_up((N + 4 * threads - 1) / (4 * threads), 32);
  return cols < 256 ? 256 : cols;
}

// The K split's partial sums P (parts x rows rows of N, ldp apart, wrapping) added into dst(r)
// for each of the rows r (a row whose dst is null is skipped), then done(n0, nc) on those
// columns, in column blocks across the pool. (Blocks of 1024 columns, four tasks at N = 4096,
// then the caller's pass alone: lent 16-core Xeon, 16 threads, 8 x 4096 x 4096, p10 ms of two
// runs, AMX 0.242-0.245 -> 0.180-0.207, AVX-512 VNNI 0.254-0.500 -> 0.245-0.252, AVX2 0.709-0.817
// -> 0.678-0.722, AVX-VNNI and fewer rows within the noise.)
template <class Dst, class Done>
void add_parts(size_t parts, size_t rows, size_t N, size_t ldp, const uint32_t *P, size_t threads, Dst &&dst,
               Done &&done) {
  const size_t cols = column_block(N, threads);
  lb_parallel((N + cols - 1) / cols, [&](size_t b) {
    const size_t n0 = b * cols, n1 = N - n0 < cols ? N : n0 + cols;
    for (size_t r = 0; r < rows; ++r) {
      uint32_t *y = dst(r);
      if (!y) continue;
      memcpy(y + n0, P + r * ldp + n0, (n1 - n0) * sizeof(uint32_t));
      for (size_t t = 1; t < parts; ++t) {
        const uint32_t *p = P + (t * rows + r) * ldp;
        for (size_t n = n0; n < n1; ++n) y[n] += p[n];
      }
    }
    done(n0, n1 - n0);
  });
}

// The byte kernels (kernels.h, lb_gemv_u8_kernels): A as it lies, B' = B ^ flip of the other
// signedness, so b = b' + beta and (a - za)(b - zb) = (a - za)(b' - zb'), zb' = zb - beta:
//   Y = P - zb' sum_k a - za S + K za zb'   (P = sum a b', S = sum_k b': the kernels' sums)
lb_status small_m_u8(const lb_gemv_u8_kernels &kern, size_t M, size_t N, size_t K, const void *A,
                     lb_dtype a_type, size_t lda, const void *B, lb_dtype b_type, lb_layout layout,
                     size_t ldb, const void *a_zp, size_t a_zp_count, const void *b_zp,
                     size_t b_zp_count, int32_t *Y, size_t ldy) {
  const bool a_u8 = a_type == LB_UINT8, b_u8 = b_type == LB_UINT8, kn = layout == LB_LAYOUT_KN;
  const uint8_t flip = a_u8 == b_u8 ? 0x80 : 0;
  const int beta = !flip ? 0 : a_u8 ? 128 : -128;
  // The kernels read a's rows to K rounded up to 64; rows a line more apart, so that 8 rows
  // with a power-of-two K do not share one L1 set (with B's rows, which do).
  const size_t Kp = lb_round_up(K, 64), lda_u8 = Kp + 64;
  // kn_many's rows a call and padding (kernels.h). P (and the K split's parts) go to buffers
  // of their own, rows a line more than the padded N apart, for kn_many's padding and for every
  // K x N product: with P's rows 16 KiB apart (N = 4096, as Y's are) the kernels' sums and B's
  // rows fell on the same L1 sets (Xeon host, AVX-512 VNNI, 1 thread, x 4096 x 4096: 4 rows
  // 0.83-0.84 -> 0.76-0.78 ms, 8 rows 1.27 -> 1.06). Y is written after, with the corrections.
  const bool many = kn && kern.kn_many && M > kGemvRows;
  const size_t pass = many ? kern.many_rows : kGemvRows, m_pad = many ? kern.m_pad : 1, n_pad = many ? kern.n_pad : 1;
  const bool padded = m_pad > 1 || n_pad > 1 || kn;
  const size_t Mp = lb_round_up(M, m_pad), Np = lb_round_up(N, n_pad);
  const size_t ldp = padded ? lb_round_up(Np, 16) + 16 : ldy, ldq = kn ? lb_round_up(N, 16) + 16 : N;
  uint32_t asum[kSmallRowsMax], za[kSmallRowsMax];
  bool any_za = false, any_zb = false;
  for (size_t m = 0; m < M; ++m) {
    za[m] = a_zp ? (uint32_t)load(a_zp, a_type, a_zp_count == 1 ? 0 : m) : 0;
    any_za |= za[m] != 0;
  }
  // S: B's column sums, wanted only for A's zero points.
  lb_scratch a_buf(0, Mp * lda_u8), z_buf(1, N * sizeof(uint32_t)), s_buf(4, any_za ? Np * sizeof(int32_t) : 0),
      pp_buf(6, padded ? Mp * ldp * sizeof(int32_t) : 0);
  uint8_t *a = (uint8_t *)a_buf.get();
  uint32_t *zb = (uint32_t *)z_buf.get();
  int32_t *S = any_za ? (int32_t *)s_buf.get() : nullptr, *P = padded ? (int32_t *)pp_buf.get() : Y;
  if (!a || !zb || (any_za && !S) || !P) return LB_ERR_OUT_OF_MEMORY;
  const lb_epilogue_kernels &ek = *lb_active()->epilogue;
  for (size_t m = 0; m < M; ++m) {
    memcpy(a + m * lda_u8, (const uint8_t *)A + m * lda, K);
    memset(a + m * lda_u8 + K, 0, lda_u8 - K);
    asum[m] = ek.byte_sum(K, a + m * lda_u8, !a_u8);
  }
  memset(a + M * lda_u8, 0, (Mp - M) * lda_u8);
  for (size_t n = 0; n < N; ++n) {
    zb[n] = (uint32_t)((b_zp ? load(b_zp, b_type, b_zp_count == 1 ? 0 : n) : 0) - beta);
    any_zb |= zb[n] != 0;
  }
  const size_t threads = lb_product_threads(M, N, K);
  const lb_gemv_u8_fn kernel = many ? kern.kn_many : kn ? kern.kn : kern.nk;
  // Passes of `pass` rows over B, S with the first.
  auto fn = [&](size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
    for (size_t m0 = 0; m0 < M; m0 += pass)
      kernel(M - m0 < pass ? M - m0 : pass, N, K, a + m0 * lda, lda, a_u8, B, ldb, flip, P + m0 * ldp, ldp,
             m0 ? nullptr : S);
  };
  // Y's columns n0 .. n0 + nc from P's: P + (zb' (K za' - sum_k a) - za' S), in place when P is Y.
  auto finish = [&](size_t n0, size_t nc) {
    if (!padded && !any_za && !any_zb) return;
    for (size_t m = 0; m < M; ++m) {
      const uint32_t *p = (const uint32_t *)(P + m * ldp) + n0;
      uint32_t *y = (uint32_t *)(Y + m * ldy) + n0;
      const uint32_t t = (uint32_t)K * za[m] - asum[m], z = za[m];
      if (any_za)
        for (size_t n = 0; n < nc; ++n) y[n] = p[n] + zb[n0 + n] * t - z * (uint32_t)S[n0 + n];
      else if (any_zb)
        for (size_t n = 0; n < nc; ++n) y[n] = p[n] + zb[n0 + n] * t;
      else
        memcpy(y, p, nc * sizeof(uint32_t));
    }
  };
  size_t kc;
  if (const size_t parts = many ? 0 : k_parts(M, N, K, layout, threads, &kc)) {
    lb_scratch p_buf(2, parts * (M + 1) * ldq * sizeof(int32_t));  // per part: M rows of P, then S
    uint32_t *Pp = (uint32_t *)p_buf.get();
    if (!Pp) return LB_ERR_OUT_OF_MEMORY;
    lb_parallel(parts, [&](size_t t) {
      const size_t k0 = t * kc, kl = K - k0 < kc ? K - k0 : kc;
      int32_t *p = (int32_t *)Pp + t * (M + 1) * ldq;
      fn(M, N, kl, a + k0, lda_u8, a_u8, (const uint8_t *)B + k0 * ldb, ldb, flip, p, ldq, S ? p + M * ldq : nullptr);
    });
    add_parts(parts, M + 1, N, ldq, Pp, threads, [&](size_t r) { return r < M ? (uint32_t *)(P + r * ldp) : (uint32_t *)S; },
              finish);
    return LB_OK;
  }
  // Column blocks, each finished by the task that computed it.
  const size_t cols = lb_round_up(column_block(N, threads), n_pad);
  lb_parallel((N + cols - 1) / cols, [&](size_t t) {
    const size_t n0 = t * cols, nc = N - n0 < cols ? N - n0 : cols;
    fn(M, nc, K, a, lda_u8, a_u8, (const uint8_t *)B + (kn ? n0 : n0 * ldb), ldb, flip, P + n0, ldp,
       S ? S + n0 : nullptr);
    finish(n0, nc);
  });
  return LB_OK;
}

lb_status small_m(size_t M, size_t N, size_t K, const void *A, lb_dtype a_type, size_t lda,
                  const void *B, lb_dtype b_type, lb_layout layout, size_t ldb, const void *a_zp,
                  size_t a_zp_count, const void *b_zp, size_t b_zp_count, int32_t *Y, size_t ldy) {
  if (const lb_gemv_u8_kernels *u8 = lb_active()->gemv_u8)
    return small_m_u8(*u8, M, N, K, A, a_type, lda, B, b_type, layout, ldb, a_zp, a_zp_count, b_zp, b_zp_count, Y, ldy);
  lb_scratch a_buf(0, M * K * sizeof(int16_t)), z_buf(1, b_zp ? N * sizeof(int16_t) : 0);
  int16_t *a = (int16_t *)a_buf.get(), *zb = b_zp ? (int16_t *)z_buf.get() : nullptr;
  if (!a || (b_zp && !zb)) return LB_ERR_OUT_OF_MEMORY;
  uint32_t asum[kGemvRowsKn16];
  for (size_t m = 0; m < M; ++m) {
    const int za = a_zp ? load(a_zp, a_type, a_zp_count == 1 ? 0 : m) : 0;
    asum[m] = 0;
    for (size_t k = 0; k < K; ++k) asum[m] += (uint32_t)(int32_t)(a[m * K + k] = (int16_t)(load(A, a_type, m * lda + k) - za));
  }
  for (size_t n = 0; b_zp && n < N; ++n) zb[n] = (int16_t)load(b_zp, b_type, b_zp_count == 1 ? 0 : n);
  const size_t threads = lb_product_threads(M, N, K);
  const bool b_signed = b_type == LB_INT8;
  const lb_isa_entry &isa = *lb_active();
  size_t kc;
  if (const size_t parts = k_parts(M, N, K, layout, threads, &kc)) {
    lb_scratch p_buf(2, parts * M * N * sizeof(int32_t));
    uint32_t *P = (uint32_t *)p_buf.get();
    if (!P) return LB_ERR_OUT_OF_MEMORY;
    std::atomic<bool> ok{true};
    lb_parallel(parts, [&](size_t t) {
      const size_t k0 = t * kc, kn = K - k0 < kc ? K - k0 : kc;
      lb_scratch s_buf(3, M * kn * sizeof(int16_t));  // the rows' slice of a (the kernel's rows are K apart)
      int16_t *as = (int16_t *)s_buf.get();
      if (!as) return ok.store(false);
      for (size_t m = 0; m < M; ++m) memcpy(as + m * kn, a + m * K + k0, kn * sizeof(int16_t));
      isa.gemv_kn(M, N, kn, as, (const uint8_t *)B + k0 * ldb, ldb, b_signed, zb, (int32_t *)P + t * M * N, N);
    });
    if (!ok.load()) return LB_ERR_OUT_OF_MEMORY;
    add_parts(parts, M, N, N, P, threads, [&](size_t r) { return (uint32_t *)(Y + r * ldy); }, [](size_t, size_t) {});
    return LB_OK;
  }
  const size_t cols = column_block(N, threads);
  lb_parallel((N + cols - 1) / cols, [&](size_t t) {
    const size_t n0 = t * cols, nc = N - n0 < cols ? N - n0 : cols;
    if (layout == LB_LAYOUT_KN)
      isa.gemv_kn(M, nc, K, a, (const uint8_t *)B + n0, ldb, b_signed, zb ? zb + n0 : nullptr, Y + n0, ldy);
    else
      isa.gemv_nk(M, nc, K, a, (const uint8_t *)B + n0 * ldb, ldb, b_signed, zb ? zb + n0 : nullptr, asum, Y + n0, ldy);
  });
  return LB_OK;
}

}  // namespace

extern "C" lb_status lb_matmul_integer(size_t M, size_t N, size_t K, const void *A, lb_dtype a_type,
                                       size_t lda, const void *B, lb_dtype b_type,
                                       lb_layout b_layout, size_t ldb, const void *a_zp,
                                       size_t a_zp_count, const void *b_zp, size_t b_zp_count,
                                       int32_t *Y, size_t ldy) {
  lb_status st = lb_check_matmul_integer_args(M, N, K, A, a_type, lda, B, b_type, b_layout, ldb,
                                              a_zp, a_zp_count, b_zp, b_zp_count, Y, ldy);
  if (st != LB_OK || M == 0 || N == 0) return st;
  if (small_m_fits(M, N, K, b_layout))
    return small_m(M, N, K, A, a_type, lda, B, b_type, b_layout, ldb, a_zp, a_zp_count, b_zp, b_zp_count, Y, ldy);
  lb_packed_weights w{};
  const lb_kernel_entry *e = lb_select_kernel(LB_KERNEL_RAW_I8, b_type, lb_active_index());
  if (lb_raw_blockwise(*e->raw, b_layout)) {
    lb_raw_shape(*e->raw, b_type, N, K, &w);
    const lb_raw_source src{(const uint8_t *)B, b_layout, ldb};
    return product(M, A, a_type, lda, a_zp, a_zp_count, w, b_zp, b_zp_count, Y, ldy, &src);
  }
  if ((st = lb_pack_raw(*e->raw, B, b_type, b_layout, ldb, N, K, &w, true)) != LB_OK) return st;
  st = product(M, A, a_type, lda, a_zp, a_zp_count, w, b_zp, b_zp_count, Y, ldy);
  release(&w);
  return st;
}

extern "C" lb_status lb_matmul_integer_opts(size_t M, size_t N, size_t K, const void *A, lb_dtype a_type,
                                            size_t lda, const void *B, lb_dtype b_type, lb_layout b_layout,
                                            size_t ldb, const void *a_zp, size_t a_zp_count, const void *b_zp,
                                            size_t b_zp_count, const lb_call_opts *opts, int32_t *Y, size_t ldy) {
  if (opts && opts->threads > 1024) return LB_ERR_INVALID_ARGUMENT;
  lb_local_threads scope(opts ? opts->threads : 0);
  return lb_matmul_integer(M, N, K, A, a_type, lda, B, b_type, b_layout, ldb, a_zp, a_zp_count, b_zp, b_zp_count,
                           Y, ldy);
}

extern "C" lb_status lb_matmul_integer_packed(size_t M, const void *A, lb_dtype a_type, size_t lda,
                                              const void *a_zp, size_t a_zp_count,
                                              const lb_packed_weights *W, const lb_call_opts *opts,
                                              int32_t *Y, size_t ldy) {
  if (!W || W->scale || W->entry->kind != LB_KERNEL_RAW_I8) return LB_ERR_INVALID_ARGUMENT;
  lb_status st = lb_check_matmul_integer_args(M, W->N, W->K, A, a_type, lda, W->Bp, W->type,
                                              LB_LAYOUT_NK, W->K, a_zp, a_zp_count, nullptr, 0,
                                              Y, ldy);
  if (st != LB_OK || M == 0 || W->N == 0) return st;
  lb_local_threads scope(opts ? opts->threads : 0);
  return product(M, A, a_type, lda, a_zp, a_zp_count, *W, nullptr, 0, Y, ldy);
}
