// Peak loop, AdvSIMD int8 matrix multiply (FEAT_I8MM): smmla, a 2 x 8 by 8 x 2 int8 product
// added into a 2 x 2 int32 tile, 32 multiply-adds per instruction.
#pragma GCC target("arch=armv8.2-a+i8mm")
#include <arm_neon.h>

#include "peak.h"

namespace {

// 16 chains: latency 3-4 at 1-4 per cycle.
double smmla(uint64_t iters) {
  const int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(-5);
#define STEP(i) "smmla %[c" #i "].4s, %[a].16b, %[b].16b\n\t"
  LB_PEAK_NEON_S32_CHAINS(STEP, iters);
#undef STEP
}

}  // namespace

extern const lb_peak_kind lb_peak_neon_smmla = {"neon-i8mm-smmla",
                                                LB_CPU_NEON | LB_CPU_NEON_I8MM, 16 * 32 * 2,
                                                smmla};
