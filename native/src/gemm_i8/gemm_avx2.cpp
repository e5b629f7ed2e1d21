// Raw 8-bit GEMM, AVX2: three kernels for three operand ranges (kernels.h).
//
// vpmaddubsw multiplies uint8 by int8 and adds pairs into int16 *with saturation*, so it is
// exact only while |a| * |b| pair sums fit in int16:
//   general (any uint8 A, int8 B): 2 * 255 * 128 does not fit, so both operands are widened
//     to int16 and multiplied with vpmaddwd (int32 pair sums, exact): half the throughput.
//   sym (any int8 A, B in [-127, 127]): the sign trick. a * b = |a| * (b * sign(a)); vpsignb
//     moves a's sign onto b (-b stays in int8 because b != -128), vpmaddubsw takes |a| <= 128
//     (vpabsb leaves -128 as 0x80, which is 128 unsigned) as its unsigned operand, and a pair
//     sum is at most 2 * 128 * 127 = 32512: exact. vpmaddwd by 1 widens the pairs into int32.
//   u7 (A in [0, 127], any int8 B): pair sums are at most 2 * 127 * 128 = 32512, so
//     vpmaddubsw is exact as it stands: three instructions per 32 products instead of four.
//     (Adding two sign-trick pair sums of 7-bit A in int16 before widening also fits, but
//     costs 7 instructions per 64 products against these 6: its peak loop measured 175-181
//     GOPS on the AMD host, no better. Unsigned weights b + 128 against signed 7-bit A, two
//     pair sums added in int16 and the known 128 * (a0 + .. + a3) subtracted before widening
//     (the wrapped int16 is then the exact sum) measured 203-205 against 186 for this one:
//     +10% at best, for a second layout of B. Not built.)
// All three use the dot layout: each accumulator holds 8 int32 partial sums of one output,
// reduced once at the end of K.
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#include <string.h>

#include "../kernels.h"
#include "../tile_loop.h"
#include "tile_3x3_avx2.h"

namespace {

inline __m256i load(const void *p) { return _mm256_load_si256((const __m256i *)p); }

template <int R, int C>
inline void store(const __m256i (&acc)[R][C], int32_t *Y, size_t ldc) {
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) Y[i * ldc + j] =
      hsum_epi32(acc[i][j]);
}

// General: 16 k per step, 12 accumulators + 3 A + 1 B registers.
template <int R, int C, bool kStream = false>
void tile_u8s8(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_si256();
  for (size_t k = 0; k < K; k += 16) {
    if (kStream) lb_prefetch_b<C, true>(B, K, k);
    __m256i a[R];
    LB_UNROLL for (int i = 0; i < R; ++i) a[i] =
        _mm256_cvtepu8_epi16(_mm_load_si128((const __m128i *)(A + i * K + k)));
    LB_UNROLL for (int j = 0; j < C; ++j) {
      __m256i b = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(B + j * K + k)));
      LB_UNROLL for (int i = 0; i < R; ++i) acc[i][j] =
          _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(a[i], b));
    }
  }
  store<R, C>(acc, Y, ldc);
}

// The two narrow kernels' intrinsic tiles (small M, and the tails of the 3 x 3 assembly tiles
// below), 32 k per step. kSym: the sign trick on int8 A, |a| against b with a's sign; else 7-bit
// A (uint8 in [0, 127]), which vpmaddubsw takes as it is.
template <int R, int C, bool kSym, bool kStream = false>
void tile_narrow(size_t K, const void *Av, const int8_t *B, int32_t *Y, size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[R][C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < C; ++j) acc[i][j] =
      _mm256_setzero_si256();
  for (size_t k = 0; k < K; k += 32) {
    __m256i b[C];
    lb_prefetch_b<C, kStream>(B, K, k);
    LB_UNROLL for (int j = 0; j < C; ++j) b[j] = load(B + j * K + k);
    LB_UNROLL for (int i = 0; i < R; ++i) {
      const __m256i a = load(A + i * K + k), u = kSym ? _mm256_abs_epi8(a) : a;
      LB_UNROLL for (int j = 0; j < C; ++j) {
        const __m256i p = _mm256_maddubs_epi16(u, kSym ? _mm256_sign_epi8(b[j], a) : b[j]);
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(p, ones));
      }
    }
  }
  store<R, C>(acc, Y, ldc);
}

