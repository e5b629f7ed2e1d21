// Grouped GEMM, AVX-512 VNNI (kernels.h, lb_ggemm_args): weights stored unsigned (u8 / u4 / u2)
// in panels of 16 columns, activations int8; vpdpbusd takes the weights as its unsigned operand
// and a broadcast of four activation bytes as the signed one, so each accumulator holds 16
// outputs and every product is exact (|u| <= 255, |a| <= 128: four products fit an int32 lane).
// One 64-byte load gives 8 / bits k-steps of 16 columns: a shift and a mask each (none at 8
// bits). At a group's end each accumulator is corrected for the zero point, converted, scaled
// and added to its float accumulator in SPEC §4's order.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "../tile_loop.h"
#include "ggemm_zmm_common.h"



namespace {

// 4 and 2 bits: each operand is one AND of the load (2 bits: of it and of it >> 2), the higher
// field masked in place (16 u: still a byte, and vpdpbusd sums without saturating), so no
// shift per operand. Operands of weight 16 go to accumulators of their own (acc16), shifted
// right by 4 and added to the others every kSeg chunks and at each group's end: exact, since
// those sums stay 16 times an integer below 2^27 (8192 chunks of 4-bit weights:
// 8192 * 4 * 240 * 128 < 2^31).
constexpr size_t kSeg = 8192;

// Groups ahead that the streaming tiles fetch each panel's scales (4 and 8 gave the same).
constexpr size_t kScaleAhead = 8;

// vpdpbusd through asm for the tiles with acc16: with the intrinsic, GCC 12 copied each acc16
// register out and back in every iteration (8 extra moves a chunk in the 1 x 4 tile).
inline void dpbusd(__m512i &acc, __m512i u, __m512i s) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
}

