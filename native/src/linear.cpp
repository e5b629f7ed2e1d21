// lb_linear_f32 / lb_linear_q8: a quantized linear layer, float out (SPEC §4), on weights packed
// with their scales. Float activations are quantized per row (symmetric, scale = absmax / qmax)
// while the engine packs them, so no quantized copy of X is written; the sums are exact in
// int32 and the float steps run in one fixed order (-ffp-contract=off: no fused multiply-add),
// so the result is the same on every ISA, every thread count and the TS fallback.
//   RAW_I8 weights (8-bit, one group): the int8 engine and its epilogue (gemm_driver.h);
//   GROUPED weights: lb_ggemm_run, which combines the groups in the kernels' registers;
//   compute float32: the weights dequantized a block of columns at a time, then float32 GEMM.
#include <math.h>
#include <string.h>

#include <atomic>

#include "gemm_driver.h"
#include "matmul_integer_args.h"

namespace {

struct call {
  int bits = 8;
  lb_compute compute = LB_COMPUTE_INT8;
  size_t threads = 0;
};

bool read_opts(const lb_call_opts *o, call *c) {
  if (!o) return true;
  c->bits = o->activation_bits ? o->activation_bits : 8;
  c->compute = o->compute;
  c->threads = o->threads;
  return (c->bits == 8 || c->bits == 7) && (c->compute == LB_COMPUTE_INT8 || c->compute == LB_COMPUTE_FLOAT32) &&
         c->threads <= 1024;
}

// Row scale of x (K values), and whether it holds an infinity: absmax / qmax over the non-NaN
// values, 1 for an all-zero row or a scale below float32's range.
float row_scale(const lb_quant_kernels &qk, size_t K, const float *x, int32_t qmax, bool *infinite) {
  float mn = 0.0f, mx = 0.0f;
  if (K) qk.minmax(K, x, &mn, &mx);
  if (mn == -INFINITY || mx == INFINITY) *infinite = true;
  if (mn > mx) mn = mx = 0.0f;  // only NaN in the row
  const float amax = -mn > mx ? -mn : mx;
  const float sc = amax / (float)qmax;
  return sc > 0.0f ? sc : 1.0f;
}

// The int8 engine's epilogue for RAW_I8 weights: acc = (A' + alpha - za)(B' + beta - zb)^T
// expanded as in matmul_integer.cpp, modulo 2^32, then the fixed-order float steps (kernels.h,
// to_f32). za: the activations' zero point in A's shift, per row (za_row) or one for all.
// Without weight zero points (zb' = 0 for every column) a row of the block is one call; else
// 64-column strips share their zb'.
template <class ZaOf, class ScaleOf>
auto raw_epilogue(const lb_packed_weights &W, const lb_epilogue_kernels &ek, ZaOf za_of,
                  ScaleOf a_scale_of, const float *bias, float *Y, size_t ldy) {
  return [&W, &ek, za_of, a_scale_of, bias, Y, ldy](size_t m0, size_t mc, size_t n0, size_t nc,
                                                    const int32_t *C, size_t ldc,
                                                    const uint32_t *row_sum, const uint32_t *col_sum) {
    const bool has_zb = W.zp || W.beta;
    uint32_t zb[64];
    const size_t strip = has_zb ? 64 : nc;
    for (size_t j0 = 0; j0 < nc; j0 += strip) {
      const size_t jn = nc - j0 < strip ? nc - j0 : strip, n1 = n0 + j0;
      for (size_t j = 0; has_zb && j < jn; ++j) zb[j] = (uint32_t)((W.zp ? W.zp[n1 + j] : 0) - W.beta);
      for (size_t i = 0; i < mc; ++i) {
        const size_t m = m0 + i;
        const uint32_t za = za_of(m), t = (uint32_t)W.K * za - row_sum[i];
        ek.to_f32(jn, C + i * ldc + j0, has_zb ? zb : nullptr, t, za, col_sum + j0, a_scale_of(m),
                  W.scale + n1, true, bias ? bias + n1 : nullptr, Y + m * ldy + n1);
      }
    }
  };
}

// compute float32: Y = X * dequantize(W)^T + bias. Up to the kernel's wo_max_m rows, the
// weight-only kernel dequantizes in registers (X laid out in padded groups like A); beyond, a
// block of whole panels at a time is dequantized (a few MiB of floats) for the float32 GEMM of
// the ISA in use.
lb_status linear_float(size_t M, const float *X, size_t ldx, const lb_packed_weights &W,
                       const float *bias, float *Y, size_t ldy) {
  const lb_kernel_entry &e = *W.entry;
  if (e.kind == LB_KERNEL_GROUPED && e.weight_only && M <= e.wo_max_m) {
    const size_t groups = W.groups, Gp = W.Gp, lda = groups * Gp, nr = W.nr;
    lb_scratch x_buf(0, M * lda * sizeof(float));
    float *Xp = (float *)x_buf.get();
    if (!Xp) return LB_ERR_OUT_OF_MEMORY;
    for (size_t m = 0; m < M; ++m)
      for (size_t g = 0; g < groups; ++g) {
        const size_t k0 = g * W.G, len = W.K - k0 < W.G ? W.K - k0 : W.G;
        memcpy(Xp + m * lda + g * Gp, X + m * ldx + k0, len * sizeof(float));
        memset(Xp + m * lda + g * Gp + len, 0, (Gp - len) * sizeof(float));
      }
    const size_t panel_bytes = lda * e.bits / 8 * nr;
    return lb_panel_blocks(M, W, lda * sizeof(float), e.bits, bias, Y, ldy,
                           [&](size_t m0, size_t mc, size_t n, size_t cols, const float *b, float *y, size_t ld) {
      const size_t p = n / nr;
      e.weight_only(lb_wgemm_args{mc, cols, groups, Gp, Xp + m0 * lda, W.Up + p * panel_bytes,
                                  lb_panel_scale(W, p), lb_panel_scale16(W, p), W.p_zp + p * groups * nr,
                                  W.fmt->codebook, b, y, ld, W.zp_uniform});
    });
  }
  const size_t N = W.N, K = W.K, nr = W.nr;
  size_t nc = (size_t(4) << 20) / (K ? K * sizeof(float) : 1) / nr * nr;
  if (nc < nr) nc = nr;
  lb_scratch buf(2, nc * (K ? K : 1) * sizeof(float));
  float *Wf = (float *)buf.get();
  if (!Wf) return LB_ERR_OUT_OF_MEMORY;
  for (size_t n0 = 0; n0 < N; n0 += nc) {
    const size_t cols = N - n0 < nc ? N - n0 : nc, panels = (cols + nr - 1) / nr;
    lb_parallel(panels, [&](size_t p) {
      const size_t c0 = p * nr, c = cols - c0 < nr ? cols - c0 : nr;
      lb_packed_dequantize_panels(W, n0 + c0, c, Wf + c0 * K);
    });
    lb_active()->sgemm_nt(M, cols, K, X, ldx, Wf, K, Y + n0, ldy);
  }
  if (bias)
    for (size_t m = 0; m < M; ++m)
      for (size_t n = 0; n < N; ++n) Y[m * ldy + n] = Y[m * ldy + n] + bias[n];
  return LB_OK;
}

// Writes a row of int8 values (already quantized or shifted) into the grouped layout: groups
// of G values, each padded with zeros to Gp, and each group's sum.
inline void group_row(const lb_packed_weights &W, const int8_t *q, int8_t *dst, int32_t *sums) {
  const size_t G = W.G, Gp = W.Gp, K = W.K;
  for (size_t g = 0; g < W.groups; ++g) {
    const size_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
    int32_t s = 0;
    for (size_t k = 0; k < len; ++k) s += dst[g * Gp + k] = q[k0 + k];
    for (size_t k = len; k < Gp; ++k) dst[g * Gp + k] = 0;
    sums[g] = s;
  }
}

}  // namespace