// The full 3 x 3 tiles of the sym and u7 kernels in assembly (registers: tile_3x3_avx2.h):
// GCC's allocation of the intrinsic versions spilled accumulators and copied them around the
// loop, at about 60% of this speed.
#define LB_PAIR_U7(acc, b) \
  "vpmaddubsw %%ymm" b ", %%ymm12, %%ymm13\n\t"      /* int16 pair sums of a * b */   \
  "vpmaddwd %%ymm14, %%ymm13, %%ymm13\n\t"           /* int32 sums of 4 products */   \
  "vpaddd %%ymm13, %%ymm" acc ", %%ymm" acc "\n\t"
#define LB_PAIR_SYM(acc, b, a_mem) \
  "vpsignb " a_mem ", %%ymm" b ", %%ymm13\n\t"       /* b * sign(a) */                \
  "vpmaddubsw %%ymm13, %%ymm12, %%ymm13\n\t"         /* |a| * (b * sign(a)), pairs */ \
  "vpmaddwd %%ymm14, %%ymm13, %%ymm13\n\t"                                            \
  "vpaddd %%ymm13, %%ymm" acc ", %%ymm" acc "\n\t"
// General kernel, 3 x 3 in assembly: 16 k per step, A rows widened to int16 in ymm9-11, each
// row of B widened once into ymm12 and multiplied by the three of A (vpmaddwd, exact).
#define LB_COL_U8S8(b_row, acc0, acc1, acc2)                          \
  "prefetcht0 512(%[" b_row "],%[k])\n\t"                             \
  "vpmovsxbw (%[" b_row "],%[k]), %%ymm12\n\t"                        \
  "vpmaddwd %%ymm12, %%ymm9, %%ymm13\n\t"                             \
  "vpaddd %%ymm13, %%ymm" acc0 ", %%ymm" acc0 "\n\t"                  \
  "vpmaddwd %%ymm12, %%ymm10, %%ymm13\n\t"                            \
  "vpaddd %%ymm13, %%ymm" acc1 ", %%ymm" acc1 "\n\t"                  \
  "vpmaddwd %%ymm12, %%ymm11, %%ymm13\n\t"                            \
  "vpaddd %%ymm13, %%ymm" acc2 ", %%ymm" acc2 "\n\t"
void tile_u8s8_3x3(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[9];
  size_t k = 0;
  if (empty3x3(K, Y, ldc)) return;
  LB_TILE3X3_LOOP(
      "vpmovzxbw (%[a0],%[k]), %%ymm9\n\t"
      "vpmovzxbw (%[a1],%[k]), %%ymm10\n\t"
      "vpmovzxbw (%[a2],%[k]), %%ymm11\n\t"
      LB_COL_U8S8("b0", "0", "3", "6") LB_COL_U8S8("b1", "1", "4", "7") LB_COL_U8S8("b2", "2", "5", "8"),
      "16");
  store3x3(acc, Y, ldc);
}

void tile_u7_3x3(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[9];
  size_t k = 0;
  if (empty3x3(K, Y, ldc)) return;
  LB_TILE3X3_ASM(
      "vmovdqa (%[a0],%[k]), %%ymm12\n\t" LB_PAIR_U7("0", "9") LB_PAIR_U7("1", "10") LB_PAIR_U7("2", "11")
      "vmovdqa (%[a1],%[k]), %%ymm12\n\t" LB_PAIR_U7("3", "9") LB_PAIR_U7("4", "10") LB_PAIR_U7("5", "11")
      "vmovdqa (%[a2],%[k]), %%ymm12\n\t" LB_PAIR_U7("6", "9") LB_PAIR_U7("7", "10") LB_PAIR_U7("8", "11"));
  store3x3(acc, Y, ldc);
}

void tile_sym_3x3(size_t K, const int8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  __m256i acc[9];
  size_t k = 0;
  if (empty3x3(K, Y, ldc)) return;
  LB_TILE3X3_ASM(
      "vpabsb (%[a0],%[k]), %%ymm12\n\t"
      LB_PAIR_SYM("0", "9", "(%[a0],%[k])") LB_PAIR_SYM("1", "10", "(%[a0],%[k])")
      LB_PAIR_SYM("2", "11", "(%[a0],%[k])")
      "vpabsb (%[a1],%[k]), %%ymm12\n\t"
      LB_PAIR_SYM("3", "9", "(%[a1],%[k])") LB_PAIR_SYM("4", "10", "(%[a1],%[k])")
      LB_PAIR_SYM("5", "11", "(%[a1],%[k])")
      "vpabsb (%[a2],%[k]), %%ymm12\n\t"
      LB_PAIR_SYM("6", "9", "(%[a2],%[k])") LB_PAIR_SYM("7", "10", "(%[a2],%[k])")
      LB_PAIR_SYM("8", "11", "(%[a2],%[k])"));
  store3x3(acc, Y, ldc);
}

