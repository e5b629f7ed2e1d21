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

// Tile instructions with the tile numbers as template arguments (GCC's _tile_* macros paste
// their argument's spelling into the register name, so they take only literal numbers). These
// name memory (a "memory" clobber), unlike GCC's, so stores before a load stay before it.
template <int T>
inline void lb_tile_load(const void *p, size_t stride) {
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(p), "r"((long)stride), "i"(T) : "memory");
}
template <int T>
inline void lb_tile_store(void *p, size_t stride) {
  __asm__ volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(p), "r"((long)stride), "i"(T) : "memory");
}
template <int T>
inline void lb_tile_zero() {
  __asm__ volatile("tilezero %%tmm%c0" ::"i"(T));
}
// C += A x B with A's bytes unsigned when kAU8, B's when kBU8.
template <bool kAU8, bool kBU8, int C, int A, int B>
inline void lb_tile_dp() {
  if constexpr (kAU8 && kBU8) __asm__ volatile("tdpbuud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
  else if constexpr (kAU8) __asm__ volatile("tdpbusd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
  else if constexpr (kBU8) __asm__ volatile("tdpbsud %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
  else __asm__ volatile("tdpbssd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(C), "i"(A), "i"(B));
}

}  // namespace
