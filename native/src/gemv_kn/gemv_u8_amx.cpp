// The caller's K x N bytes times 9 to many_rows rows of a, AMX-INT8 (kernels.h,
// lb_gemv_u8_kernels, kn_many): the walk of kn_units_zmm.h, each strip's quads read as B tiles
// (a 64-k block of a quad vector j is tile j) and multiplied by a's tiles with tdpbusd /
// tdpbsud, P's int32 tiles kept in P between slabs. At 64 x 4096 x 4096 on one thread the
// unpacking takes 0.8 ms of the call and the tiles 0.6, and the two do not overlap: unpacking
// the next unit between this one's tile products (a double buffer) was slower, 1 x 4096 x 4096
// 1.15-1.20 -> 1.50-1.57 ms.
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "../gemm_driver.h"
#include "../kernels.h"
#include "kn_units_zmm.h"

namespace {

// The tile product for a's signedness: uint8 a x int8 B', or int8 a x uint8 B'.
#define LB_TDP(C, A, B)                   \
  do {                                    \
    if constexpr (kAU8) _tile_dpbusd(C, A, B); \
    else _tile_dpbsud(C, A, B);           \
  } while (0)

// The 16 or 32 rows of P at m (two: 32) x one strip of 64 columns at n, over kb k-blocks of
// the slab (a at its first column) and the strip's quads Bt: the C tiles start at zero (first) or from P and go back
// to P. One row tile: its four column tiles at once (tmm0-3), B tiles alternating in tmm6-7;
// two row tiles: two column tiles at a time (tmm0-3 a 2 x 2 block).
// tmm0-3 from zero (first) or from the C tiles at c[0 .. 3]; and back to them.
inline void c_tiles_load(bool first, int32_t *const (&c)[4], size_t stride) {
  if (first) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  } else {
    _tile_loadd(0, c[0], stride);
    _tile_loadd(1, c[1], stride);
    _tile_loadd(2, c[2], stride);
    _tile_loadd(3, c[3], stride);
  }
}
inline void c_tiles_store(int32_t *const (&c)[4], size_t stride) {
  _tile_stored(0, c[0], stride);
  _tile_stored(1, c[1], stride);
  _tile_stored(2, c[2], stride);
  _tile_stored(3, c[3], stride);
}

template <bool kAU8, bool kTwo>
void strip_product(size_t kb_count, bool first, const uint8_t *a, size_t lda, const int8_t *Bt, int32_t *P,
                   size_t ldp) {
  const size_t stride = ldp * sizeof(int32_t);
  if (!kTwo) {
    int32_t *const c[4] = {P, P + 16, P + 32, P + 48};
    c_tiles_load(first, c, stride);
    for (size_t kb = 0; kb < kb_count; ++kb) {
      const int8_t *b = Bt + kb * 4096;
      _tile_loadd(4, a + kb * 64, lda);
      _tile_loadd(6, b, 64);
      _tile_loadd(7, b + 1024, 64);
      LB_TDP(0, 4, 6);
      _tile_loadd(6, b + 2048, 64);
      LB_TDP(1, 4, 7);
      _tile_loadd(7, b + 3072, 64);
      LB_TDP(2, 4, 6);
      LB_TDP(3, 4, 7);
    }
    c_tiles_store(c, stride);
    return;
  }
  for (size_t jp = 0; jp < 4; jp += 2) {
    int32_t *const c[4] = {P + 16 * jp, P + 16 * jp + 16, P + 16 * ldp + 16 * jp, P + 16 * ldp + 16 * jp + 16};
    c_tiles_load(first, c, stride);
    for (size_t kb = 0; kb < kb_count; ++kb) {
      const int8_t *b = Bt + kb * 4096 + 1024 * jp;
      _tile_loadd(4, a + kb * 64, lda);
      _tile_loadd(6, b, 64);
      _tile_loadd(5, a + 16 * lda + kb * 64, lda);
      _tile_loadd(7, b + 1024, 64);
      LB_TDP(0, 4, 6);
      LB_TDP(1, 4, 7);
      LB_TDP(2, 5, 6);
      LB_TDP(3, 5, 7);
    }
    c_tiles_store(c, stride);
  }
}
#undef LB_TDP

