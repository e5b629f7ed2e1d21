// Raw 8-bit GEMM, AVX-512 VNNI: vpdpbusd (uint8 A x int8 B, four products summed exactly into
// each int32 lane, wrapping add) on 512-bit registers.
//
// Outer-product form on B in the VNNI layout (lb_pack_b_vnni16, the AMX kernel's too): one
// load of B gives the four bytes k .. k + 3 of 16 columns, and one broadcast gives the same
// four bytes of a row of A, so each accumulator holds 16 finished outputs and a tile ends with
// plain stores. The dot-product form it replaced (rows of A and B, 64 k per instruction) ended
// every tile with a horizontal sum per output. Lent Xeon, best of 3 interleaved runs, matmul
// w8a8 GOPS before -> after: 1 thread 1024^3 270 -> 407, 512 x 4096 x 4096 334 -> 426;
// 16 threads 1024^3 3043 -> 3933, 512 x 4096 x 4096 4188 -> 4845; M = 1 within noise.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../kernels.h"
#include "../tile_loop.h"
#include "quads_zmm.h"

namespace {

// R rows of A x C blocks of 16 columns. Per four k: C loads of B, R broadcasts of A, R x C
// vpdpbusd. 8 x 3 keeps 24 accumulators, 3 B and 1 A of the 32 registers; B streams from L2
// (the engine's column block) and each 64-byte line of a row of A serves 16 steps from L1.
// kStream (small M, B used once, from memory): B is prefetched further ahead.
template <int R, int C, bool kStream>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  constexpr size_t kAhead = kStream ? 1024 : 512;  // bytes of each column block
  const size_t bs = 16 * K;                        // bytes between column blocks
  __m512i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm512_setzero_si512();
  for (size_t k = 0; k < K; k += 16) {  // four steps of four k: one line of each B block
    LB_UNROLL for (int j = 0; j < C; ++j) _mm_prefetch((const char *)B + j * bs + k * 16 + kAhead,
                                                        _MM_HINT_T0);
    LB_UNROLL for (int s = 0; s < 4; ++s) {
      const size_t kk = k + 4 * s;
      __m512i b[C];
      LB_UNROLL for (int j = 0; j < C; ++j) b[j] =
          _mm512_load_si512((const void *)(B + j * bs + kk * 16));
      LB_UNROLL for (int i = 0; i < R; ++i) {
        int32_t a4;
        memcpy(&a4, A + i * K + kk, 4);
        const __m512i a = _mm512_set1_epi32(a4);
        LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], a, b[j]);
      }
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j)
      _mm512_storeu_si512((void *)(Y + i * ldc + 16 * j), acc[i][j]);
}

}  // namespace

// Tiles over blocks of 16 columns (N % 16 == 0): up to M = 4, GEMV-like tiles that meet all
// rows of A in one pass over B (2 x 8 blocks up to M = 2, else 4 x 5); beyond, 8 x 3.
void gemm_u8s8_avx512vnni(size_t M, size_t N, size_t K, const void *Av, const int8_t *B,
                          int32_t *C, size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  auto run = [&](auto stream) {
    return [&, stream](auto r, auto c, size_t m, size_t nb) {
      tile<r.value, c.value, decltype(stream)::value>(K, A + m * K, B + nb * 16 * K,
                                                      C + m * ldc + nb * 16, ldc);
    };
  };
  if (M <= 2)
    lb_for_each_tile<2, 8>(M, N / 16, run(std::true_type{}));
  else if (M <= 4)
    lb_for_each_tile<4, 5>(M, N / 16, run(std::true_type{}));
  else
    lb_for_each_tile<8, 3>(M, N / 16, run(std::false_type{}));
}