extern "C" lb_status lb_linear_f32(size_t M, const float *X, size_t ldx, const lb_packed_weights *W,
                                   const float *bias, const lb_call_opts *opts, float *Y, size_t ldy) {
  call c;
  if (!W || !W->scale || !read_opts(opts, &c)) return LB_ERR_INVALID_ARGUMENT;
  const size_t N = W->N, K = W->K;
  if (ldx < K || ldy < N) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && !X)) return LB_ERR_INVALID_ARGUMENT;
  const bool grouped = W->entry->kind == LB_KERNEL_GROUPED;
  if (W->fmt->codebook && c.compute != LB_COMPUTE_FLOAT32) return LB_ERR_INVALID_ARGUMENT;
  lb_local_threads scope(c.threads);
  const lb_quant_kernels &qk = *lb_active()->quant;
  const int32_t qmax = c.bits == 8 ? 127 : 63;
  std::atomic<bool> infinite{false};

  if (c.compute == LB_COMPUTE_FLOAT32) {
    for (size_t m = 0; m < M; ++m)
      for (size_t k = 0; k < K; ++k)
        if (isinf(X[m * ldx + k])) return LB_ERR_INVALID_ARGUMENT;
    return linear_float(M, X, ldx, *W, bias, Y, ldy);
  }

  if (grouped) {
    auto pack_a = [&](size_t m, int8_t *dst, int32_t *sums) {
      const float *x = X + m * ldx;
      bool inf = false;
      const float s = row_scale(qk, K, x, qmax, &inf);
      if (inf) infinite.store(true, std::memory_order_relaxed);
      lb_scratch q_buf(5, K);
      int8_t *q = (int8_t *)q_buf.get();
      qk.quantize(K, x, s, 0, -qmax, qmax, (uint8_t *)q);
      group_row(*W, q, dst, sums);
      return s;
    };
    return lb_ggemm_run(M, *W, pack_a, nullptr, bias, Y, ldy, &infinite);
  }

  lb_scratch scale_buf(4, M * sizeof(float));
  float *a_scale = (float *)scale_buf.get();
  if (!a_scale) return LB_ERR_OUT_OF_MEMORY;
  const lb_epilogue_kernels &ek = *lb_active()->epilogue;
  const lb_gemm_plan plan = lb_gemm_choose(*W, c.bits == 7);
  // A kernel that takes uint8 gets q + 128 (q + 64 for 7-bit kernels): quantizing with that
  // zero point and a shifted clamp gives exactly the shifted values.
  const int32_t shift = plan.a_shift;
  auto pack_a = [&](size_t m, uint8_t *dst) {
    const float *x = X + m * ldx;
    bool inf = false;
    a_scale[m] = row_scale(qk, K, x, qmax, &inf);
    if (inf) infinite.store(true, std::memory_order_relaxed);
    qk.quantize(K, x, a_scale[m], shift, shift - qmax, shift + qmax, dst);
    return ek.byte_sum(K, dst, plan.a_signed);
  };
  const uint32_t za = (uint32_t)shift;
  auto epilogue = raw_epilogue(*W, ek, [za](size_t) { return za; },
                               [a_scale](size_t m) { return a_scale[m]; }, bias, Y, ldy);
  return lb_gemm_run(M, *W, plan, pack_a, epilogue, &infinite);
}

