// The GEMM epilogue's loops (kernels.h, family "GEMM epilogue"), written once. Each file that
// includes this header after its own `#pragma GCC target` gets a copy that the compiler
// vectorizes for that target: the work is integer arithmetic modulo 2^32 and single IEEE
// roundings (int32 -> float, one product, one sum), so every copy gives the reference's bits.
// Before, the engine ran these loops as baseline SSE2 code (pmuludq pairs for each 32-bit
// product): 0.6-1.2 ns per output, a third of an AMX product's time at 1024^3.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "../kernels.h"

namespace {

void epi_to_s32(size_t n, const int32_t *__restrict c, const uint32_t *__restrict zb, uint32_t t,
                uint32_t za, const uint32_t *__restrict cs, int32_t *__restrict y) {
  if (zb)
    for (size_t j = 0; j < n; ++j) y[j] = (int32_t)((uint32_t)c[j] + zb[j] * t - za * cs[j]);
  else
    for (size_t j = 0; j < n; ++j) y[j] = (int32_t)((uint32_t)c[j] - za * cs[j]);
}

void epi_to_f32(size_t n, const int32_t *__restrict c, const uint32_t *__restrict zb, uint32_t t,
                uint32_t za, const uint32_t *__restrict cs, float as, const float *__restrict ws,
                bool ws_per_col, const float *__restrict bias, float *__restrict y) {
  // One loop per case, so that each is straight-line and vectorizes.
  if (ws_per_col && zb) {
    for (size_t j = 0; j < n; ++j)
      y[j] = (float)(int32_t)((uint32_t)c[j] + zb[j] * t - za * cs[j]) * (as * ws[j]);
  } else if (ws_per_col) {
    for (size_t j = 0; j < n; ++j) y[j] = (float)(int32_t)((uint32_t)c[j] - za * cs[j]) * (as * ws[j]);
  } else {
    const float s = as * ws[0];
    if (zb)
      for (size_t j = 0; j < n; ++j) y[j] = (float)(int32_t)((uint32_t)c[j] + zb[j] * t - za * cs[j]) * s;
    else
      for (size_t j = 0; j < n; ++j) y[j] = (float)(int32_t)((uint32_t)c[j] - za * cs[j]) * s;
  }
  if (bias)
    for (size_t j = 0; j < n; ++j) y[j] = y[j] + bias[j];
}

uint32_t epi_byte_sum(size_t n, const uint8_t *__restrict p, bool is_signed) {
  uint32_t sum = 0;
  if (is_signed)
    for (size_t k = 0; k < n; ++k) sum += (uint32_t)(int32_t)(int8_t)p[k];
  else
    for (size_t k = 0; k < n; ++k) sum += p[k];
  return sum;
}

}  // namespace

#define LB_DEFINE_EPILOGUE_KERNELS(name) \
  const lb_epilogue_kernels name = {epi_to_s32, epi_to_f32, epi_byte_sum};
