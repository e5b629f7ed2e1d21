// Grouped GEMM, AVX2 (kernels.h, lb_ggemm_args), for 4- and 2-bit weights: panels of 8 columns,
// weights stored unsigned, activations int8. vpmaddubsw multiplies the weights (its unsigned
// operand) by a broadcast of four activation bytes: with |u| <= 15 a pair sum is at most
// 2 * 15 * 128 = 3840, so no int16 saturates, and the 8 / bits k-steps of one load (at most
// 4 * 2 * 3 * 128 at 2 bits, 2 * 3840 at 4) add in int16 exactly before one vpmaddwd widens them.
// 8-bit weights (up to 255) would overflow the pair sums: kWide splits them into nibbles,
// U = 16 hi + lo, multiplies each nibble exactly and weighs hi's pair sums by 16 in vpmaddwd.
#pragma GCC target("avx2,fma,f16c")
#include <string.h>

#include "ggemm_ymm_common.h"

namespace {

template <int BITS, int R, int C, bool kStream, bool kWide = false, size_t kChunks = 0>
void tile(const lb_ggemm_args &a, size_t m, size_t p) {
  constexpr int kPer = 8 / BITS;
  const __m256i nibble = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi16(16);
  const size_t kr = lb_ggemm_kr(BITS), chunks = kChunks ? kChunks : a.Gp / kr, lda = a.groups * a.Gp;
  const size_t panel = a.groups * chunks * 32;
  // BITS 8 here only runs on expanded 4- and 2-bit weights (values <= 15): kMask keeps them.
  const __m256i mask = _mm256_set1_epi8((char)((1 << BITS) - 1)), ones = _mm256_set1_epi16(1);
  const int8_t *A = a.A + m * lda;
  const uint8_t *B = a.B + p * panel;
  __m256 y[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) y[i][j] =
      _mm256_setzero_ps();
  for (size_t g = 0; g < a.groups; ++g) {
    __m256i acc[R][C];
    lb_ymm_group_start<R, C>(a, m, g, acc);
    const uint8_t *Bg = B + g * chunks * 32;
    const int8_t *Ag = A + g * a.Gp;
    constexpr size_t kStep = kChunks ? kChunks : 1;
    for (size_t cb = 0; cb < chunks; cb += kStep) LB_UNROLL for (size_t u = 0; u < kStep; ++u) {
      const size_t c = cb + u;
      __m256i x[C];
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const uint8_t *src = Bg + j * panel + c * 32;
        if (kStream && (c & 1) == 0) _mm_prefetch((const char *)src + 1024, _MM_HINT_T0);
        x[j] = _mm256_loadu_si256((const __m256i *)src);
      }
      if constexpr (kWide) {  // 8-bit values: one k-step per chunk, in two nibbles
        LB_UNROLL for (int i = 0; i < R; ++i) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr, 4);
          const __m256i av = _mm256_set1_epi32(a4);
          LB_UNROLL for (int j = 0; j < C; ++j) {
            const __m256i lo = _mm256_and_si256(x[j], nibble);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x[j], 4), nibble);
            acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_add_epi32(
                _mm256_madd_epi16(_mm256_maddubs_epi16(lo, av), ones),
                _mm256_madd_epi16(_mm256_maddubs_epi16(hi, av), sixteen)));
          }
        }
        continue;
      }
      LB_UNROLL for (int i = 0; i < R; ++i) {
        __m256i s16[C];
        LB_UNROLL for (int t = 0; t < kPer; ++t) {
          int32_t a4;
          memcpy(&a4, Ag + i * lda + c * kr + 4 * t, 4);
          const __m256i av = _mm256_set1_epi32(a4);
          LB_UNROLL for (int j = 0; j < C; ++j) {
            const __m256i b = BITS == 8 ? x[j] : _mm256_and_si256(t ? _mm256_srli_epi16(x[j], t * BITS) : x[j], mask);
            const __m256i prod = _mm256_maddubs_epi16(b, av);
            s16[j] = t ? _mm256_add_epi16(s16[j], prod) : prod;
          }
        }
        LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
            _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(s16[j], ones));
      }
    }
    lb_ymm_group_end<R, C>(a, m, p, g, acc, y);
  }
  lb_ymm_store<R, C>(a.bias, a.Y, a.ldy, m, p, y);
}

// 16 registers: 1 x 4 panels for one row, 2 x 2 beyond.
template <int BITS, bool kWide = false>
void ggemm(const lb_ggemm_args &a) {
  auto run = [&](auto stream) {
    return [&, stream](auto r, auto c, size_t m, size_t p) {
      tile<BITS, r.value, c.value, decltype(stream)::value, kWide>(a, m, p);
    };
  };
  const size_t panels = a.N / 8;
  // One row, groups of 32 unrolled (tile_loop.h): AMD host, 1 x 4096 x 4096, 1 thread, int4 g32
  // 0.225-0.25 -> 0.221-0.23 ms, int2 0.217-0.229 -> 0.202-0.218.
  if (a.M <= 1) {
    if constexpr (BITS < 8) if (a.Gp == 32) return lb_for_each_tile_g32<1, 4, 32 / lb_ggemm_kr(BITS)>(a.M, panels,
        [&](auto r, auto c, auto chunks, size_t m, size_t p) { tile<BITS, r.value, c.value, true, kWide, chunks.value>(a, m, p); });
    lb_for_each_tile<1, 4>(a.M, panels, run(std::true_type{}));
  }
  else if (a.M <= 4)
    lb_for_each_tile<2, 2>(a.M, panels, run(std::true_type{}));
  else
    lb_for_each_tile<2, 2>(a.M, panels, run(std::false_type{}));
}

}  // namespace

void ggemm_u4s8_avx2(const lb_ggemm_args &a) { ggemm<4>(a); }
// The 8-bit layout holding expanded 4- and 2-bit values (<= 15).
void ggemm_x4s8_avx2(const lb_ggemm_args &a) { ggemm<8>(a); }
// 8-bit weights (blocked int8 / uint8), any value.
void ggemm_u8s8_avx2(const lb_ggemm_args &a) { ggemm<8, true>(a); }

template <int BITS>
void expand(const uint8_t *src, size_t chunks, uint8_t *dst) {  // as in ggemm_avx512vnni.cpp
  constexpr int kPer = 8 / BITS;
  const __m256i mask = _mm256_set1_epi8((char)((1 << BITS) - 1));
  for (size_t c = 0; c < chunks; ++c) {
    const __m256i x = _mm256_loadu_si256((const __m256i *)(src + c * 32));
    LB_UNROLL for (int t = 0; t < kPer; ++t) _mm256_storeu_si256(
        (__m256i *)(dst + (c * kPer + t) * 32), _mm256_and_si256(t ? _mm256_srli_epi16(x, t * BITS) : x, mask));
  }
}
void expand_u4_avx2(const uint8_t *src, size_t chunks, uint8_t *dst) { expand<4>(src, chunks, dst); }
void expand_u2_avx2(const uint8_t *src, size_t chunks, uint8_t *dst) { expand<2>(src, chunks, dst); }
void ggemm_u2s8_avx2(const lb_ggemm_args &a) { ggemm<2>(a); }
