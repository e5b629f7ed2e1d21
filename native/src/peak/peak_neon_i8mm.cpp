// Peak loop, AdvSIMD int8 matrix multiply (FEAT_I8MM): smmla, a 2 x 8 by 8 x 2 int8 product
// added into a 2 x 2 int32 tile, 32 multiply-adds per instruction.
#pragma GCC target("arch=armv8.2-a+i8mm")
#include <arm_neon.h>

#include "peak.h"

namespace {

// 16 chains: latency 3-4 at 1-4 per cycle.
double smmla(uint64_t iters) {
  const int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(-5);
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
#define STEP(i) "smmla %[c" #i "].4s, %[a].16b, %[b].16b\n\t"
  for (uint64_t n = 0; n < iters; ++n) {
    asm volatile(LB_PEAK_REP8(STEP) : LB_PEAK_OPS8("+w") : [a] "w"(a), [b] "w"(b));
    asm volatile(LB_PEAK_REP8_HI(STEP) : LB_PEAK_OPS8_HI("+w") : [a] "w"(a), [b] "w"(b));
  }
#undef STEP
  int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)),
                          vaddq_s32(vaddq_s32(c4, c5), vaddq_s32(c6, c7)));
  s = vaddq_s32(s, vaddq_s32(vaddq_s32(vaddq_s32(c8, c9), vaddq_s32(c10, c11)),
                             vaddq_s32(vaddq_s32(c12, c13), vaddq_s32(c14, c15))));
  return vaddvq_s32(s);
}

}  // namespace

extern const lb_peak_kind lb_peak_neon_smmla = {"neon-i8mm-smmla",
                                                LB_CPU_NEON | LB_CPU_NEON_I8MM, 16 * 32 * 2,
                                                smmla};
