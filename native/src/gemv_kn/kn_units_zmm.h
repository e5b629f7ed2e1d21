// The walk over the caller's K x N bytes that the kn_many kernels share (kernels.h,
// lb_gemv_u8_kernels; gemv_u8_amx.cpp, gemv_u8_avx512vnni.cpp): B read once, as it lies, and
// never written back. Units of kSlab rows x kChunk columns, slab by slab (a slab's pages stay in
// the STLB while its chunks pass), chunk by chunk; four rows at a time along the chunk become
// (k .. k + 3) quads by two unpack levels (lb_quads) in a 64 KiB buffer, which the ISA's product
// then reads. The unpacks work within 128-bit lanes, so quad vector j of a 64-column strip holds
// the columns 16 l + 4 j + i in its lane l, word i: P keeps that order between slabs and a 4 x 4
// transpose of lanes puts each strip in column order at the end. (Packing B whole first cost
// twice the product at 64 x 4096 x 4096 on AMX. Walking each slab strip by strip, a line from
// each of 256 rows at a time, was slower by half: TLB misses, and no stream for the prefetchers.)
// Include it after the file's target pragma (AVX-512 BW and VNNI at least).
#pragma once
#include <immintrin.h>
#include <string.h>

#include "../gemm_i8/quads_zmm.h"
#include "../tile_loop.h"

namespace {

// Against 128 or 512 for either, on the AMX host: the same or slower at 16 and 64 rows.
constexpr size_t kKnSlab = 256, kKnChunk = 256;
// Bytes of one strip's quads in the buffer: kKnSlab / 4 rows of 4 x 64 bytes, in k-blocks of
// 64 k (4 KiB: quad vector j of the block at + 1024 j, an AMX B tile), and of a unit.
constexpr size_t kKnStripBytes = kKnSlab / 64 * 4096, kKnUnitBytes = kKnChunk / 64 * kKnStripBytes;

// The quad vector j of k-quad kq (0 .. kKnSlab / 4) of a strip.
inline const int8_t *kn_quads(const int8_t *strip, size_t kq, int j) {
  return strip + kq / 16 * 4096 + 1024 * j + kq % 16 * 64;
}

// acc + the four-byte dot products of a's bytes x and B's bytes b, each as its signedness says
// (a uint8 when kAU8, B' then int8). Through asm: with the intrinsic GCC 12 copied an 8 x 2
// tile's accumulators between registers and the stack every step (perf; 8 x 4096 x 4096 N x K
// ran at a third of its peak).
template <bool kAU8>
inline __m512i kn_dp(__m512i acc, __m512i x, __m512i b) {
  if (kAU8) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(b));
  else __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(b), "v"(x));
  return acc;
}

// Rows k0 .. k0 + kc (a slab), columns c0 .. c0 + cn (a chunk) of B.
struct kn_unit {
  size_t k0, kc, c0, cn;
};

// The unit's B' = B ^ flip as quads at Bt (strip s at Bt + s * kKnStripBytes, kn_quads). Rows
// past kc (to the 64-row block's end) are zero; columns past cn read as 0 ^ flip (no output of
// the caller's depends on them). Column sums (in the unpacks' order) added to Sq when not null.
template <bool kAU8>
void kn_pack_unit(const kn_unit &u, const uint8_t *B, size_t ldb, __m512i fl, int8_t *Bt, int32_t *Sq) {
  const __m512i ones = _mm512_set1_epi8(1);
  const size_t strips = (u.cn + 63) / 64, kcp = (u.kc + 63) & ~size_t(63);
  const __mmask64 last = u.cn % 64 ? ((__mmask64)1 << (u.cn % 64)) - 1 : ~(__mmask64)0;
  for (size_t k = 0; k < kcp; k += 4) {
    int8_t *t = (int8_t *)kn_quads(Bt, k / 4, 0);
    for (size_t s = 0; s < strips; ++s) {
      const __mmask64 cols = s + 1 < strips ? ~(__mmask64)0 : last;
      __m512i r[4], q[4];
      LB_UNROLL for (int i = 0; i < 4; ++i) {
        r[i] = k + i < u.kc ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(cols, B + (u.k0 + k + i) * ldb + u.c0 + 64 * s), fl)
                            : _mm512_setzero_si512();
      }
      lb_quads(r, q);
      LB_UNROLL for (int j = 0; j < 4; ++j) _mm512_store_si512(t + s * kKnStripBytes + 1024 * j, q[j]);
      if (Sq)
        LB_UNROLL for (int j = 0; j < 4; ++j) {
          int32_t *sq = Sq + u.c0 + 64 * s + 16 * j;
          _mm512_store_si512(sq, kn_dp<kAU8>(_mm512_load_si512(sq), ones, q[j]));
        }
    }
  }
}

// The 64 values at p, in the unpacks' order, into column order (in place).
inline void kn_to_columns(int32_t *p) {
  const __m512i q[4] = {_mm512_loadu_si512(p), _mm512_loadu_si512(p + 16), _mm512_loadu_si512(p + 32),
                        _mm512_loadu_si512(p + 48)};
  __m512i c[4];
  lb_quads_to_columns(q, c);
  LB_UNROLL for (int b = 0; b < 4; ++b) _mm512_storeu_si512(p + 16 * b, c[b]);
}

// The walk for kn_many (its contract in kernels.h; P and S padded to 64 columns): each unit
// packed, then strip(u, kq_count, first, quads, p) multiplies every row of a (its columns
// u.k0 ..) by one strip's quads (kq_count k-quads, the last zero past kc) into P's columns p ..
// p + 63 (from zero when first, else adding).
template <bool kAU8, class Strip>
void kn_walk(size_t M, size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip, int32_t *P, size_t ldp,
             int32_t *S, Strip &&strip) {
  const size_t Np = (N + 63) & ~size_t(63);
  if (S) memset(S, 0, Np * sizeof(int32_t));
  if (K == 0) {  // no unit runs
    for (size_t m = 0; m < M; ++m) memset(P + m * ldp, 0, N * sizeof(int32_t));
    return;
  }
  const __m512i fl = _mm512_set1_epi8((char)flip);
  alignas(64) int8_t Bt[kKnUnitBytes];
  for (size_t k0 = 0; k0 < K; k0 += kKnSlab)
    for (size_t c0 = 0; c0 < N; c0 += kKnChunk) {
      const kn_unit u{k0, K - k0 < kKnSlab ? K - k0 : kKnSlab, c0, N - c0 < kKnChunk ? N - c0 : kKnChunk};
      kn_pack_unit<kAU8>(u, B, ldb, fl, Bt, S);
      // GCC's tile loads are asm naming no memory: without this barrier the stores to Bt could
      // move past them (or, unread in C, vanish).
      __asm__ volatile("" ::: "memory");
      for (size_t n = 0; n < u.cn; n += 64) strip(u, (u.kc + 63) / 64 * 16, k0 == 0, Bt + n / 64 * kKnStripBytes, P + c0 + n);
    }
  for (size_t m = 0; m < M; ++m)
    for (size_t n = 0; n < Np; n += 64) kn_to_columns(P + m * ldp + n);
  if (S)
    for (size_t n = 0; n < Np; n += 64) kn_to_columns(S + n);
}

}  // namespace
