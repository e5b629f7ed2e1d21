// Grouped GEMM, AMX-INT8 (kernels.h, lb_ggemm_args), 8-bit panels (8-bit weights, and the 4 / 2-bit
// ones the engine expanded) from 16 rows on; fewer rows, and groups AMX cannot take whole, go to
// the AVX-512 VNNI kernel, which reads the same panels. tdpbsud multiplies signed activations by
// unsigned weights, and a panel's group is already a B tile: Gp / 4 rows of 64 bytes, each 16
// columns x 4 k. So a group is one tile product per 16 x 16 outputs (K = Gp up to 64, else
// Gp / 64 products of 64), and at its end the int32 tile goes to L1, where the AVX-512 group end
// of ggemm_zmm_common.h turns it into float and adds it to the block's sums in SPEC §4's order.
//
// The group's end bounds the kernel at small groups, as it bounds the AVX-512 one, so AMX gains
// most where groups are long. Lent Xeon, medians of 3 interleaved runs, GOPS, AMX grouped against
// the AVX-512 VNNI grouped kernel, against AMX int8 (the raw kernel) in the same runs:
//   int4 g32,  64 x 4096 x 4096:  1 thread 379-383 vs 245-373 (int8 881-909); 16 threads
//     3150-3238 vs 2821-2849 (int8 8508-9620); 512 rows 402-403 vs 380-397, 3606-3767 vs 3045-3393
//   int4 g128, 64 x 4096 x 4096:  1 thread 881-907 vs 333-511; 16 threads 7014-7204 vs 3715-4276;
//     512 rows 1036-1051 vs 532-549 (int8 1561-1574), 7648-7815 vs 3641-5079 (int8 10399-11717)
//
// Tiles: tmm0-3 C (2 x 2 tiles of 16 x 16 int32), tmm4-5 A (16 rows x K bytes, rows lda apart),
// tmm6-7 B (K / 4 rows x 64 bytes).
#ifndef LB_AMX_EMULATE
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,f16c")
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,f16c")
#endif
#include <immintrin.h>
#include <string.h>

#include "../tile_loop.h"
#include "ggemm_zmm_common.h"

namespace {

#ifdef LB_AMX_EMULATE
#include LB_AMX_EMULATE  // a C++ model of the tile operations, for hosts without AMX
#else
struct alignas(64) tile_config {
  uint8_t palette_id, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};
// The intrinsics take the tile number as a literal (it is pasted into the instruction).
#define t_zero(T) _tile_zero(T)
#define t_load(T, p, stride) _tile_loadd(T, p, stride)
#define t_store(T, p, stride) _tile_stored(T, p, stride)
#define t_dpbsud(C, A, B) _tile_dpbsud(C, A, B)
inline void t_config(const tile_config &c) { _tile_loadconfig(&c); }
inline void t_release() { _tile_release(); }
#endif

// C tiles for K = ks: A tiles 16 x ks bytes, B tiles ks / 4 rows.
void configure(size_t ks) {
  tile_config c;
  memset(&c, 0, sizeof c);
  c.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = t >= 6 ? (uint8_t)(ks / 4) : 16;
    c.colsb[t] = t == 4 || t == 5 ? (uint16_t)ks : 64;
  }
  t_config(c);
}

