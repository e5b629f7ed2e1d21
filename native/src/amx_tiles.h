// The AMX tile configuration (palette 1) that every AMX kernel loads, by the kernels' shared
// convention: tmm0-3 int32 C tiles (64 bytes wide), tmm4-5 A tiles, tmm6-7 B tiles. Include it
// after the file's target pragma.
#pragma once
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

namespace {

struct alignas(64) lb_tile_config {
  uint8_t palette_id, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// C and A tiles of `rows` rows (16, or a last strip's fewer), A tiles `a_bytes` wide (the k
// of one product: 64, or a group's fewer), B tiles a_bytes / 4 rows. Tile state is per thread:
// every kernel call (on any pool thread) loads it.
inline void lb_amx_configure(unsigned rows, unsigned a_bytes) {
  lb_tile_config c;
  memset(&c, 0, sizeof c);
  c.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = (uint8_t)(t >= 6 ? a_bytes / 4 : rows);
    c.colsb[t] = (uint16_t)(t == 4 || t == 5 ? a_bytes : 64);
  }
  // GCC's _tile_loadconfig tells the compiler it reads 8 bytes of the config, not 64: without
  // this barrier, inlined, the stores above may come after the ldtilecfg (a fault).
  __asm__ volatile("" ::: "memory");
  _tile_loadconfig(&c);
}

}  // namespace
