// Raw 8-bit GEMM, AVX-VNNI: vpdpbusd (uint8 A x int8 B, four products summed exactly into each
// int32 lane, wrapping add) on 256-bit registers, in its VEX encoding, which CPUs without
// AVX-512 run.
//
// Outer-product form on B in the VNNI layout (lb_pack_b_vnni16), as gemm_avx512vnni.cpp: one
// 64-byte row of a block of B is four k of 16 columns, two registers here, and a broadcast of
// four bytes of a row of A meets both, so accumulators hold finished outputs. Against the
// 3 x 3 dot-product tile in assembly it replaced, lent Xeon, best of 3 interleaved runs, matmul
// w8a8 GOPS: 1 thread 1024^3 228 -> 300, 512 x 4096 x 4096 230 -> 318 (89% of the 357 GOPS
// peak of the same run), 8 x 4096 x 4096 190 -> 217; 16 threads 1024^3 2221 -> 2645.
#pragma GCC target("avx2,fma,avxvnni")
#include <immintrin.h>
#include <string.h>

#include <type_traits>

#include "../kernels.h"
#include "../tile_loop.h"
#include "quads_ymm.h"

namespace {

// R rows of A x C blocks of 16 columns: 2C accumulators per row. Per four k: 2C loads of B, R
// broadcasts of A, 2RC vpdpbusd. 6 x 1 keeps 12 accumulators, 2 B and 1 A of the 16
// registers. kStream (small M, B used once, from memory): B is prefetched further ahead.
template <int R, int C, bool kStream>
void tile(size_t K, const uint8_t *A, const int8_t *B, int32_t *Y, size_t ldc) {
  constexpr size_t kAhead = kStream ? 1024 : 512;  // bytes of each column block
  const size_t bs = 16 * K;                        // bytes between column blocks
  __m256i acc[R][2 * C];
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < 2 * C; ++j) acc[i][j] =
      _mm256_setzero_si256();
  for (size_t k = 0; k < K; k += 16) {  // four steps of four k: one line of each B block
    LB_UNROLL for (int j = 0; j < C; ++j) _mm_prefetch((const char *)B + j * bs + k * 16 + kAhead,
                                                        _MM_HINT_T0);
    LB_UNROLL for (int s = 0; s < 4; ++s) {
      const size_t kk = k + 4 * s;
      __m256i b[2 * C];
      LB_UNROLL for (int j = 0; j < 2 * C; ++j) b[j] =
          _mm256_load_si256((const __m256i *)(B + (j / 2) * bs + kk * 16 + (j % 2) * 32));
      LB_UNROLL for (int i = 0; i < R; ++i) {
        int32_t a4;
        memcpy(&a4, A + i * K + kk, 4);
        const __m256i a = _mm256_set1_epi32(a4);
        LB_UNROLL for (int j = 0; j < 2 * C; ++j) acc[i][j] =
            _mm256_dpbusd_avx_epi32(acc[i][j], a, b[j]);
      }
    }
  }
  LB_UNROLL for (int i = 0; i < R; ++i) LB_UNROLL for (int j = 0; j < 2 * C; ++j)
      _mm256_storeu_si256((__m256i *)(Y + i * ldc + 8 * j), acc[i][j]);
}

}  // namespace

// Tiles over blocks of 16 columns (N % 16 == 0): up to M = 4, tiles that meet all rows of A in
// one pass over B (2 x 2 blocks up to M = 2, else 4 x 1); beyond, 6 x 1.
void gemm_u8s8_avxvnni(size_t M, size_t N, size_t K, const void *Av, const int8_t *B, int32_t *C,
                       size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  auto run = [&](auto stream) {
    return [&, stream](auto r, auto c, size_t m, size_t nb) {
      tile<r.value, c.value, decltype(stream)::value>(K, A + m * K, B + nb * 16 * K,
                                                      C + m * ldc + nb * 16, ldc);
    };
  };
  if (M <= 2)
    lb_for_each_tile<2, 2>(M, N / 16, run(std::true_type{}));
  else if (M <= 4)
    lb_for_each_tile<4, 1>(M, N / 16, run(std::true_type{}));
  else
    lb_for_each_tile<6, 1>(M, N / 16, run(std::false_type{}));
}