// MT x NT tiles of 16 x 16 outputs at rows m, panels p: every group's products, each group's
// int32 tiles stored to L1 and turned into float there, the float sums in L1 too (4 KiB at
// most). The tile unit works apart from the vector units, so group g's products are issued
// before group g - 1's end is computed, and the two overlap (two buffers of int32 tiles).
template <int MT, int NT, bool kUniform>
void block(const lb_ggemm_args &a, size_t ks, size_t m, size_t p) {
  const size_t lda = a.groups * a.Gp, panel = a.groups * a.Gp * 16, steps = a.Gp / ks;
  alignas(64) int32_t c[2][MT * 16][NT * 16];
  alignas(64) float y[MT * 16][NT * 16];
  memset(y, 0, sizeof y);
  // Each row's int32 sums from L1, through lb_zmm_group_end (one test per group for the
  // activations' zero points, not one per row and panel).
  auto group_end = [&](size_t g, const int32_t (&t)[MT * 16][NT * 16]) {
    __m512 ws[NT];
    lb_zmm_group_scales(a, p, g, ws);
    for (int i = 0; i < MT * 16; ++i) {
      __m512i v[1][NT];
      const __m512i start = _mm512_set1_epi32(kUniform ? lb_group_start(a, m + i, g) : 0);
      LB_UNROLL for (int j = 0; j < NT; ++j) {
        v[0][j] = _mm512_load_si512((const void *)&t[i][16 * j]);
        if (kUniform) v[0][j] = _mm512_add_epi32(v[0][j], start);
      }
      lb_zmm_group_end<kUniform>(a, m + i, p, g, ws, v, [&](int, int j, __m512 term) {
        _mm512_store_ps(&y[i][16 * j], _mm512_add_ps(_mm512_load_ps(&y[i][16 * j]), term));
      });
    }
  };
  for (size_t g = 0; g < a.groups; ++g) {
    t_zero(0);
    if (NT > 1) t_zero(1);
    if (MT > 1) t_zero(2);
    if (MT > 1 && NT > 1) t_zero(3);
    for (size_t s = 0; s < steps; ++s) {
      const int8_t *A = a.A + m * lda + g * a.Gp + s * ks;
      const uint8_t *B = a.B + p * panel + (g * a.Gp + s * ks) * 16;
      t_load(4, A, lda);
      t_load(6, B, 64);
      t_dpbsud(0, 4, 6);
      if (NT > 1) {
        t_load(7, B + panel, 64);
        t_dpbsud(1, 4, 7);
      }
      if (MT > 1) {
        t_load(5, A + 16 * lda, lda);
        t_dpbsud(2, 5, 6);
      }
      if (MT > 1 && NT > 1) t_dpbsud(3, 5, 7);
    }
    if (g > 0) group_end(g - 1, c[(g - 1) & 1]);
    auto &t = c[g & 1];
    t_store(0, &t[0][0], sizeof t[0]);
    if (NT > 1) t_store(1, &t[0][16], sizeof t[0]);
    if (MT > 1) t_store(2, &t[16][0], sizeof t[0]);
    if (MT > 1 && NT > 1) t_store(3, &t[16][16], sizeof t[0]);
  }
  if (a.groups) group_end(a.groups - 1, c[(a.groups - 1) & 1]);
  for (int i = 0; i < MT * 16; ++i) LB_UNROLL for (int j = 0; j < NT; ++j) {
    __m512 v = _mm512_load_ps(&y[i][16 * j]);
    const size_t n = (p + j) * 16;
    if (a.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(a.bias + n));
    _mm512_storeu_ps(a.Y + (m + i) * a.ldy + n, v);
  }
}

template <bool kUniform>
void run(const lb_ggemm_args &a, size_t M16, size_t ks) {
  const size_t panels = a.N / 16;
  for (size_t m = 0, ms; m < M16; m += ms) {
    ms = m + 32 <= M16 ? 32 : 16;
    for (size_t p = 0, ps; p < panels; p += ps) {
      ps = p + 2 <= panels ? 2 : 1;
      if (ms == 32 && ps == 2) block<2, 2, kUniform>(a, ks, m, p);
      else if (ms == 32) block<2, 1, kUniform>(a, ks, m, p);
      else if (ps == 2) block<1, 2, kUniform>(a, ks, m, p);
      else block<1, 1, kUniform>(a, ks, m, p);
    }
  }
}

}  // namespace

void ggemm_u8s8_amx(const lb_ggemm_args &a) {
  // Below 32 rows the AVX-512 kernel: on the lent Xeon, 16 x 4096 x 4096 on 16 threads (blocks
  // of 16 rows x 128 columns) ran at 360-480 GOPS on AMX against 520-1290 on AVX-512 VNNI.
  const size_t ks = a.Gp <= 64 ? a.Gp : 64, M16 = a.M / 16 * 16;
  if (a.M < 32 || a.Gp % ks != 0) return ggemm_u8s8_avx512vnni(a);
  configure(ks);  // tile state is per thread: every call (on any pool thread) sets it
  if (a.zp_uniform) run<true>(a, M16, ks);
  else run<false>(a, M16, ks);
  t_release();
  if (M16 < a.M) {  // the last rows, fewer than 16
    lb_ggemm_args t = a;
    t.M = a.M - M16;
    t.A += M16 * a.groups * a.Gp;
    t.a_scale += M16;
    t.a_sum += M16 * a.groups;
    if (t.a_zp) t.a_zp += M16;
    t.Y += M16 * a.ldy;
    ggemm_u8s8_avx512vnni(t);
  }
}
