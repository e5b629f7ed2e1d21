// The caller's K x N bytes times 9 to many_rows rows of a, AMX-INT8 (kernels.h,
// lb_gemv_u8_kernels, kn_many): the walk of kn_units_zmm.h, each strip's quads read as B tiles
// (a 64-k block of a quad vector j is tile j) and multiplied by a's tiles with tdpbusd /
// tdpbsud, P's int32 tiles kept in P between slabs. At 64 x 4096 x 4096 on one thread the
// unpacking takes 0.8 ms of the call and the tiles 0.6, and the two do not overlap: unpacking
// the next unit between this one's tile products (a double buffer) was slower, 1 x 4096 x 4096
// 1.15-1.20 -> 1.50-1.57 ms.
#pragma GCC target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512vnni")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "../kernels.h"
#include "kn_units_zmm.h"

namespace {

// The tile product for a's signedness: uint8 a x int8 B', or int8 a x uint8 B'.
#define LB_TDP(C, A, B)                   \
  do {                                    \
    if constexpr (kAU8) _tile_dpbusd(C, A, B); \
    else _tile_dpbsud(C, A, B);           \
  } while (0)

// The 16 or 32 rows of P at m (two: 32) x one strip of 64 columns at n, over kb k-blocks of
// the slab (a at its first column) and the strip's quads Bt: the C tiles start at zero (first) or from P and go back
// to P. One row tile: its four column tiles at once (tmm0-3), B tiles alternating in tmm6-7;
// two row tiles: two column tiles at a time (tmm0-3 a 2 x 2 block).
// tmm0-3 from zero (first) or from the C tiles at c[0 .. 3]; and back to them.
inline void c_tiles_load(bool first, int32_t *const (&c)[4], size_t stride) {
  if (first) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  } else {
    _tile_loadd(0, c[0], stride);
    _tile_loadd(1, c[1], stride);
    _tile_loadd(2, c[2], stride);
    _tile_loadd(3, c[3], stride);
  }
}
inline void c_tiles_store(int32_t *const (&c)[4], size_t stride) {
  _tile_stored(0, c[0], stride);
  _tile_stored(1, c[1], stride);
  _tile_stored(2, c[2], stride);
  _tile_stored(3, c[3], stride);
}

template <bool kAU8, bool kTwo>
void strip_product(size_t kb_count, bool first, const uint8_t *a, size_t lda, const int8_t *Bt, int32_t *P,
                   size_t ldp) {
  const size_t stride = ldp * sizeof(int32_t);
  if (!kTwo) {
    int32_t *const c[4] = {P, P + 16, P + 32, P + 48};
    c_tiles_load(first, c, stride);
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
    c_tiles_store(c, stride);
    return;
  }
  for (size_t jp = 0; jp < 4; jp += 2) {
    int32_t *const c[4] = {P + 16 * jp, P + 16 * jp + 16, P + 16 * ldp + 16 * jp, P + 16 * ldp + 16 * jp + 16};
    c_tiles_load(first, c, stride);
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
    c_tiles_store(c, stride);
  }
}
#undef LB_TDP

template <bool kAU8>
void kn(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, const uint8_t *B, size_t ldb, uint8_t flip,
        int32_t *P, size_t ldp, int32_t *S) {
  const size_t Mp = (M + 15) & ~size_t(15);
  lb_amx_configure(16, 64);
  kn_walk<kAU8>(M, N, K, B, ldb, flip, P, ldp, S, [&](const kn_unit &u, size_t kq_count, bool first, const int8_t *quads, int32_t *p) {
    size_t m = 0;
    for (; m + 32 <= Mp; m += 32) strip_product<kAU8, true>(kq_count / 16, first, a + m * lda + u.k0, lda, quads, p + m * ldp, ldp);
    if (m < Mp) strip_product<kAU8, false>(kq_count / 16, first, a + m * lda + u.k0, lda, quads, p + m * ldp, ldp);
  });
  _tile_release();
}

void gemv_kn_u8_amx(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                    size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S) {
  if (a_u8) kn<true>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
  else kn<false>(M, N, K, a, lda, B, ldb, flip, P, ldp, S);
}

}  // namespace

const lb_gemv_u8_kernels gemv_u8_amx = {gemv_kn_u8_avx512vnni, gemv_nk_u8_avx512vnni, gemv_kn_u8_amx, kGemvKnRowsAmx,
                                        16, 64};
