// Grouped GEMM, AMX-INT8 (kernels.h, lb_ggemm_args), 8-bit panels (8-bit weights, and the 4 / 2-bit
// ones the engine expanded) from 32 rows on, every row: strips of 32 or 16, then the last rows
// with tiles of that many rows. Fewer rows, and groups AMX cannot take whole, go to the AVX-512
// VNNI kernel, which reads the same panels. A panel's group is already a B tile: Gp / 4 rows of
// 64 bytes, each 16 columns x 4 k. So a group is one tile product per 16 x 16 outputs (K = Gp up
// to 64, else Gp / 64 products of 64), and at its end the int32 tile goes to L1, where the
// AVX-512 group end of ggemm_zmm_common.h turns it into float and adds it to the block's sums in
// SPEC §4's order. tdpbsud multiplies signed activations by unsigned weights U; on the signed
// panels the engine expands for symmetric 4 / 2-bit weights (U - zp, kernels.h signed_m), tdpbssd,
// and no zero-point term is added at the group ends.
//
// The group's end bounds the kernel at small groups, as it bounds the AVX-512 one, so AMX gains
// most where groups are long. Taken apart on a 2-vCPU Xeon host (AMX), int4 g32, 64 x 4096 x
// 4096, 1 thread, 4.4-4.6 ms in all: outside the kernel (activations, expansion) 0.55 ms, the
// tile products 1.1, the int32 tiles' stores 0.9, the group ends 2.1 (of which the float sums'
// round trips through L1 0.4); the raw int8 AMX product of the same shape takes 1.19 ms. The
// signed panels took one of the group end's five vector operations per 16 outputs: 4.42-4.45 ->
// 3.86-3.87 ms (int2 4.21-4.32 -> 3.63-3.71, 512 rows 31.2-31.6 -> 27.8-28.6, g128 1.80-1.91 ->
// 1.68-1.76; 2 threads 2.11 -> 1.84-1.91). Measured and dropped: A repacked in tile order per
// strip and K chunk (no change), two groups' ends at a time with the sums in registers (3.74 ->
// 4.08 ms), two sets of C tiles taking turns between groups (no change).
// Lent Xeon, before the signed panels, medians of 3 interleaved runs, GOPS, AMX grouped against
// the AVX-512 VNNI grouped kernel, against AMX int8 (the raw kernel) in the same runs:
//   int4 g32,  64 x 4096 x 4096:  1 thread 379-383 vs 245-373 (int8 881-909); 16 threads
//     3150-3238 vs 2821-2849 (int8 8508-9620); 512 rows 402-403 vs 380-397, 3606-3767 vs 3045-3393
//   int4 g128, 64 x 4096 x 4096:  1 thread 881-907 vs 333-511; 16 threads 7014-7204 vs 3715-4276;
//     512 rows 1036-1051 vs 532-549 (int8 1561-1574), 7648-7815 vs 3641-5079 (int8 10399-11717)
//
// Tiles: tmm0-3 C (2 x 2 tiles of 16 x 16 int32), tmm4-5 A (16 rows x K bytes, rows lda apart),
// tmm6-7 B (K / 4 rows x 64 bytes).
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni,f16c")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "../tile_loop.h"
#include "ggemm_zmm_common.h"

