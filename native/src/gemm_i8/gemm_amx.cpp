// Raw 8-bit GEMM, AMX-INT8: tdpbusd on 16 x 16 int32 tiles (uint8 A x int8 B, products summed
// exactly, wrapping add). The driver pads M and N to 16, so every tile is full.
// tdpbssd (int8 x int8) is not used: the driver's u8 x s8 mapping serves every dtype pair.
//
// Tiles: C 16 rows x 64 bytes (16 int32); A 16 rows x 64 bytes (64 k); B 16 rows x 64 bytes in
// the VNNI layout (lb_pack_b_vnni16): row r holds, for each of 16 columns n, the four bytes
// B[n][4r .. 4r+3].
// A 2 x 2 block of C tiles reuses each A and B tile twice: tmm0-3 = C, tmm4-5 = A, tmm6-7 = B.
#pragma GCC target("amx-tile,amx-int8,avx512f")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "../kernels.h"

namespace {

// MT x NT tiles of 16 x 16 at (m, n), MT, NT in {1, 2}, over the k-blocks [kb0, kb1): the
// accumulators start at zero (first) or from C, and go back to C. Software-pipelined: each
// operand tile of the next k-block is loaded right after its last use in this one, so the
// loads overlap the remaining products, and the B tiles two k-blocks ahead are prefetched
// into L1. Against loading all four operands at the top of each k-block, best of three
// interleaved runs on the lent Xeon, one thread, raw int8 products: 512 x 4096 x 4096
// 920 -> 1574 GOPS, 1024^3 1143 -> 1194, 64 x 4096 x 4096 1162 -> 1358.
template <int MT, int NT>
void block(size_t K, size_t kb0, size_t kb1, bool first, const uint8_t *A, const int8_t *Bp,
           int32_t *C, size_t ldc) {
  constexpr size_t PF = 2;  // k-blocks ahead (1 KiB per B tile)
  const size_t b_stride = K / 64 * 1024;  // bytes between 16-column blocks of Bp
  const size_t stride = ldc * sizeof(int32_t);
  const uint8_t *A1 = A + 16 * K;  // the second 16-row group (kernels.h a_tiles16)
  const int8_t *B1 = Bp + b_stride;
  if (first) {
    _tile_zero(0);
    if (NT > 1) _tile_zero(1);
    if (MT > 1) _tile_zero(2);
    if (MT > 1 && NT > 1) _tile_zero(3);
  } else {
    _tile_loadd(0, C, stride);
    if (NT > 1) _tile_loadd(1, C + 16, stride);
    if (MT > 1) _tile_loadd(2, C + 16 * ldc, stride);
    if (MT > 1 && NT > 1) _tile_loadd(3, C + 16 * ldc + 16, stride);
  }
  if (kb0 < kb1) {
    _tile_loadd(4, A + kb0 * 1024, 64);
    if (MT > 1) _tile_loadd(5, A1 + kb0 * 1024, 64);
    _tile_loadd(6, Bp + kb0 * 1024, 64);
    if (NT > 1) _tile_loadd(7, B1 + kb0 * 1024, 64);
  }
  for (size_t kb = kb0; kb < kb1; ++kb) {
    const bool more = kb + 1 < kb1;
    const size_t next = (kb + 1) * 1024;
    if (PF)
      for (int l = 0; l < 1024; l += 64) {
        _mm_prefetch((const char *)Bp + (kb + PF) * 1024 + l, _MM_HINT_T0);
        if (NT > 1) _mm_prefetch((const char *)B1 + (kb + PF) * 1024 + l, _MM_HINT_T0);
      }
    _tile_dpbusd(0, 4, 6);
    if (NT > 1) _tile_dpbusd(1, 4, 7);
    if (more) _tile_loadd(4, A + next, 64);
    if (MT > 1) _tile_dpbusd(2, 5, 6);
    if (more) _tile_loadd(6, Bp + next, 64);
    if (MT > 1 && NT > 1) _tile_dpbusd(3, 5, 7);
    if (more && MT > 1) _tile_loadd(5, A1 + next, 64);
    if (more && NT > 1) _tile_loadd(7, B1 + next, 64);
  }
  _tile_stored(0, C, stride);
  if (NT > 1) _tile_stored(1, C + 16, stride);
  if (MT > 1) _tile_stored(2, C + 16 * ldc, stride);
  if (MT > 1 && NT > 1) _tile_stored(3, C + 16 * ldc + 16, stride);
}

}  // namespace

// The AVX-512 VNNI kernel reads the same packed B (gemm_avx512vnni.cpp): AMX's few-row path.
void gemm_u8s8_avx512vnni(size_t M, size_t N, size_t K, const void *A, const int8_t *B, int32_t *C,
                          size_t ldc);

// K is walked in chunks of 16 k-blocks (1 KiB per A row): a 32-row strip of A is then 32 KiB
// and stays in L1 while every column pair of the block streams past it from L2. Without the
// chunks both operands came from L2 and the kernel ran at about a fifth of the AMX peak.
void gemm_u8s8_amx(size_t M, size_t N, size_t K, const void *Av, const int8_t *Bp, int32_t *C,
                   size_t ldc) {
  const uint8_t *A = (const uint8_t *)Av;
  lb_amx_configure(16, 64);
  const size_t KB = K / 64, chunk = 16, n_chunks = KB ? (KB + chunk - 1) / chunk : 1;
  for (size_t ci = 0; ci < n_chunks; ++ci) {
    const size_t kb0 = ci * chunk, kb1 = KB - kb0 < chunk ? KB : kb0 + chunk;
    for (size_t m = 0, mstep; m < M; m += mstep) {
      mstep = m + 32 <= M ? 32 : 16;
      for (size_t n = 0, nstep; n < N; n += nstep) {
        nstep = n + 32 <= N ? 32 : 16;
        const uint8_t *a = A + m * K;
        const int8_t *b = Bp + (n / 16) * KB * 1024;
        int32_t *c = C + m * ldc + n;
        const bool first = ci == 0;
        if (mstep == 32 && nstep == 32) block<2, 2>(K, kb0, kb1, first, a, b, c, ldc);
        else if (mstep == 32) block<2, 1>(K, kb0, kb1, first, a, b, c, ldc);
        else if (nstep == 32) block<1, 2>(K, kb0, kb1, first, a, b, c, ldc);
        else block<1, 1>(K, kb0, kb1, first, a, b, c, ldc);
      }
    }
  }
  _tile_release();
}

const lb_gemm_i8_kernel gemm_i8_amx = {gemm_u8s8_amx, false, 16, 16, nullptr, nullptr,
                                       lb_pack_b_vnni16_avx512, true,
                                       gemm_u8s8_avx512vnni, 4, lb_pack_b_vnni16_kn_avx512,
                                       lb_pack_b_vnni16_nk_avx512};