// Up to 8 rows, passes of 4 x 2 streaming tiles beat the 3 x 3 assembly tiles (AMD host,
// median GOPS of interleaved runs: w8a8 M = 6 70 -> 89, M = 8 72 -> 89; w8a7 M = 6 76 -> 98;
// general kernel, uint8 A, M = 6 68 -> 88, M = 7 77 -> 88, M = 8 x 11008 85 -> 90 (within this
// host's noise); at M = 16 they tie and from 32 on the 3 x 3 tile wins).
constexpr size_t kStreamM = 8;

void gemm_u8s8_avx2(size_t M, size_t N, size_t K, const void *A, const int8_t *B, int32_t *C,
                    size_t ldc) {
  lb_gemm_tiles<3, 3, 4, 2>(
      M, N, K, (const uint8_t *)A, B, C, ldc, kStreamM,
      [&](auto r, auto c, auto stream, auto a, auto b, auto y) {
        tile_u8s8<r.value, c.value, stream.value>(K, a, b, y, ldc);
      },
      [&](auto a, auto b, auto y) { tile_u8s8_3x3(K, a, b, y, ldc); });
}

void gemm_s8s8_sym_avx2(size_t M, size_t N, size_t K, const void *A, const int8_t *B,
                        int32_t *C, size_t ldc) {
  lb_gemm_tiles<3, 3, 4, 2>(
      M, N, K, (const int8_t *)A, B, C, ldc, kStreamM,
      [&](auto r, auto c, auto stream, auto a, auto b, auto y) {
        tile_narrow<r.value, c.value, true, stream.value>(K, a, b, y, ldc);
      },
      [&](auto a, auto b, auto y) { tile_sym_3x3(K, a, b, y, ldc); });
}

void gemm_u7s8_avx2(size_t M, size_t N, size_t K, const void *A, const int8_t *B, int32_t *C,
                    size_t ldc) {
  lb_gemm_tiles<3, 3, 4, 2>(
      M, N, K, (const uint8_t *)A, B, C, ldc, kStreamM,
      [&](auto r, auto c, auto stream, auto a, auto b, auto y) {
        tile_narrow<r.value, c.value, false, stream.value>(K, a, b, y, ldc);
      },
      [&](auto a, auto b, auto y) { tile_u7_3x3(K, a, b, y, ldc); });
}

}  // namespace

// ---- K x N bytes into this layout (N x K rows): a transpose -------------------------------

// x[r] = row r of two 16 x 16 byte blocks, one in each 128-bit lane; after, x[c] = column c of
// each. Each round interleaves row j with row j + 8 (low halves into row 2 j, high into
// 2 j + 1), which rotates an element's 8-bit index (row bits, then column bits) left by one:
// four rounds swap row and column.
static inline void transpose16x16_lanes(__m256i (&x)[16]) {
  for (int round = 0; round < 4; ++round) {
    __m256i y[16];
    LB_UNROLL for (int j = 0; j < 8; ++j) {
      y[2 * j] = _mm256_unpacklo_epi8(x[j], x[j + 8]);
      y[2 * j + 1] = _mm256_unpackhi_epi8(x[j], x[j + 8]);
    }
    LB_UNROLL for (int j = 0; j < 16; ++j) x[j] = y[j];
  }
}