namespace {

// r[0 .. 7]: 8 rows of eight 4-byte words -> t[w] = word w of every row (an 8 x 8 transpose of
// words: 32- and 64-bit unpacks within lanes, then the lanes swapped).
inline void transpose_words8(const __m256i (&r)[8], __m256i (&t)[8]) {
  __m256i a[8], b[8];
  LB_UNROLL for (int i = 0; i < 4; ++i) {
    a[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  LB_UNROLL for (int i = 0; i < 2; ++i)
    LB_UNROLL for (int j = 0; j < 2; ++j) {
      b[4 * i + j] = _mm256_unpacklo_epi64(a[4 * i + j], a[4 * i + j + 2]);
      b[4 * i + j + 2] = _mm256_unpackhi_epi64(a[4 * i + j], a[4 * i + j + 2]);
    }
  // b[0]: words 0 (rows 0-3, lane 0) and 4 (lane 1); b[4]: the same of rows 4-7; b[2] words 1 / 5,
  // b[1] words 2 / 6, b[3] words 3 / 7.
  const int order[4] = {0, 2, 1, 3};
  LB_UNROLL for (int w = 0; w < 4; ++w) {
    t[w] = _mm256_permute2x128_si256(b[order[w]], b[order[w] + 4], 0x20);
    t[w + 4] = _mm256_permute2x128_si256(b[order[w]], b[order[w] + 4], 0x31);
  }
}

}  // namespace

// lb_pack_b_vnni16 (kernels.h) with transposes in registers: 16 rows x 32 bytes a step, two
// 8 x 8 transposes of words, each layout row written as two halves. (The portable version,
// 4 bytes at a time: 7.4 ms for 4096 x 4096 in the npm bench's prepack row, against 1.2-1.8 ms
// on the other ISAs.)
void lb_pack_b_vnni16_avx2(size_t N, size_t K, const int8_t *B, int8_t *out) {
  for (size_t nb = 0; nb < N / 16; ++nb) {
    const int8_t *src = B + nb * 16 * K;
    int8_t *dst = out + nb * 16 * K;
    for (size_t k = 0; k < K; k += 32)
      LB_UNROLL for (int h = 0; h < 2; ++h) {  // columns 8 h .. 8 h + 7 of the block
        __m256i r[8], t[8];
        LB_UNROLL for (int c = 0; c < 8; ++c) r[c] = _mm256_loadu_si256((const __m256i *)(src + (8 * h + c) * K + k));
        transpose_words8(r, t);
        LB_UNROLL for (int w = 0; w < 8; ++w) _mm256_storeu_si256((__m256i *)(dst + (k / 4 + w) * 64 + 32 * h), t[w]);
      }
  }
}

// K x N bytes straight into the VNNI layout (kernels.h, pack_b_kn), as the AVX-512 packer does
// it (gemm_avx512vnni.cpp) on 32 columns: four rows make their quads by two unpack levels within
// 128-bit lanes, and a swap of lanes puts 16 columns' quads, in column order, into the two
// halves of a row of each block; vpdpbusd by ones adds them into the column sums. (The K x N
// bytes were transposed to N x K rows and packed from there: 64 x 4096 x 4096 matmulInteger
// spent twice the GEMM's time packing.) Rows in chunks of 32 across all the columns, so that
// each row is read along; a partial strip (past nn) goes through a buffer.
bool lb_pack_b_vnni16_kn_avxvnni(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                 uint8_t flip, int8_t *out, uint32_t *col_sum) {
  // Chunks of 32 rows: the two 32-column strips that read each line of a chunk find it in L1
  // (32 x 1024 bytes; 64 rows were 64 KiB, past L1, and the second strip read L2). Xeon host,
  // 1 thread, 4096 x 4096: the packer 3.4 -> 2.6 ms; 64 x 4096 x 4096 matmulInteger 8.2-9.5 ->
  // 7.1-7.3.
  constexpr size_t kRows = 32, kMaxCols = 1024;
  const __m256i fl = _mm256_set1_epi8((char)flip), ones = _mm256_set1_epi8(1), m128 = _mm256_set1_epi8((char)0x80);
  alignas(32) uint32_t sums[kMaxCols];
  memset(sums, 0, sizeof sums);
  __m256i low = _mm256_setzero_si256();  // bytes equal to -128
  for (size_t k0 = 0; k0 < Kp; k0 += kRows) {
    const size_t k1 = Kp - k0 < kRows ? Kp : k0 + kRows;
    for (size_t n = 0; n < nt; n += 32) {
      const size_t w = nn > n ? (nn - n < 32 ? nn - n : 32) : 0, blocks = nt - n < 32 ? 1 : 2;
      __m256i cs[4];
      LB_UNROLL for (int j = 0; j < 4; ++j) cs[j] = _mm256_load_si256((const __m256i *)(sums + n + 8 * j));
      for (size_t k = k0; k < k1; k += 4) {
        __m256i r[4];
        LB_UNROLL for (int i = 0; i < 4; ++i) {
          const uint8_t *src = B + (k + i) * ldb + n;
          if (k + i >= K || !w) {
            r[i] = _mm256_setzero_si256();
            continue;
          }
          if (k + i + kRows < K) _mm_prefetch((const char *)(src + kRows * ldb), _MM_HINT_T0);
          if (w == 32) {
            r[i] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)src), fl);
          } else {  // columns past nn are zero, not 0 ^ flip
            alignas(32) uint8_t part[32] = {};
            for (size_t c = 0; c < w; ++c) part[c] = src[c] ^ flip;
            r[i] = _mm256_load_si256((const __m256i *)part);
          }
          low = _mm256_or_si256(low, _mm256_cmpeq_epi8(r[i], m128));
        }
        __m256i q[4];  // q[j], lane l: the quads of columns 16 l + 4 j .. 16 l + 4 j + 3
        lb_quads256(r, q);
        // c[2 b + h]: columns 16 b + 8 h .. 16 b + 8 h + 7, half h of block b's row k / 4
        const __m256i c[4] = {
            _mm256_permute2x128_si256(q[0], q[1], 0x20), _mm256_permute2x128_si256(q[2], q[3], 0x20),
            _mm256_permute2x128_si256(q[0], q[1], 0x31), _mm256_permute2x128_si256(q[2], q[3], 0x31)};
        LB_UNROLL for (int j = 0; j < 4; ++j) cs[j] = _mm256_dpbusd_avx_epi32(cs[j], ones, c[j]);
        for (size_t b = 0; b < blocks; ++b) {
          int8_t *row = out + (n / 16 + b) * 16 * Kp + k * 16;
          _mm256_storeu_si256((__m256i *)row, c[2 * b]);
          _mm256_storeu_si256((__m256i *)(row + 32), c[2 * b + 1]);
        }
      }
      LB_UNROLL for (int j = 0; j < 4; ++j) _mm256_store_si256((__m256i *)(sums + n + 8 * j), cs[j]);
    }
  }
  memcpy(col_sum, sums, nn * sizeof(uint32_t));
  return !_mm256_testz_si256(low, low);
}

const lb_gemm_i8_kernel gemm_i8_avxvnni = {gemm_u8s8_avxvnni, false, 1, 16, nullptr, nullptr,
                                           lb_pack_b_vnni16_avx2, false, nullptr, 0,
                                           lb_pack_b_vnni16_kn_avxvnni, nullptr};