template <bool kAU8>
void kn(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, uint8_t flip,
        int32_t *P, size_t ldp, int32_t *S) {
  const size_t Mp = (M + 15) & ~size_t(15);
  lb_amx_configure(16, 64);
  kn_walk<kAU8>(M, N, K, B, ldb, flip, P, ldp, S, [&](const kn_unit &u, size_t kq_count, bool first, const int8_t *quads, int32_t *p) {
    size_t m = 0;
    for (; m + 32 <= Mp; m += 32) strip_product<kAU8, true>(kq_count / 16, first, a + m * lda + u.k0, lda, quads, p + m * ldp, ldp);
    if (m < Mp) strip_product<kAU8, false>(kq_count / 16, first, a + m * lda + u.k0, lda, quads, p + m * ldp, ldp);
  });
  _tile_release();
}

// ---- K x N with B's own rows as B tiles ----------------------------------------------------
// A B tile loaded from K x N memory (16 rows of 64 bytes, ldb apart) holds in its dword j the
// columns 4 j .. 4 j + 3 of one k each, and the tile product sums a dword's four bytes as if
// they were four k. So each row m of a goes in as four rows (m, q): row (m, q) of a step's A
// tile has a[m, k] in byte q of dword k (zeros in the other bytes), and C's row (m, q), column
// j sums a[m, k] B[k, 4 j + q] over the step's 16 k: output column 4 j + q. Three quarters of
// each tile product are zeros, but B is never unpacked nor written: nothing of the vector
// units is on B's path (kn_many's unpacking took 0.8 ms of 1.9 at 64 x 4096 x 4096). The tile
// instruction takes B's signedness as it is (all four pairs exist), so B needs no flip; the
// flip the contract asks for is 128 a's row sum (and 128 K for S) added at the end.
// A tiles for the 16 steps k0 ..: row tile t (rows 4 t .. 4 t + 3 of a, then the ones row for S at
// `ones`, then zero rows), step s at Ap + (t * steps + s) * 1024, row 4 i + q holding a[4 t + i,
// k0 + 16 s + kk] in byte q of dword kk. a is readable (and zero) to K rounded up to 64.
void raw_expand_a(size_t M, size_t rows, size_t K, size_t k0, size_t steps, const uint8_t *a, size_t lda, size_t ones,
                  uint8_t *Ap) {
  for (size_t m = 0; m < rows; ++m) {
    uint8_t *dst = Ap + (m / 4 * steps) * 1024 + m % 4 * 256;
    for (size_t s = 0; s < steps; ++s, dst += 1024) {
      const size_t k = k0 + 16 * s;
      __m128i x = _mm_setzero_si128();
      if (m < M) x = _mm_loadu_si128((const __m128i *)(a + m * lda + k));
      else if (m == ones) x = _mm_maskz_set1_epi8(K - k >= 16 ? 0xFFFF : (__mmask16)((1u << (K - k)) - 1), 1);
      const __m512i v = _mm512_cvtepu8_epi32(x);
      _mm512_store_si512(dst, v);
      _mm512_store_si512(dst + 64, _mm512_slli_epi32(v, 8));
      _mm512_store_si512(dst + 128, _mm512_slli_epi32(v, 16));
      _mm512_store_si512(dst + 192, _mm512_slli_epi32(v, 24));
    }
  }
}

// 64 sums in tile order (row q: columns 4 j + q) into column order, plus add, to y's first w.
inline void raw_to_columns(const int32_t *q, uint32_t add, int32_t *y, size_t w) {
  const __m512i a = _mm512_load_si512(q), b = _mm512_load_si512(q + 16), c = _mm512_load_si512(q + 32),
                d = _mm512_load_si512(q + 48);
  const __m512i t0 = _mm512_unpacklo_epi32(a, b), t1 = _mm512_unpackhi_epi32(a, b);
  const __m512i t2 = _mm512_unpacklo_epi32(c, d), t3 = _mm512_unpackhi_epi32(c, d);
  const __m512i u[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2), _mm512_unpacklo_epi64(t1, t3),
                        _mm512_unpackhi_epi64(t1, t3)};
  __m512i o[4];
  lb_quads_to_columns(u, o);
  const __m512i ad = _mm512_set1_epi32((int)add);
  for (size_t v = 0; v < 4 && 16 * v < w; ++v)
    _mm512_mask_storeu_epi32(y + 16 * v, w - 16 * v >= 16 ? 0xFFFF : (__mmask16)((1u << (w - 16 * v)) - 1),
                             _mm512_add_epi32(o[v], ad));
}