// kernels.h, pack_b_kn: columns n < nn of B as rows out + n * Kp of B' = B ^ flip (zero from K
// to Kp, rows nn .. nt zero), their sums, whether some B' is -128. In 64 x 64 tiles, each row of
// tiles walked along: a tile's source lines (flipped; zero past K or nn) are copied into a
// buffer, transposed there in pairs of 16 x 16 blocks whose columns continue each other in a
// row of B', summed, and written as whole lines by streaming stores: the packed B is read
// again only by the GEMM, so its lines need not be read in before being written. Along a row
// of tiles, the source lines of the tile two ahead are fetched first (64 lines from 64 pages
// a tile are too many streams for the hardware's prefetchers). Xeon host, 4096 x 4096 in tasks
// of 1024 columns, one thread, ms: the portable transpose in matmul_integer.cpp with a pass
// of sums after 14.3-15.0, with these fetches, sums and stores 4.0, here 3.2.
bool lb_pack_rows_kn_avx2(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb, uint8_t flip,
                          int8_t *out, uint32_t *col_sum) {
  const __m256i fl = _mm256_set1_epi8((char)flip), bias = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
  __m256i low = _mm256_set1_epi8((char)0xFF);  // the smallest b' + 128
  alignas(32) uint8_t in[64][64], tile_out[64][64];
  const size_t down = (K + 63) / 64, across = (nn + 63) / 64, tiles = down * across;
  const bool aligned = (uintptr_t)out % 32 == 0;  // Bp is; streaming stores need it (Kp: 64 k)
  for (size_t t = 0; t < tiles; ++t) {
    const size_t k0 = t / across * 64, n0 = t % across * 64;
    const size_t kr = K - k0 < 64 ? K - k0 : 64, nc = nn - n0 < 64 ? nn - n0 : 64;
    if (across > 1 && t + 2 < tiles) {
      const uint8_t *next = B + (t + 2) / across * 64 * ldb + (t + 2) % across * 64;
      const size_t rows = K - (t + 2) / across * 64 < 64 ? K - (t + 2) / across * 64 : 64;
      for (size_t r = 0; r < rows; ++r) _mm_prefetch((const char *)(next + r * ldb), _MM_HINT_T0);
    }
    if (kr == 64 && nc == 64) {
      for (int r = 0; r < 64; ++r) {
        const uint8_t *s = B + (k0 + r) * ldb + n0;
        const __m256i lo = _mm256_loadu_si256((const __m256i *)s), hi = _mm256_loadu_si256((const __m256i *)(s + 32));
        _mm256_store_si256((__m256i *)in[r], _mm256_xor_si256(lo, fl));
        _mm256_store_si256((__m256i *)(in[r] + 32), _mm256_xor_si256(hi, fl));
      }
    } else {  // an edge tile: zeros past K and nn (B' = 0 there, not 0 ^ flip)
      memset(in, 0, sizeof in);
      for (size_t r = 0; r < kr; ++r)
        for (size_t c = 0; c < nc; ++c) in[r][c] = B[(k0 + r) * ldb + n0 + c] ^ flip;
    }
    for (int k = 0; k < 64; k += 32)
      for (int n = 0; n < 64; n += 16) {
        __m256i x[16];  // lanes: rows k .. k + 15 and k + 16 .. k + 31 at columns n .. n + 15
        LB_UNROLL for (int r = 0; r < 16; ++r) x[r] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_load_si128((const __m128i *)&in[k + r][n])),
            _mm_load_si128((const __m128i *)&in[k + 16 + r][n]), 1);
        transpose16x16_lanes(x);
        LB_UNROLL for (int c = 0; c < 16; ++c) _mm256_store_si256((__m256i *)&tile_out[n + c][k], x[c]);
      }
    for (size_t c = 0; c < nc; ++c) {
      const __m256i v0 = _mm256_load_si256((const __m256i *)tile_out[c]);
      const __m256i v1 = _mm256_load_si256((const __m256i *)(tile_out[c] + 32));
      const __m256i u0 = _mm256_xor_si256(v0, bias), u1 = _mm256_xor_si256(v1, bias);
      low = _mm256_min_epu8(low, _mm256_min_epu8(u0, u1));
      const __m256i s = _mm256_add_epi64(_mm256_sad_epu8(u0, zero), _mm256_sad_epu8(u1, zero));
      const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
      const uint32_t sum = (uint32_t)(_mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1)) - 128u * 64;
      col_sum[n0 + c] = k0 ? col_sum[n0 + c] + sum : sum;
      int8_t *line = out + (n0 + c) * Kp + k0;
      if (aligned) {
        _mm256_stream_si256((__m256i *)line, v0);
        _mm256_stream_si256((__m256i *)(line + 32), v1);
      } else {
        _mm256_storeu_si256((__m256i *)line, v0);
        _mm256_storeu_si256((__m256i *)(line + 32), v1);
      }
    }
  }
  _mm_sfence();  // streaming stores are weakly ordered: all of them before the caller's next step
  if (K == 0)
    for (size_t n = 0; n < nn; ++n) col_sum[n] = 0;
  memset(out + nn * Kp, 0, (nt - nn) * Kp);
  // b' + 128 == 0 somewhere: B' = -128 (the padding's zeros are 128 here, never 0)
  return !_mm256_testz_si256(_mm256_cmpeq_epi8(low, zero), _mm256_cmpeq_epi8(low, zero));
}

extern const lb_gemm_i8_kernel gemm_i8_avx2 = {gemm_u8s8_avx2, false, 1, 1, gemm_s8s8_sym_avx2,
                                               gemm_u7s8_avx2, nullptr, false, nullptr, 0,
                                               lb_pack_rows_kn_avx2, nullptr};
