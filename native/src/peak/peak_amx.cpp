// Peak loop, AMX-INT8: tdpbusd on full tiles (16 x 16 int32 += 16 x 64 uint8 . 64 x 16 int8:
// 16384 multiply-adds per instruction). The tile state is granted by the OS on request;
// lb_cpu_features() makes that request, and the driver runs this kind only when it succeeded.
#pragma GCC target("amx-tile,amx-int8,avx512f")
#include <immintrin.h>
#include <string.h>

#include "../amx_tiles.h"
#include "peak.h"

namespace {

// 6 accumulator tiles (tmm0-5) on one A (tmm6) and one B (tmm7): tdpbusd issues about one per
// 16 cycles with a latency near 50, so 4 chains is the least that keeps it busy.
double dpbusd(uint64_t iters) {
  alignas(64) int8_t a[16 * 64], b[16 * 64];
  alignas(64) int32_t c[16 * 16];
  for (int i = 0; i < 16 * 64; ++i) {
    a[i] = (int8_t)(i * 7 + 1);
    b[i] = (int8_t)(i * 13 - 5);
  }
  // The tile intrinsics' asm names only the pointers, not the bytes behind them: make the
  // stores above happen before it.
  asm volatile("" ::: "memory");
  lb_amx_configure(16, 64);  // every tile 16 rows x 64 bytes
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_zero(4);
  _tile_zero(5);
  _tile_loadd(6, a, 64);
  _tile_loadd(7, b, 64);
  for (uint64_t n = 0; n < iters; ++n) {
    _tile_dpbusd(0, 6, 7);
    _tile_dpbusd(1, 6, 7);
    _tile_dpbusd(2, 6, 7);
    _tile_dpbusd(3, 6, 7);
    _tile_dpbusd(4, 6, 7);
    _tile_dpbusd(5, 6, 7);
  }
  double sum = 0;
  auto add = [&] {
    for (int32_t v : c) sum += v;
  };
  _tile_stored(0, c, 64);
  add();
  _tile_stored(1, c, 64);
  add();
  _tile_stored(2, c, 64);
  add();
  _tile_stored(3, c, 64);
  add();
  _tile_stored(4, c, 64);
  add();
  _tile_stored(5, c, 64);
  add();
  _tile_release();
  return sum;
}

}  // namespace

extern const lb_peak_kind lb_peak_amx_dpbusd = {"amx-tdpbusd", LB_CPU_AMX_INT8,
                                                6 * 16.0 * 16 * 64 * 2, dpbusd};