// C tiles tmm0 .. kR - 1: from zero, from Q, back to Q (row tile t's at q + 256 t).
template <int kR, int T = 0>
inline void raw_c_load(bool zero, const int32_t *q) {
  if constexpr (T < kR) {
    if (zero) lb_tile_zero<T>();
    else lb_tile_load<T>(q + 256 * T, 64);
    raw_c_load<kR, T + 1>(zero, q);
  }
}
template <int kR, int T = 0>
inline void raw_c_store(int32_t *q) {
  if constexpr (T < kR) {
    lb_tile_store<T>(q + 256 * T, 64);
    raw_c_store<kR, T + 1>(q);
  }
}

// The step's product for row tiles T .. kR - 1, two at a time: their A tiles (at ap + T *
// a_stride) into tmm4 and tmm5, then both products with the B tile in tmm kB. (Each load
// just before its product, the loads waited for the products: 8 rows 0.84 -> 1.07-1.12 ms.)
template <bool kAU8, bool kBU8, int kR, int kB, int T = 0>
inline void raw_rows(const uint8_t *ap, size_t a_stride) {
  if constexpr (T + 1 < kR) {
    lb_tile_load<4>(ap + T * a_stride, 64);
    lb_tile_load<5>(ap + (T + 1) * a_stride, 64);
    lb_tile_dp<kAU8, kBU8, T, 4, kB>();
    lb_tile_dp<kAU8, kBU8, T + 1, 5, kB>();
    raw_rows<kAU8, kBU8, kR, kB, T + 2>(ap, a_stride);
  } else if constexpr (T < kR) {
    lb_tile_load<4>(ap + T * a_stride, 64);
    lb_tile_dp<kAU8, kBU8, T, 4, kB>();
  }
}

// Rows of B a sweep: 2 steps of 16.
constexpr size_t kRawSweep = 32;

// kR row tiles (1 to 3): sweeps of 32 rows of B along the chunk's cs strips at c0 (32
// sequential streams for the prefetchers), each strip's C tiles loaded from Q and stored back
// around its two B tiles; the sweep's A tiles are read from L1. Xeon host, 1 thread, 8 rows,
// ms: x 4096 x 4096 0.87-0.90 (sweeps of 64 rows the same, of 16 1.01-1.08: Q's traffic);
// x 11008 x 4096 (45 MB, from memory) 1.83-1.91 against 5.5-8.2 for 64 rows (2.4 for 16).
// The tiles of B loaded a slab at a time (256 rows x 4 strips, C held across the slab) took
// 0.95 at 4096 x 4096; software prefetch 1, 2 or 4 strips ahead was slower by 10-20%.
template <bool kAU8, bool kBU8, int kR>
void raw_sweeps(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, size_t ones,
                size_t c0, size_t cs, int32_t *Q, uint8_t *Ap) {
  constexpr size_t kSteps = kRawSweep / 16;
  alignas(64) uint8_t stage[1024];
  for (size_t k0 = 0; k0 < K; k0 += kRawSweep) {
    const size_t kc = K - k0 < kRawSweep ? K - k0 : kRawSweep, steps = (kc + 15) / 16;
    raw_expand_a(M, 4 * kR, K, k0, kSteps, a, lda, ones, Ap);
    for (size_t g = 0; g < cs; ++g) {
      const size_t n = c0 + 64 * g;
      int32_t *q = Q + g * kR * 256;
      raw_c_load<kR>(k0 == 0, q);
      const bool direct = kc == kRawSweep && n + 64 <= N;
      for (size_t s = 0; s < steps; ++s) {
        const uint8_t *b = B + (k0 + 16 * s) * ldb + n;
        size_t stride = ldb;
        if (!direct) {  // past N or K: a zero-padded copy
          memset(stage, 0, sizeof stage);
          for (size_t r = 0; r < 16 && 16 * s + r < kc; ++r) memcpy(stage + 64 * r, b + r * ldb, N - n < 64 ? N - n : 64);
          b = stage;
          stride = 64;
        }
        if (s % 2 == 0) {
          lb_tile_load<6>(b, stride);
          raw_rows<kAU8, kBU8, kR, 6>(Ap + s * 1024, kSteps * 1024);
        } else {
          lb_tile_load<7>(b, stride);
          raw_rows<kAU8, kBU8, kR, 7>(Ap + s * 1024, kSteps * 1024);
        }
      }
      raw_c_store<kR>(q);
    }
  }
}

