// Scalar reference of the quantize / dequantize family (kernels.h). Kept scalar.
#pragma GCC optimize("no-tree-vectorize")
#include <math.h>

#include "../kernels.h"

namespace {

// Round half to even without relying on the FP rounding mode; v - floorf(v) is exact.
inline float round_half_even(float v) {
  float f = floorf(v), d = v - f;
  if (d > 0.5f) return f + 1.0f;
  if (d < 0.5f) return f;
  return fmodf(f, 2.0f) == 0.0f ? f : f + 1.0f;
}

// clamp in float first (to [qmin - zp, qmax - zp], exact integers), so no conversion overflows.
inline uint8_t quantize_one(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = x / scale;
  if (v != v) return (uint8_t)zp;
  float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
  v = v < lo ? lo : v > hi ? hi : v;
  return (uint8_t)((int32_t)round_half_even(v) + zp);
}

inline int32_t load_q(const uint8_t *q, size_t i, bool q_signed) {
  return q_signed ? (int32_t)(int8_t)q[i] : (int32_t)q[i];
}

void quantize(size_t n, const float *x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
              uint8_t *q) {
  for (size_t i = 0; i < n; ++i) q[i] = quantize_one(x[i], scale, zp, qmin, qmax);
}

void quantize_vec(size_t n, const float *x, const float *scale, const int32_t *zp, int32_t qmin,
                  int32_t qmax, uint8_t *q) {
  for (size_t i = 0; i < n; ++i) q[i] = quantize_one(x[i], scale[i], zp[i], qmin, qmax);
}

void dequantize(size_t n, const uint8_t *q, bool q_signed, float scale, int32_t zp, float *x) {
  for (size_t i = 0; i < n; ++i) x[i] = (float)(load_q(q, i, q_signed) - zp) * scale;
}

void dequantize_vec(size_t n, const uint8_t *q, bool q_signed, const float *scale,
                    const int32_t *zp, float *x) {
  for (size_t i = 0; i < n; ++i) x[i] = (float)(load_q(q, i, q_signed) - zp[i]) * scale[i];
}

// Blocks: element i uses scale[i / block] and zp[i / block]; the last block may be short.
void quantize_blocks(size_t n, const float *x, size_t block, const float *scale,
                     const int32_t *zp, int32_t qmin, int32_t qmax, uint8_t *q) {
  for (size_t i = 0, b = 0; i < n; ++b)
    for (size_t end = n - i < block ? n : i + block; i < end; ++i)
      q[i] = quantize_one(x[i], scale[b], zp[b], qmin, qmax);
}

void dequantize_blocks(size_t n, const uint8_t *q, bool q_signed, size_t block,
                       const float *scale, const int32_t *zp, float *x) {
  for (size_t i = 0, b = 0; i < n; ++b)
    for (size_t end = n - i < block ? n : i + block; i < end; ++i)
      x[i] = (float)(load_q(q, i, q_signed) - zp[b]) * scale[b];
}

void minmax(size_t n, const float *x, float *mn, float *mx) {
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    if (x[i] < lo) lo = x[i];  // NaN compares false: skipped
    if (x[i] > hi) hi = x[i];
  }
  if (lo == 0.0f) lo = 0.0f;  // a zero result is +0, not the sign of whichever zero came first
  if (hi == 0.0f) hi = 0.0f;
  *mn = lo;
  *mx = hi;
}

}  // namespace

const lb_quant_kernels quant_ref = {quantize,        quantize_vec,      dequantize, dequantize_vec,
                                    quantize_blocks, dequantize_blocks, minmax};
