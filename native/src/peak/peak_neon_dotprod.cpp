// Peak loop, AdvSIMD dot product (FEAT_DotProd): sdot, int8 x int8 with four products summed
// into each int32 lane, 16 multiply-adds per instruction.
#pragma GCC target("arch=armv8.2-a+dotprod")
#include <arm_neon.h>

#include "peak.h"

namespace {

// 16 chains: latency 2-3 at 2-4 per cycle.
double sdot(uint64_t iters) {
  const int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(-5);
#define STEP(i) "sdot %[c" #i "].4s, %[a].16b, %[b].16b\n\t"
  LB_PEAK_NEON_S32_CHAINS(STEP, iters);
#undef STEP
}

}  // namespace

extern const lb_peak_kind lb_peak_neon_sdot = {"neon-dotprod-sdot",
                                               LB_CPU_NEON | LB_CPU_NEON_DOTPROD, 16 * 16 * 2,
                                               sdot};
