// Peak loops: one register-only multiply-add loop per instruction sequence ("kind"), the
// yardstick the bench divides a kernel's GOPS by. One file per ISA defines its kinds; the
// driver (peak.cpp) lists them, gates them on lb_cpu_features() and times them.
//
// Every loop body is one volatile asm block (or the tile intrinsics, themselves volatile asm)
// that names each accumulator as an in/out operand: GCC can neither drop, merge nor hoist the
// work, and the instruction sequence is exactly the one the kind's name says. Enough
// independent accumulator chains run side by side to cover each instruction's latency.
#pragma once
#include <stdint.h>

#include "lowbit.h"

struct lb_peak_kind {
  const char *name;      // ISA, then the instructions of one step of one chain
  uint64_t required;     // LB_CPU_* bits the CPU and OS must have
  double ops_per_iter;   // operations (2 per multiply-add) of one call of the body
  // Runs the body `iters` times; returns a value made from every accumulator, which the
  // driver consumes so that nothing is dead code.
  double (*run)(uint64_t iters);
};

#if defined(__x86_64__) || defined(_M_X64)
extern const lb_peak_kind lb_peak_avx2_fma;          // peak_avx2.cpp
extern const lb_peak_kind lb_peak_avx2_maddubs;      // peak_avx2.cpp
extern const lb_peak_kind lb_peak_avx2_sign_maddubs; // peak_avx2.cpp
extern const lb_peak_kind lb_peak_avx2_maddubs2;     // peak_avx2.cpp
extern const lb_peak_kind lb_peak_avxvnni_dpbusd;    // peak_avxvnni.cpp
extern const lb_peak_kind lb_peak_avx512_fma;        // peak_avx512.cpp
extern const lb_peak_kind lb_peak_avx512vnni_dpbusd; // peak_avx512.cpp
extern const lb_peak_kind lb_peak_amx_dpbusd;        // peak_amx.cpp
#elif defined(__aarch64__) || defined(_M_ARM64)
extern const lb_peak_kind lb_peak_neon_fmla;         // peak_neon.cpp
extern const lb_peak_kind lb_peak_neon_smlal;        // peak_neon.cpp
extern const lb_peak_kind lb_peak_neon_sdot;         // peak_neon_dotprod.cpp
extern const lb_peak_kind lb_peak_neon_smmla;        // peak_neon_i8mm.cpp
#endif

// Accumulator operands and per-chain asm text for N chains held in variables c0 .. c<N-1>:
// LB_PEAK_OPS8("+x") names them as in/out operands [c0] .. [c7]; LB_PEAK_REP8(STEP) pastes
// STEP(0) .. STEP(7), where STEP(i) is the asm text of one step of chain i.
#define LB_PEAK_OPS8(cons)                                                                 \
  [c0] cons(c0), [c1] cons(c1), [c2] cons(c2), [c3] cons(c3), [c4] cons(c4), [c5] cons(c5), \
      [c6] cons(c6), [c7] cons(c7)
#define LB_PEAK_OPS12(cons) \
  LB_PEAK_OPS8(cons), [c8] cons(c8), [c9] cons(c9), [c10] cons(c10), [c11] cons(c11)
// GCC allows 30 operands per asm and an in/out one counts twice: 16 chains take two blocks,
// LB_PEAK_OPS8 / LB_PEAK_REP8 for c0 .. c7, then LB_PEAK_OPS8_HI / LB_PEAK_REP8_HI for c8 .. c15.
#define LB_PEAK_OPS8_HI(cons)                                                                  \
  [c8] cons(c8), [c9] cons(c9), [c10] cons(c10), [c11] cons(c11), [c12] cons(c12),              \
      [c13] cons(c13), [c14] cons(c14), [c15] cons(c15)
#define LB_PEAK_REP8(STEP) STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)
#define LB_PEAK_REP12(STEP) LB_PEAK_REP8(STEP) STEP(8) STEP(9) STEP(10) STEP(11)
#define LB_PEAK_REP8_HI(STEP) \
  STEP(8) STEP(9) STEP(10) STEP(11) STEP(12) STEP(13) STEP(14) STEP(15)

#if defined(__aarch64__) || defined(_M_ARM64)
// The body of a NEON integer kind: 16 int32x4 chains c0 .. c15 from zero, `iters` rounds of
// STEP(i) on each with operands [a] and [b] (already declared), then the sum of every lane.
// Include arm_neon.h (after the file's target pragma) before using it.
#define LB_PEAK_NEON_S32_CHAINS(STEP, iters)                                                     \
  int32x4_t c0 = vdupq_n_s32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,  \
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;        \
  for (uint64_t n = 0; n < (iters); ++n) {                                                       \
    asm volatile(LB_PEAK_REP8(STEP) : LB_PEAK_OPS8("+w") : [a] "w"(a), [b] "w"(b));              \
    asm volatile(LB_PEAK_REP8_HI(STEP) : LB_PEAK_OPS8_HI("+w") : [a] "w"(a), [b] "w"(b));        \
  }                                                                                              \
  int32x4_t s = vaddq_s32(vaddq_s32(vaddq_s32(c0, c1), vaddq_s32(c2, c3)),                       \
                          vaddq_s32(vaddq_s32(c4, c5), vaddq_s32(c6, c7)));                      \
  s = vaddq_s32(s, vaddq_s32(vaddq_s32(vaddq_s32(c8, c9), vaddq_s32(c10, c11)),                  \
                             vaddq_s32(vaddq_s32(c12, c13), vaddq_s32(c14, c15))));              \
  return vaddvq_s32(s)
#endif