// R rows x C panels of 16 columns: R x C float and int32 accumulators, and for 4 and 2 bits in
// tiles of up to 2 rows R x C more (acc16). Taller tiles have no registers for them and unpack
// each field with a shift and a mask into the one set (4 rows x 2 panels with acc16 ran 2-bit
// weights at 40% of that speed, AMD host, 4 x 4096 x 4096).
// kChunks: a group's chunk count as a constant (0: a.Gp / kr at run time), so that a group
// unrolls whole: no loop, the loads at fixed offsets from one pointer per panel.
template <int BITS, int R, int C, bool kStream, size_t kChunks = 0>
void tile(const lb_ggemm_args &a, size_t m, size_t p) {
  constexpr bool kSplit = BITS < 8 && R <= 2;
  const __m512i lo = _mm512_set1_epi8((char)((1 << BITS) - 1)), hi = _mm512_slli_epi16(lo, 4);
  const size_t kr = lb_ggemm_kr(BITS), chunks = kChunks ? kChunks : a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 64;  // bytes of one panel
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  __m512 y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] =
      _mm512_setzero_ps();
  for (size_t g = 0; g < a.groups; ++g) {
    // One zero point for every column (symmetric weights: 8 for int4): the accumulators start
    // at -zp * a_sum, one broadcast per row, instead of a vpmulld and a subtraction each.
    __m512i acc[R][C], acc16[R][C];  // acc16: the operands of weight 16 (4 and 2 bits)
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i start = a.zp_uniform ? _mm512_set1_epi32(lb_group_start(a, m + i, g)) : _mm512_setzero_si512();
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = start, acc16[i][j] = _mm512_setzero_si512();
    }
    const uint8_t *Bg = B + g * chunks * 64;
    const int8_t *Ag = A + g * a.Gp;
    // The scales kScaleAhead groups on. Xeon host, one Llama-2-7B layer at M = 1 from memory (1
    // GiB of weights cycled), binary16 scales, ms: int2 g32 1 thread 4.33 -> 4.03, 2 threads
    // 2.37-2.48 -> 2.18-2.20; int4 g32 7.32 -> 7.05, 3.91 -> 3.78-3.82; cache-resident 1 x 4096
    // x 4096 the same or faster (int2 1 thread 0.185 -> 0.180 ms).
    if (kStream) lb_zmm_prefetch_scales<C>(a, p, g, kScaleAhead);
    // Operands b of k-step t (activations at byte 4 t of the chunk) into the accumulators.
    auto madd = [&](__m512i(&to)[R][C], const __m512i(&b)[C], size_t c, int t) {
      LB_UNROLL for (int i = 0; i < R; ++i) {
        int32_t a4;
        memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
        const __m512i av = _mm512_set1_epi32(a4);
        LB_UNROLL for (int j = 0; j < C; ++j) {
          if constexpr (kSplit) dpbusd(to[i][j], b[j], av);
          else to[i][j] = _mm512_dpbusd_epi32(to[i][j], b[j], av);
        }
      }
    };
    for (size_t c0 = 0; c0 < chunks; c0 += kSeg) {
      const size_t c1 = chunks - c0 < kSeg ? chunks : c0 + kSeg;
      constexpr size_t kStep = kChunks ? kChunks : 1;  // chunks unrolled at once
      for (size_t cb = c0; cb < c1; cb += kStep) LB_UNROLL for (size_t u = 0; u < kStep; ++u) {
        const size_t c = cb + u;
        __m512i x[C];
        LB_UNROLL for (int j = 0; j < C; ++j) {
          const uint8_t *src = Bg + j * panel + c * 64;
          // Few rows: the weights come from memory once, each panel fetched 512 bytes ahead into
          // L1 (fetching the next tile's panels into L2 instead ran 1 x 4096 x 4096 int4 at 60
          // against 67-73 GB/s, AMD host, 1 thread).
          if (kStream) _mm_prefetch((const char *)src + 512, _MM_HINT_T0);
          x[j] = _mm512_loadu_si512((const void *)src);
        }
        __m512i b[C];
        if constexpr (BITS == 8) {
          madd(acc, x, c, 0);
        } else if constexpr (!kSplit) {
          LB_UNROLL for (int t = 0; t < 8 / BITS; ++t) {
            LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(t ? _mm512_srli_epi16(x[j], t * BITS) : x[j], lo);
            madd(acc, b, c, t);
          }
        } else if constexpr (BITS == 4) {
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], lo);
          madd(acc, b, c, 0);
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], hi);
          madd(acc16, b, c, 1);
        } else {
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], lo);
          madd(acc, b, c, 0);
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], hi);
          madd(acc16, b, c, 2);
          LB_UNROLL for (int j = 0; j < C; ++j) x[j] = _mm512_srli_epi16(x[j], 2);
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], lo);
          madd(acc, b, c, 1);
          LB_UNROLL for (int j = 0; j < C; ++j) b[j] = _mm512_and_si512(x[j], hi);
          madd(acc16, b, c, 3);
        }
      }
      if constexpr (kSplit) LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
        acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_srai_epi32(acc16[i][j], 4));
        acc16[i][j] = _mm512_setzero_si512();
      }
    }
    auto add = [&](int i, int j, __m512 t) { y[i][j] = _mm512_add_ps(y[i][j], t); };
    __m512 ws[C];
    lb_zmm_group_scales(a, p, g, ws);
    if (a.zp_uniform) lb_zmm_group_end<true>(a, m, p, g, ws, acc, add);
    else lb_zmm_group_end<false>(a, m, p, g, ws, acc, add);
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    __m512 v = y[i][j];
    const size_t n = (p + j) * 16;
    if (a.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(a.bias + n));
    _mm512_storeu_ps(a.Y + (m + i) * a.ldy + n, v);
  }
}