namespace {

// 16 rows' 64-byte runs r[0 .. 15] -> t[w] = word w (bytes 4 w .. 4 w + 3) of every row, row c's
// at word c: the layout's 16 rows q = k / 4 + w (every word k = 4q .. 4q + 3 of one row goes to
// row q at its column's place). A 16 x 16 transpose of 4-byte words; r is clobbered.
inline void transpose_words16(__m512i (&r)[16], __m512i (&t)[16]) {
  // Unpack pairs of rows (32-bit), then pairs of pairs (64-bit): each 128-bit lane then holds
  // one word from each of 4 rows.
  LB_UNROLL for (int c = 0; c < 16; c += 2) {
    t[c] = _mm512_unpacklo_epi32(r[c], r[c + 1]);
    t[c + 1] = _mm512_unpackhi_epi32(r[c], r[c + 1]);
  }
  LB_UNROLL for (int c = 0; c < 16; c += 4) {
    r[c] = _mm512_unpacklo_epi64(t[c], t[c + 2]);
    r[c + 1] = _mm512_unpackhi_epi64(t[c], t[c + 2]);
    r[c + 2] = _mm512_unpacklo_epi64(t[c + 1], t[c + 3]);
    r[c + 3] = _mm512_unpackhi_epi64(t[c + 1], t[c + 3]);
  }
  // r[4g + j], lane l: word 4l + j' of rows 4g .. 4g + 3 (j' = 0, 1, 2, 3 for j = 0, 1, 2, 3
  // in the order unpack leaves them). Gather the four groups' lanes: 128-bit shuffles.
  LB_UNROLL for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44), b = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xEE);
    const __m512i c2 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44), d = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xEE);
    t[j] = _mm512_shuffle_i32x4(a, c2, 0x88);       // lanes 0 of groups 0, 1, 2, 3
    t[4 + j] = _mm512_shuffle_i32x4(a, c2, 0xDD);   // lanes 1
    t[8 + j] = _mm512_shuffle_i32x4(b, d, 0x88);    // lanes 2
    t[12 + j] = _mm512_shuffle_i32x4(b, d, 0xDD);   // lanes 3
  }
}

}  // namespace

// lb_pack_b_vnni16 (kernels.h) with transposes in registers; the portable version moves the
// words 4 bytes at a time.
void lb_pack_b_vnni16_avx512(size_t N, size_t K, const int8_t *B, int8_t *out) {
  for (size_t nb = 0; nb < N / 16; ++nb) {
    const int8_t *src = B + nb * 16 * K;
    int8_t *dst = out + nb * 16 * K;
    for (size_t k = 0; k < K; k += 64) {
      __m512i r[16], t[16];
      LB_UNROLL for (int c = 0; c < 16; ++c) r[c] = _mm512_loadu_si512((const void *)(src + c * K + k));
      transpose_words16(r, t);
      LB_UNROLL for (int w = 0; w < 16; ++w) _mm512_storeu_si512((void *)(dst + (k / 4 + w) * 64), t[w]);
    }
  }
}

// N x K bytes straight into the VNNI layout (kernels.h, pack_b_nk): the caller's rows, flipped
// and masked at K, go through the transpose above, and the column sums come from one vpdpbusd
// against ones per layout row, whose lanes are the columns. (Before, the rows were copied and
// flipped, summed, then packed: three passes over B.)
bool lb_pack_b_vnni16_nk_avx512(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                uint8_t flip, int8_t *out, uint32_t *col_sum) {
  const __m512i fl = _mm512_set1_epi8((char)flip), ones = _mm512_set1_epi8(1), m128 = _mm512_set1_epi8((char)0x80);
  __mmask64 low = 0;  // bytes equal to -128
  for (size_t nb = 0; nb < nt / 16; ++nb) {
    const size_t n = nb * 16, rows = nn > n ? (nn - n < 16 ? nn - n : 16) : 0;
    const uint8_t *src = B + n * ldb;
    int8_t *dst = out + n * Kp;
    __m512i cs = _mm512_setzero_si512();
    for (size_t k = 0; k < Kp; k += 64) {
      const __mmask64 m = K - k >= 64 ? ~(__mmask64)0 : K > k ? (((__mmask64)1 << (K - k)) - 1) : 0;
      __m512i r[16], t[16];
      LB_UNROLL for (int c = 0; c < 16; ++c) {
        if ((size_t)c < rows) {
          r[c] = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + c * ldb + k), fl));
          low |= _mm512_cmpeq_epi8_mask(r[c], m128);
        } else {
          r[c] = _mm512_setzero_si512();
        }
      }
      transpose_words16(r, t);
      LB_UNROLL for (int w = 0; w < 16; ++w) {
        cs = _mm512_dpbusd_epi32(cs, ones, t[w]);
        _mm512_storeu_si512((void *)(dst + (k / 4 + w) * 64), t[w]);
      }
    }
    alignas(64) uint32_t sums[16];
    _mm512_store_si512(sums, cs);
    memcpy(col_sum + n, sums, rows * sizeof(uint32_t));
  }
  return low != 0;
}