extern "C" lb_status lb_linear_q8(size_t M, const void *A, lb_dtype a_type, size_t lda,
                                  const float *a_scale, size_t a_scale_count, const void *a_zp,
                                  size_t a_zp_count, const lb_packed_weights *W, const float *bias,
                                  const lb_call_opts *opts, float *Y, size_t ldy) {
  call c;
  if (!W || !W->scale || !read_opts(opts, &c) || c.compute != LB_COMPUTE_INT8 || W->fmt->codebook)
    return LB_ERR_INVALID_ARGUMENT;
  const size_t N = W->N, K = W->K;
  if (!lb_is_8bit(a_type) || lda < K || ldy < N || (M && !a_scale) ||
      (M && a_scale_count != 1 && a_scale_count != M) || (a_zp && a_zp_count != 1 && a_zp_count != M))
    return LB_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < a_scale_count; ++i)
    if (!(a_scale[i] > 0.0f && a_scale[i] <= 3.4028235e38f)) return LB_ERR_INVALID_ARGUMENT;
  if (M == 0 || N == 0) return LB_OK;
  if (!Y || (K > 0 && !A)) return LB_ERR_INVALID_ARGUMENT;
  lb_local_threads scope(c.threads);
  const bool is_signed = a_type == LB_INT8;
  auto zp_of = [&](size_t m) -> int32_t {
    if (!a_zp) return 0;
    const size_t i = a_zp_count == 1 ? 0 : m;
    return is_signed ? ((const int8_t *)a_zp)[i] : ((const uint8_t *)a_zp)[i];
  };
  auto scale_of = [=](size_t m) { return a_scale[a_scale_count == 1 ? 0 : m]; };

  if (W->entry->kind == LB_KERNEL_GROUPED) {
    // The kernels take int8 activations: uint8 values and zero points are shifted by -128.
    const int32_t shift = is_signed ? 0 : -128;
    lb_scratch zp_buf(6, M * sizeof(int32_t));
    int32_t *za = (int32_t *)zp_buf.get();
    if (!za) return LB_ERR_OUT_OF_MEMORY;
    bool any_zp = false;
    for (size_t m = 0; m < M; ++m) any_zp |= (za[m] = zp_of(m) + shift) != 0;
    auto pack_a = [&](size_t m, int8_t *dst, int32_t *sums) {
      lb_scratch q_buf(5, K);
      int8_t *q = (int8_t *)q_buf.get();
      const uint8_t *src = (const uint8_t *)A + m * lda;
      for (size_t k = 0; k < K; ++k) q[k] = (int8_t)(is_signed ? src[k] : src[k] ^ 0x80);
      group_row(*W, q, dst, sums);
      return scale_of(m);
    };
    return lb_ggemm_run(M, *W, pack_a, any_zp ? za : nullptr, bias, Y, ldy);
  }

  // RAW_I8: A' as the kernel takes it (A shifted by alpha): any 8-bit A, so the general kernel,
  // or on AVX2 the sign-trick one when B' avoids -128.
  const lb_epilogue_kernels &ek = *lb_active()->epilogue;
  const lb_gemm_plan plan = lb_gemm_choose(*W, false);
  const int alpha = is_signed == plan.a_signed ? 0 : plan.a_signed ? 128 : -128;  // value = A' + alpha
  const uint8_t flip = alpha ? 0x80 : 0;
  auto pack_a = [&](size_t m, uint8_t *dst) {
    const uint8_t *src = (const uint8_t *)A + m * lda;
    for (size_t k = 0; k < K; ++k) dst[k] = src[k] ^ flip;
    return ek.byte_sum(K, dst, plan.a_signed);
  };
  auto epilogue = raw_epilogue(*W, ek, [&](size_t m) { return (uint32_t)(zp_of(m) - alpha); },
                               scale_of, bias, Y, ldy);
  return lb_gemm_run(M, *W, plan, pack_a, epilogue);
}