namespace {

// The tile product: signed activations x unsigned weights U, or x signed weights U - zp.
#define LB_TDP(C, A, B)                      \
  do {                                       \
    if constexpr (kSigned) _tile_dpbssd(C, A, B); \
    else _tile_dpbsud(C, A, B);              \
  } while (0)

// MT x NT tiles of 16 x 16 outputs at rows m (`rows` of them: MT * 16, or fewer in a last
// strip), panels p: every group's products, each group's int32 tiles stored to L1 and turned
// into float there, the float sums in L1 too (4 KiB at most). The tile unit works apart from
// the vector units, so group g's products are issued before group g - 1's end is computed, and
// the two overlap (two buffers of int32 tiles). kSigned: B holds U - zp (one zero point), so a
// sum needs no zero-point term: of the group end's five vector operations per 16 outputs (the
// term's add, convert, two products, the sum's add), the first goes.
template <int MT, int NT, bool kUniform, bool kSigned>
void block(const lb_ggemm_args &a, size_t ks, size_t m, size_t rows, size_t p) {
  const size_t lda = a.groups * a.Gp, panel = a.groups * a.Gp * 16, steps = a.Gp / ks;
  alignas(64) int32_t c[2][MT * 16][NT * 16];
  alignas(64) float y[MT * 16][NT * 16];
  memset(y, 0, sizeof y);
  // Each row's int32 sums from L1, through lb_zmm_group_end (one test per group for the
  // activations' zero points, not one per row and panel).
  auto group_end = [&](size_t g, const int32_t (&t)[MT * 16][NT * 16]) {
    __m512 ws[NT];
    lb_zmm_group_scales(a, p, g, ws);
    for (size_t i = 0; i < rows; ++i) {
      __m512i v[1][NT];
      constexpr bool kStart = kUniform && !kSigned;
      const __m512i start = _mm512_set1_epi32(kStart ? lb_group_start(a, m + i, g) : 0);
      LB_UNROLL for (int j = 0; j < NT; ++j) {
        v[0][j] = _mm512_load_si512((const void *)&t[i][16 * j]);
        if (kStart) v[0][j] = _mm512_add_epi32(v[0][j], start);
      }
      lb_zmm_group_end<kUniform>(a, m + i, p, g, ws, v, [&](int, int j, __m512 term) {
        _mm512_store_ps(&y[i][16 * j], _mm512_add_ps(_mm512_load_ps(&y[i][16 * j]), term));
      });
    }
  };
  for (size_t g = 0; g < a.groups; ++g) {
    _tile_zero(0);
    if (NT > 1) _tile_zero(1);
    if (MT > 1) _tile_zero(2);
    if (MT > 1 && NT > 1) _tile_zero(3);
    for (size_t s = 0; s < steps; ++s) {
      const int8_t *A = a.A + m * lda + g * a.Gp + s * ks;
      const uint8_t *B = a.B + p * panel + (g * a.Gp + s * ks) * 16;
      _tile_loadd(4, A, lda);
      _tile_loadd(6, B, 64);
      LB_TDP(0, 4, 6);
      if (NT > 1) {
        _tile_loadd(7, B + panel, 64);
        LB_TDP(1, 4, 7);
      }
      if (MT > 1) {
        _tile_loadd(5, A + 16 * lda, lda);
        LB_TDP(2, 5, 6);
      }
      if (MT > 1 && NT > 1) LB_TDP(3, 5, 7);
    }
    if (g > 0) group_end(g - 1, c[(g - 1) & 1]);
    auto &t = c[g & 1];
    _tile_stored(0, &t[0][0], sizeof t[0]);
    if (NT > 1) _tile_stored(1, &t[0][16], sizeof t[0]);
    if (MT > 1) _tile_stored(2, &t[16][0], sizeof t[0]);
    if (MT > 1 && NT > 1) _tile_stored(3, &t[16][16], sizeof t[0]);
  }
  if (a.groups) group_end(a.groups - 1, c[(a.groups - 1) & 1]);
  for (size_t i = 0; i < rows; ++i) LB_UNROLL for (int j = 0; j < NT; ++j) {
    __m512 v = _mm512_load_ps(&y[i][16 * j]);
    const size_t n = (p + j) * 16;
    if (a.bias) v = _mm512_add_ps(v, _mm512_loadu_ps(a.bias + n));
    _mm512_storeu_ps(a.Y + (m + i) * a.ldy + n, v);
  }
}
#undef LB_TDP

// Strips of 32 or 16 rows, then the last rows (fewer than 16) with tiles of that many rows.
template <bool kUniform, bool kSigned>
void run(const lb_ggemm_args &a, size_t ks) {
  const size_t panels = a.N / 16, M16 = a.M / 16 * 16;
  auto strip = [&](auto mt, size_t m, size_t rows) {
    for (size_t p = 0, ps; p < panels; p += ps) {
      ps = p + 2 <= panels ? 2 : 1;
      if (ps == 2) block<decltype(mt)::value, 2, kUniform, kSigned>(a, ks, m, rows, p);
      else block<decltype(mt)::value, 1, kUniform, kSigned>(a, ks, m, rows, p);
    }
  };
  lb_amx_configure(16, (unsigned)ks);
  for (size_t m = 0; m < M16;) {
    if (m + 32 <= M16) strip(std::integral_constant<int, 2>{}, m, 32), m += 32;
    else strip(std::integral_constant<int, 1>{}, m, 16), m += 16;
  }
  if (M16 < a.M) {
    lb_amx_configure((unsigned)(a.M - M16), (unsigned)ks);
    strip(std::integral_constant<int, 1>{}, M16, a.M - M16);
  }
  _tile_release();
}

}  // namespace

void ggemm_u8s8_amx(const lb_ggemm_args &a) {
  // Below 32 rows the AVX-512 kernel. Where AMX overtakes it depends on the CPU: int4 g32
  // expanded, x 4096 x 4096, ms, AMX against AVX-512, 1 thread: on a 2-vCPU Xeon host, 16 rows
  // 1.26-1.27 / 1.60, 24 rows 2.00-2.09 / 2.33-2.37; on the lent 16-core Xeon, 16 rows
  // 1.85-2.02 / 1.74-2.06, 24 rows 2.65-2.97 / 2.41-2.50, and int8 g32 at 16 rows on 16 threads
  // 0.124-0.195 / 0.107-0.146. So AMX only from 32 rows: there the lent Xeon's 16 threads run
  // it 10-35% faster (int4 g32, 32 / 64 / 512 rows: 0.27-0.31 / 0.48-0.60 / 3.43-3.59 ms against
  // 0.31-0.38 / 0.58-0.72 / 4.07-5.29), its one thread as fast at 512 rows and within its noise
  // at 32-64 (64 rows 5.2-8.9 ms against 5.3-5.6). Signed panels only come here with whole
  // steps (kernels.h, signed_m), and every row of them is AMX's.
  const size_t ks = a.Gp <= 64 ? a.Gp : 64;
  if (a.b_signed) return run<true, true>(a, ks);
  if (a.M < 32 || a.Gp % ks != 0) return ggemm_u8s8_avx512vnni(a);
  if (a.zp_uniform) run<true, false>(a, ks);
  else run<false, false>(a, ks);
}