// K x N bytes straight into the VNNI layout (kernels.h, pack_b_kn): four rows of 64 columns
// make those columns' quads by two unpack levels and a 4 x 4 transpose of lanes, which are
// the four blocks' rows q = k / 4 as they lie. (Transposing to N x K rows first and packing
// those, 64 x 4096 x 4096 matmulInteger on K x N spent 1.6x the GEMM's time packing.) Rows
// in chunks of 64, each chunk across all the strips of 64 columns: a strip walked down all of
// K met a new page every row (rows 4 KiB apart), a TLB miss each.
bool lb_pack_b_vnni16_kn_avx512(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                uint8_t flip, int8_t *out, uint32_t *col_sum) {
  constexpr size_t kRows = 64, kMaxCols = 1024;
  const __m512i fl = _mm512_set1_epi8((char)flip), ones = _mm512_set1_epi8(1), m128 = _mm512_set1_epi8((char)0x80);
  alignas(64) uint32_t sums[kMaxCols];  // per strip, in quad order until the end
  memset(sums, 0, sizeof sums);
  __mmask64 low = 0;  // bytes equal to -128
  for (size_t k0 = 0; k0 < Kp; k0 += kRows) {
    const size_t k1 = Kp - k0 < kRows ? Kp : k0 + kRows;
    for (size_t n = 0; n < nt; n += 64) {
      const size_t w = nn > n ? (nn - n < 64 ? nn - n : 64) : 0, blocks = (nt - n < 64 ? nt - n : 64) / 16;
      const __mmask64 cols = w >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << w) - 1);
      __m512i cs[4];
      LB_UNROLL for (int j = 0; j < 4; ++j) cs[j] = _mm512_load_si512(sums + n + 16 * j);
      for (size_t k = k0; k < k1; k += 4) {
        __m512i r[4], q[4], c[4];
        LB_UNROLL for (int i = 0; i < 4; ++i) {
          if (k + i < K && w) {
            const uint8_t *src = B + (k + i) * ldb + n;
            if (k + i + kRows < K) _mm_prefetch((const char *)(src + kRows * ldb), _MM_HINT_T0);
            r[i] = _mm512_maskz_mov_epi8(cols, _mm512_xor_si512(_mm512_maskz_loadu_epi8(cols, src), fl));
            low |= _mm512_cmpeq_epi8_mask(r[i], m128);
          } else {
            r[i] = _mm512_setzero_si512();
          }
        }
        lb_quads(r, q);
        LB_UNROLL for (int j = 0; j < 4; ++j) cs[j] = _mm512_dpbusd_epi32(cs[j], ones, q[j]);
        lb_quads_to_columns(q, c);
        for (size_t b = 0; b < blocks; ++b) _mm512_storeu_si512((void *)(out + (n / 16 + b) * 16 * Kp + k * 16), c[b]);
      }
      LB_UNROLL for (int j = 0; j < 4; ++j) _mm512_store_si512(sums + n + 16 * j, cs[j]);
    }
  }
  for (size_t n = 0; n < nn; n += 64) {
    __m512i q[4], c[4];
    LB_UNROLL for (int j = 0; j < 4; ++j) q[j] = _mm512_load_si512(sums + n + 16 * j);
    lb_quads_to_columns(q, c);
    LB_UNROLL for (int b = 0; b < 4; ++b) _mm512_store_si512(sums + n + 16 * b, c[b]);
  }
  memcpy(col_sum, sums, nn * sizeof(uint32_t));
  return low != 0;
}

const lb_gemm_i8_kernel gemm_i8_avx512vnni = {gemm_u8s8_avx512vnni, false, 1, 16, nullptr, nullptr,
                                              lb_pack_b_vnni16_avx512, false, nullptr, 0,
                                              lb_pack_b_vnni16_kn_avx512, lb_pack_b_vnni16_nk_avx512};
