// The caller's K x N bytes times 9 to many_rows rows of a, AMX-INT8 (kernels.h,
// lb_gemv_u8_kernels, kn_many): matmulInteger's K x N path where packing B whole first cost
// twice the product (64 x 4096 x 4096, one thread: 3.05 ms against 1.09 on prepacked weights).
// B is read once, as it lies, and never written back. The walk goes in units of kSlab rows x
// kChunk columns, slab by slab. Four rows at a time along the chunk become (k .. k + 3) quads
// by two unpack levels (lb_quads), stored as B tiles in a 64 KiB buffer; tdpbusd / tdpbsud
// then multiply them with a's tiles. The unpacks work within 128-bit lanes, so tile j of a
// 64-column strip holds the columns 16 l + 4 j + i in its slot 4 l + i: P's tiles keep that
// order between slabs and a 4 x 4 transpose of lanes puts each strip in column order at the end.
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "../gemm_i8/quads_zmm.h"
#include "../kernels.h"
#include "../tile_loop.h"

namespace {

// A unit of the walk: kSlab rows of B (a page each, few enough for the STLB while the slab's
// chunks pass) x kChunk columns, 64 KiB of B tiles. Against 128 or 512 for either, on the AMX
// host: the same or slower at 16 and 64 rows.
constexpr size_t kSlab = 256, kChunk = 256;
constexpr size_t kStripBytes = kSlab / 64 * 4096, kUnitBytes = kChunk / 64 * kStripBytes;

inline void dpbusd(__m512i &acc, __m512i u, __m512i s) { __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s)); }

// A unit of the walk over B: rows k0 .. k0 + kc (a slab), columns c0 .. c0 + cn (a chunk).
struct unit {
  size_t k0, kc, c0, cn;
};

// The unit's B' = B ^ flip as B tiles at Bt: strip s (64 columns) at Bt + s * kStripBytes, its
// k-block kb (4 KiB) at + 4096 kb, tile j at + 1024 j. Rows past kc (to the k-block's end) are
// zero; columns past cn read as 0 ^ flip (no output of the caller's depends on them). Column
// sums (in the unpacks' order) added to Sq when not null.
template <bool kAU8>
void pack_unit(const unit &u, const uint8_t *B, size_t ldb, __m512i fl, int8_t *Bt, int32_t *Sq) {
  const __m512i ones = _mm512_set1_epi8(1);
  const size_t strips = (u.cn + 63) / 64;
  const __mmask64 last = u.cn % 64 ? ((__mmask64)1 << (u.cn % 64)) - 1 : ~(__mmask64)0;
  const size_t kcp = (u.kc + 63) & ~size_t(63);
  for (size_t k = 0; k < kcp; k += 4) {
    int8_t *t = Bt + (k / 64) * 4096 + (k % 64) * 16;  // row (k % 64) / 4 of the k-block's tiles
    for (size_t s = 0; s < strips; ++s) {
      const __mmask64 cols = s + 1 < strips ? ~(__mmask64)0 : last;
      __m512i r[4], q[4];
      LB_UNROLL for (int i = 0; i < 4; ++i) {
        r[i] = k + i < u.kc ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(cols, B + (u.k0 + k + i) * ldb + u.c0 + 64 * s), fl)
                            : _mm512_setzero_si512();
      }
      lb_quads(r, q);
      LB_UNROLL for (int j = 0; j < 4; ++j) _mm512_store_si512(t + s * kStripBytes + 1024 * j, q[j]);
      if (Sq)
        LB_UNROLL for (int j = 0; j < 4; ++j) {
          __m512i acc = _mm512_load_si512(Sq + u.c0 + 64 * s + 16 * j);
          kAU8 ? dpbusd(acc, ones, q[j]) : dpbusd(acc, q[j], ones);
          _mm512_store_si512(Sq + u.c0 + 64 * s + 16 * j, acc);
        }
    }
  }
}

// The tile product for a's signedness: uint8 a x int8 B', or int8 a x uint8 B'.
#define LB_TDP(C, A, B)                   \
  do {                                    \
    if constexpr (kAU8) _tile_dpbusd(C, A, B); \
    else _tile_dpbsud(C, A, B);           \
  } while (0)