// The kernel (kernels.h, lb_gemv_u8_fn) for a's and B's signedness, up to 8 rows (with S's row
// of ones, one to three row tiles).
template <bool kAU8, bool kBU8>
bool kn_rows(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, int32_t *P,
             size_t ldp, int32_t *S) {
  if (N == 0) return true;
  if (K == 0) {
    for (size_t m = 0; m < M; ++m) memset(P + m * ldp, 0, N * sizeof(int32_t));
    if (S) memset(S, 0, N * sizeof(int32_t));
    return true;
  }
  // B' = B ^ 0x80 where B has a's signedness: b' = b - 128 (a uint8) or b + 128.
  const int32_t beta = kAU8 != kBU8 ? 0 : kAU8 ? -128 : 128;
  const size_t rows = M + (S ? 1 : 0), R = (rows + 3) / 4, ones = S ? M : ~size_t(0);
  // Q keeps the C tiles between sweeps, strip by strip (R KiB each), for a chunk of columns
  // (at most about 512 KiB of Q: in L2).
  const size_t strips_all = (N + 63) / 64, chunk = strips_all < 512 / R ? strips_all : 512 / R;
  lb_scratch q_buf(7, chunk * R * 1024), a_buf(8, R * kRawSweep / 16 * 1024);
  int32_t *Q = (int32_t *)q_buf.get();
  uint8_t *Ap = (uint8_t *)a_buf.get();
  if (!Q || !Ap) return false;
  uint32_t asum[8] = {};  // a's row sums, for the flip (this ISA's epilogue kernel)
  for (size_t m = 0; beta && m < M; ++m) asum[m] = epilogue_avx512.byte_sum(K, a + m * lda, !kAU8);
  lb_amx_configure(R == 1 ? (unsigned)(4 * rows) : 16, 64);
  for (size_t c0 = 0; c0 < N; c0 += chunk * 64) {
    const size_t cs = (N - c0 + 63) / 64 < chunk ? (N - c0 + 63) / 64 : chunk;
    if (R == 1) raw_sweeps<kAU8, kBU8, 1>(M, N, K, a, lda, B, ldb, ones, c0, cs, Q, Ap);
    else if (R == 2) raw_sweeps<kAU8, kBU8, 2>(M, N, K, a, lda, B, ldb, ones, c0, cs, Q, Ap);
    else raw_sweeps<kAU8, kBU8, 3>(M, N, K, a, lda, B, ldb, ones, c0, cs, Q, Ap);
    for (size_t g = 0; g < cs; ++g) {
      const size_t n = c0 + 64 * g, w = N - n < 64 ? N - n : 64;
      const int32_t *q = Q + g * R * 256;
      for (size_t m = 0; m < M; ++m) raw_to_columns(q + m * 64, (uint32_t)beta * asum[m], P + m * ldp + n, w);
      if (S) raw_to_columns(q + M * 64, (uint32_t)beta * (uint32_t)K, S + n, w);
    }
  }
  _tile_release();
  return true;
}

// Up to 8 rows (kernels.h, lb_gemv_u8_kernels::kn): 1 and 2 rows the vpdpbusd kernel, which
// streams B at the prepacked product's speed there; from 3 the tiles. Xeon host, x 4096 x 4096,
// 1 thread, ms, that kernel -> the tiles: 1 row 0.59 -> 0.73, 2 rows 0.67-0.69 -> 0.72-0.73,
// 3 rows 0.78-0.80 -> 0.75, 4 rows 0.84 -> 0.78-0.80 (with S, 5 rows of tiles: 0.86 -> 0.89),
// 8 rows 1.26-1.29 -> 0.85-0.90.
void gemv_kn_u8_amx_rows(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                         size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  const bool b_u8 = a_u8 == (flip != 0);
  // The tiles need Q and the A tiles' buffer (up to 512 KiB, kept by the thread); without them
  // the vpdpbusd kernel.
  const bool done = M >= 3 && (a_u8 ? b_u8 ? kn_rows<true, true>(M, N, K, a, lda, B, ldb, P, ldp, S)
                                          : kn_rows<true, false>(M, N, K, a, lda, B, ldb, P, ldp, S)
                                   : b_u8 ? kn_rows<false, true>(M, N, K, a, lda, B, ldb, P, ldp, S)
                                          : kn_rows<false, false>(M, N, K, a, lda, B, ldb, P, ldp, S));
  if (!done) gemv_kn_u8_avx512vnni(M, N, K, a, lda, a_u8, B, ldb, flip, P, ldp, S);
}

void gemv_kn_u8_amx(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                    size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) kn<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else kn<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

}  // namespace

const lb_gemv_u8_kernels gemv_u8_amx = {gemv_kn_u8_amx_rows, gemv_nk_u8_avx512vnni, gemv_kn_u8_amx, kGemvKnRowsAmx,
                                        16, 64};