// More than 4 rows on 8-bit panels (8-bit weights, and the 4 / 2-bit ones the engine expanded):
// compute-bound, and a group's end costs four float operations per accumulator against
// Gp / 4 vpdpbusd, so the tile keeps no float accumulators in registers (they wait in an L1
// tile) and holds 6 x 4 int32 accumulators instead of 4 x 3 of each; the zero-point mode is a
// constant. AMD host, 1 thread, int4 g32, interleaved runs: 512 x 4096 x 4096 430-455 -> 523-538
// GOPS, 64 x 4096 x 4096 421-427 -> 467-493 (int8 weights: 707-773 and 608-699 in the same
// runs); 5 x 4 and 8 x 3 tiles ran as 6 x 4, prefetching the panels did not help.
// 5 to 8 rows on 4 / 2-bit panels run it too, unexpanded (8 x 3 tiles, the fields unpacked in
// registers: a shift and a mask per panel and k-step, shared by 8 rows): expanding there wrote
// and re-read a block of 8-bit weights used by 8 rows only (a third of the tiles' time, perf).
template <int BITS, int R, int C, bool kUniform>
void gemm_tile(const lb_ggemm_args &a, size_t m, size_t p) {
  const __m512i lo = _mm512_set1_epi8((char)((1 << BITS) - 1));
  const size_t kr = lb_ggemm_kr(BITS), chunks = a.Gp / kr, lda = a.groups * a.Gp, panel = a.groups * chunks * 64;
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  alignas(64) float y[R][C][16];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j)
      _mm512_store_ps(y[i][j], _mm512_setzero_ps());
  for (size_t g = 0; g < a.groups; ++g) {
    __m512i acc[R][C];
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m512i start = kUniform ? _mm512_set1_epi32(lb_group_start(a, m + i, g)) : _mm512_setzero_si512();
      LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = start;
    }
    const uint8_t *Bg = B + g * chunks * 64;
    const int8_t *Ag = A + g * a.Gp;
    for (size_t c = 0; c < chunks; ++c) {
      __m512i x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) x[j] = _mm512_loadu_si512((const void *)(Bg + j * panel + c * 64));
      LB_UNROLL for (int t = 0; t < 8 / BITS; ++t) {
        __m512i b[C];
        LB_UNROLL for (int j = 0; j < C; ++j) b[j] = BITS == 8 ? x[j] : _mm512_and_si512(t ? _mm512_srli_epi16(x[j], t * BITS) : x[j], lo);
        LB_UNROLL for (int i = 0; i < R; ++i) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
          const __m512i av = _mm512_set1_epi32(a4);
          LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], b[j], av);
        }
      }
    }
    __m512 ws[C];
    lb_zmm_group_scales(a, p, g, ws);
    lb_zmm_group_end<kUniform>(a, m, p, g, ws, acc, [&](int i, int j, __m512 t) {
      _mm512_store_ps(y[i][j], _mm512_add_ps(_mm512_load_ps(y[i][j]), t));
    });
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) {
    __m512 v = _mm512_load_ps(y[i][j]);
    const size_t n = (p + j) * 16;
    if (a.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(a.bias + n));
    _mm512_storeu_ps(a.Y + (m + i) * a.ldy + n, v);
  }
}

// Up to 4 rows, tiles that meet every row in one pass over the weights (1 x 8, 2 x 4, 4 x 2
// panels); beyond, gemm_tile on 8-bit panels and, up to kDirectRows (the kernel list's
// direct_m), on 4 / 2-bit ones; 4 x 3 tiles on 4 / 2-bit panels the engine did not expand
// beyond that (lb_ggemm_set_expand, for the tests).
constexpr size_t kDirectRows = 8;