// The 16 or 32 rows of P at m (two: 32) x one strip of 64 columns at n, over kb k-blocks of
// the slab at k0 (a's column) and Bt: the C tiles start at zero (first) or from P and go back
// to P. One row tile: its four column tiles at once (tmm0-3), B tiles alternating in tmm6-7;
// two row tiles: two column tiles at a time (tmm0-3 a 2 x 2 block).
template <bool kAU8, bool kTwo>
void strip_product(size_t kb_count, bool first, const uint8_t *a, size_t lda, const int8_t *Bt, int32_t *P,
                   size_t ldp) {
  const size_t stride = ldp * sizeof(int32_t);
  if (!kTwo) {
    if (first) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    } else {
      _tile_loadd(0, P, stride);
      _tile_loadd(1, P + 16, stride);
      _tile_loadd(2, P + 32, stride);
      _tile_loadd(3, P + 48, stride);
    }
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
    _tile_stored(0, P, stride);
    _tile_stored(1, P + 16, stride);
    _tile_stored(2, P + 32, stride);
    _tile_stored(3, P + 48, stride);
    return;
  }
  for (size_t jp = 0; jp < 4; jp += 2) {
    int32_t *c = P + 16 * jp;
    if (first) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    } else {
      _tile_loadd(0, c, stride);
      _tile_loadd(1, c + 16, stride);
      _tile_loadd(2, c + 16 * ldp, stride);
      _tile_loadd(3, c + 16 * ldp + 16, stride);
    }
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
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    _tile_stored(2, c + 16 * ldp, stride);
    _tile_stored(3, c + 16 * ldp + 16, stride);
  }
}
#undef LB_TDP

// The 64 values at p, in the unpacks' order, into column order (in place).
inline void to_columns(int32_t *p) {
  const __m512i q[4] = {_mm512_load_si512(p), _mm512_load_si512(p + 16), _mm512_load_si512(p + 32),
                        _mm512_load_si512(p + 48)};
  __m512i c[4];
  lb_quads_to_columns(q, c);
  LB_UNROLL for (int b = 0; b < 4; ++b) _mm512_store_si512(p + 16 * b, c[b]);
}

// The walk: units slab by slab (a slab's pages stay in the STLB while its chunks pass), chunk
// by chunk, each unpacked into Bt, then multiplied. (Unpacking the next unit between the tile
// products of this one, into the other half of a double Bt, made 1 x 4096 x 4096 1.15-1.20 ->
// 1.50-1.57 ms: the two did not overlap. Walking each slab strip by strip, a line from each of
// its 256 rows at a time: 1.9 ms.)
template <bool kAU8>
void kn(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, uint8_t flip,
        int32_t *P, size_t ldp, int32_t *S) {
  const size_t Mp = (M + 15) & ~size_t(15), Np = (N + 63) & ~size_t(63);
  if (S) memset(S, 0, Np * sizeof(int32_t));
  if (K == 0) {  // no unit runs
    for (size_t m = 0; m < M; ++m) memset(P + m * ldp, 0, N * sizeof(int32_t));
    return;
  }
  const __m512i fl = _mm512_set1_epi8((char)flip);
  alignas(64) int8_t Bt[kUnitBytes];
  lb_amx_configure(16, 64);
  for (size_t k0 = 0; k0 < K; k0 += kSlab) {
    for (size_t c0 = 0; c0 < N; c0 += kChunk) {
      const unit u{k0, K - k0 < kSlab ? K - k0 : kSlab, c0, N - c0 < kChunk ? N - c0 : kChunk};
      const size_t kb_count = (u.kc + 63) / 64;
      pack_unit<kAU8>(u, B, ldb, fl, Bt, S);
      for (size_t n = 0; n < u.cn; n += 64) {
        const int8_t *bt = Bt + n / 64 * kStripBytes;
        int32_t *p = P + c0 + n;
        size_t m = 0;
        for (; m + 32 <= Mp; m += 32) strip_product<kAU8, true>(kb_count, k0 == 0, a + m * lda + k0, lda, bt, p + m * ldp, ldp);
        if (m < Mp) strip_product<kAU8, false>(kb_count, k0 == 0, a + m * lda + k0, lda, bt, p + m * ldp, ldp);
      }
    }
  }
  _tile_release();
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < Np; n += 64) to_columns(P + m * ldp + n);
  if (S)
    for (size_t n = 0; n < Np; n += 64) to_columns(S + n);
}

void gemv_kn_u8_amx(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                    size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) kn<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else kn<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

}  // namespace

const lb_gemv_u8_kernels gemv_u8_amx = {gemv_kn_u8_avx512vnni, gemv_nk_u8_avx512vnni, gemv_kn_u8_amx, kGemvKnRowsAmx,
                                        16, 64};
