// Peak loops, plain AdvSIMD (baseline AArch64, no target pragma needed): fmla on float32x4,
// and smlal / smlal2 on int16 halves into int32x4, the step of the NEON uint8 x int8 GEMM
// (gemm_neon.cpp widens both operands to int16, then multiplies into int32).
#include <arm_neon.h>

#include "peak.h"

namespace {

// 16 chains: latency 3-4 at 2-4 per cycle (Cortex-A76 .. Neoverse V2, Apple) needs 8-16.
// c += 1e-7 * 1 stays far from overflow and denormals.
double fmla(uint64_t iters) {
  const float32x4_t a = vdupq_n_f32(1e-7f), b = vdupq_n_f32(1.0f);
  float32x4_t c0 = vdupq_n_f32(1.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
              c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0,
              c15 = c0;
#define STEP(i) "fmla %[c" #i "].4s, %[a].4s, %[b].4s\n\t"
  for (uint64_t n = 0; n < iters; ++n) {
    asm volatile(LB_PEAK_REP8(STEP) : LB_PEAK_OPS8("+w") : [a] "w"(a), [b] "w"(b));
    asm volatile(LB_PEAK_REP8_HI(STEP) : LB_PEAK_OPS8_HI("+w") : [a] "w"(a), [b] "w"(b));
  }
#undef STEP
  float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(c0, c1), vaddq_f32(c2, c3)),
                            vaddq_f32(vaddq_f32(c4, c5), vaddq_f32(c6, c7)));
  s = vaddq_f32(s, vaddq_f32(vaddq_f32(vaddq_f32(c8, c9), vaddq_f32(c10, c11)),
                             vaddq_f32(vaddq_f32(c12, c13), vaddq_f32(c14, c15))));
  return vaddvq_f32(s);
}

// 16 chains, each taking an smlal (low four int16 lanes) and an smlal2 (high four) per step,
// as the GEMM issues them: 8 multiply-adds per chain step.
double smlal(uint64_t iters) {
  const int16x8_t a = vdupq_n_s16(200), b = vdupq_n_s16(-100);
#define STEP(i)                               \
  "smlal %[c" #i "].4s, %[a].4h, %[b].4h\n\t" \
  "smlal2 %[c" #i "].4s, %[a].8h, %[b].8h\n\t"
  LB_PEAK_NEON_S32_CHAINS(STEP, iters);
#undef STEP
}

}  // namespace

extern const lb_peak_kind lb_peak_neon_fmla = {"neon-fmla", LB_CPU_NEON, 16 * 4 * 2, fmla};
extern const lb_peak_kind lb_peak_neon_smlal = {"neon-smlal", LB_CPU_NEON, 16 * 2 * 4 * 2, smlal};