template <int BITS>
void ggemm(const lb_ggemm_args &a) {
  auto run = [&](auto stream) {
    return [&, stream](auto r, auto c, size_t m, size_t p) {
      tile<BITS, r.value, c.value, decltype(stream)::value>(a, m, p);
    };
  };
  const size_t panels = a.N / 16;
  // One row: 8 panels, 8 streams of weights in flight (AMD host, 1 thread, 1 x 11008 x 4096
  // int4: 0.55-0.60 ms against 0.63-0.66 with 4; 1 x 4096 x 4096: 0.124-0.131 against
  // 0.139-0.155; 6 panels in between).
  // Up to 2 rows, 4 and 2 bits in groups of 32: the full tiles unroll a group whole (int2 g32
  // 0.095-0.099 -> 0.088-0.091 ms; 2 threads, int4: 0.069-0.079 -> 0.062-0.074).
  auto few = [&](auto rows, auto cols) {
    constexpr int R = decltype(rows)::value, C = decltype(cols)::value;
    if constexpr (BITS < 8) if (a.Gp == 32) return lb_for_each_tile_g32<R, C, 32 / lb_ggemm_kr(BITS)>(a.M, panels,
        [&](auto r, auto c, auto chunks, size_t m, size_t p) { tile<BITS, r.value, c.value, true, chunks.value>(a, m, p); });
    lb_for_each_tile<R, C>(a.M, panels, run(std::true_type{}));
  };
  if (a.M == 1)
    few(std::integral_constant<int, 1>{}, std::integral_constant<int, 8>{});
  else if (a.M <= 2)
    few(std::integral_constant<int, 2>{}, std::integral_constant<int, 4>{});
  else if (a.M <= 4)
    lb_for_each_tile<4, 2>(a.M, panels, run(std::true_type{}));
  else if (BITS == 8 || a.M <= kDirectRows) {
    auto gemm = [&](auto uniform) {
      auto at = [&](auto r, auto c, size_t m, size_t p) { gemm_tile<BITS, r.value, c.value, decltype(uniform)::value>(a, m, p); };
      if (a.M <= kDirectRows) lb_for_each_tile<8, 3>(a.M, panels, at);
      else lb_for_each_tile<6, 4>(a.M, panels, at);
    };
    if (a.zp_uniform) gemm(std::true_type{});
    else gemm(std::false_type{});
  } else
    lb_for_each_tile<4, 3>(a.M, panels, run(std::false_type{}));
}

}  // namespace

void ggemm_u8s8_avx512vnni(const lb_ggemm_args &a) { ggemm<8>(a); }

// 4- and 2-bit panels -> the 8-bit layout (kernels.h): chunk c's 8 / bits k-steps become chunks
// c * 8 / bits + t, so the 8-bit kernel runs on them with the same scales and zero points. For
// larger M the engine expands a block of weights once and every row tile skips the unpacking.
// The signed form (AMX's, kernels.h expand_s8) subtracts the weights' one zero point: U - zp.
template <int BITS, bool kSigned>
void expand(const uint8_t *src, size_t chunks, uint8_t zp, uint8_t *dst) {
  constexpr int kPer = 8 / BITS;
  const __m512i mask = _mm512_set1_epi8((char)((1 << BITS) - 1)), z = _mm512_set1_epi8((char)zp);
  for (size_t c = 0; c < chunks; ++c) {
    const __m512i x = _mm512_loadu_si512((const void *)(src + c * 64));
    LB_UNROLL for (int t = 0; t < kPer; ++t) {
      __m512i u = _mm512_and_si512(t ? _mm512_srli_epi16(x, t * BITS) : x, mask);
      if (kSigned) u = _mm512_sub_epi8(u, z);
      _mm512_storeu_si512((void *)(dst + (c * kPer + t) * 64), u);
    }
  }
}
void expand_u4_avx512(const uint8_t *src, size_t chunks, uint8_t *dst) { expand<4, false>(src, chunks, 0, dst); }
void expand_u2_avx512(const uint8_t *src, size_t chunks, uint8_t *dst) { expand<2, false>(src, chunks, 0, dst); }
void expand_s4_avx512(const uint8_t *src, size_t chunks, uint8_t zp, uint8_t *dst) { expand<4, true>(src, chunks, zp, dst); }
void expand_s2_avx512(const uint8_t *src, size_t chunks, uint8_t zp, uint8_t *dst) { expand<2, true>(src, chunks, zp, dst); }
void ggemm_u4s8_avx512vnni(const lb_ggemm_args &a) { ggemm<4>(a); }
void ggemm_u2s8_avx512vnni(const lb_ggemm_args &a) { ggemm<2>(a); }
