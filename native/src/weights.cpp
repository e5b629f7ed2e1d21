// lb_prepack: the weights descriptor -> packed weights that own their format, kernel, scales
// and zero points (gemm_driver.h, lb_packed_weights). 8-bit weights with one group of K keep
// the raw int8 layout; every other format packs into the grouped kernels' panels.
#include <math.h>
#include <string.h>

#include <atomic>
#include <new>

#include "gemm_driver.h"

namespace {

bool finite_positive(float s, bool zero_ok) { return (zero_ok ? s >= 0.0f : s > 0.0f) && s <= 3.4028235e38f; }

float scale_at(const lb_weights_desc &d, size_t i) {
  return d.scale_dtype == LB_SCALE_F16 ? lb_f16_to_f32(((const uint16_t *)d.scale)[i])
                                       : ((const float *)d.scale)[i];
}

// Everything but the data: layout, counts, scales, zero points.
lb_status check(const lb_weights_desc &d, const lb_format &f, size_t groups) {
  const size_t N = d.N, K = d.K;
  if (d.layout != LB_LAYOUT_NK && !(d.layout == LB_LAYOUT_KN && f.bits == 8)) return LB_ERR_INVALID_ARGUMENT;
  if (f.bits == 8 ? d.ld < (d.layout == LB_LAYOUT_NK ? K : N) : d.ld != 0 && d.ld < lb_row_bytes(f, K))
    return LB_ERR_INVALID_ARGUMENT;
  if (N && K && !d.data) return LB_ERR_INVALID_ARGUMENT;
  if (d.scale_dtype != LB_SCALE_F32 && d.scale_dtype != LB_SCALE_F16) return LB_ERR_INVALID_ARGUMENT;
  size_t want;
  if (!d.scale) {  // integer-only: 8-bit, one group, zero points per tensor or per row
    if (f.bits != 8 || d.group) return LB_ERR_INVALID_ARGUMENT;
    if (d.zero_point && d.scale_count != 1 && d.scale_count != N) return LB_ERR_INVALID_ARGUMENT;
  } else {
    // Blocked: N x groups (none when K = 0); one group of K: N.
    if (__builtin_mul_overflow(N, d.group ? groups : 1, &want)) return LB_ERR_SIZE_OVERFLOW;
    const bool per_tensor = d.scale_count == 1 && f.bits == 8 && d.group == 0;
    if (d.scale_count != want && !per_tensor) return LB_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < d.scale_count; ++i)
      if (!finite_positive(scale_at(d, i), f.codebook != nullptr)) return LB_ERR_INVALID_ARGUMENT;
  }
  if (d.zero_point) {
    if (f.codebook) return LB_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < d.scale_count; ++i)
      if (d.zero_point[i] < f.qmin || d.zero_point[i] > f.qmax) return LB_ERR_INVALID_ARGUMENT;
  }
  return LB_OK;
}

void release(lb_packed_weights *w) {
  lb_release_raw(w);
  lb_aligned_free(w->scale);
  lb_aligned_free(w->zp);
  lb_aligned_free(w->Up);
  lb_aligned_free(w->p_scale);
  lb_aligned_free(w->p_scale16);
  lb_aligned_free(w->p_zp);
  lb_aligned_free(w->p_qsum);
}

// Scales and zero points per (row, group), expanded from per tensor / per channel.
lb_status own_numerics(const lb_weights_desc &d, lb_packed_weights *w) {
  const size_t n = w->N * (w->groups ? w->groups : 1), count = d.scale_count;
  if (d.scale) {
    if (!(w->scale = (float *)lb_aligned_alloc((n ? n : 1) * sizeof(float)))) return LB_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; ++i) w->scale[i] = count == 0 ? 1.0f : scale_at(d, count == 1 ? 0 : i);
  }
  if (d.zero_point) {
    const size_t nz = d.scale ? n : w->N;
    if (!(w->zp = (int32_t *)lb_aligned_alloc((nz ? nz : 1) * sizeof(int32_t)))) return LB_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < nz; ++i) w->zp[i] = count == 0 ? 0 : d.zero_point[count == 1 ? 0 : i];
  }
  return LB_OK;
}

// The whole bytes of a byte-aligned packed row: `bytes` bytes -> bytes * 8 / BITS values, each
// (field ^ flip). A template so the compiler unrolls and vectorizes the fields.
template <int BITS>
void unpack_bytes(const uint8_t *__restrict p, size_t bytes, uint8_t flip, uint8_t *__restrict u) {
  constexpr unsigned kPer = 8 / BITS, kMask = (1u << BITS) - 1;
  for (size_t b = 0; b < bytes; ++b)
    for (unsigned t = 0; t < kPer; ++t) u[b * kPer + t] = (uint8_t)(((p[b] >> (t * BITS)) & kMask) ^ flip);
}

// Full chunks of one column's group (len a multiple of kr): chunk c's word holds, at bits
// t * BITS of byte i, the value k = c kr + 4 t + i.
template <int BITS>
void chunk_words(const uint8_t *__restrict row, size_t chunks, size_t stride, uint8_t *__restrict out) {
  constexpr unsigned kPer = 8 / BITS, kr = 32 / BITS;
  for (size_t c = 0; c < chunks; ++c, row += kr, out += stride)
    for (unsigned i = 0; i < 4; ++i) {
      unsigned byte = 0;
      for (unsigned t = 0; t < kPer; ++t) byte |= (unsigned)row[4 * t + i] << (t * BITS);
      out[i] = (uint8_t)byte;
    }
}

// Row n of the caller's sub-byte or 8-bit (NK) data as U = q - qmin, K bytes.
void unpack_row_u(const lb_weights_desc &d, const lb_format &f, size_t n, uint8_t *u) {
  const size_t K = d.K;
  const uint8_t flip = f.is_signed ? (uint8_t)(1u << (f.bits - 1)) : 0;  // q - qmin, bitwise
  if (f.bits == 8) {
    const uint8_t *src = (const uint8_t *)d.data + n * d.ld;
    for (size_t k = 0; k < K; ++k) u[k] = src[k] ^ flip;
    return;
  }
  const size_t bit0 = d.ld ? n * d.ld * 8 : n * K * f.bits;
  const uint8_t *p = (const uint8_t *)d.data + bit0 / 8;
  const unsigned mask = (1u << f.bits) - 1;
  if (bit0 % 8 == 0) {  // the row starts on a byte: whole bytes, then the tail
    const size_t full = K / f.per_byte;
    if (f.bits == 4)
      unpack_bytes<4>(p, full, flip, u);
    else
      unpack_bytes<2>(p, full, flip, u);
    for (size_t k = full * f.per_byte; k < K; ++k)
      u[k] = (uint8_t)(((p[k / f.per_byte] >> ((k % f.per_byte) * f.bits)) & mask) ^ flip);
    return;
  }
  for (size_t k = 0; k < K; ++k) {
    const size_t bit = bit0 % 8 + k * f.bits;
    u[k] = (uint8_t)(((p[bit / 8] >> (bit % 8)) & mask) ^ flip);
  }
}

// The GROUPED layout (kernels.h): panels of the kernel's width, groups padded to Gp.
lb_status pack_grouped(const lb_weights_desc &d, const lb_format &f, lb_packed_weights *w) {
  const lb_kernel_entry &e = *w->entry;
  const size_t N = w->N, K = w->K, G = w->G, groups = w->groups, nr = e.panel, kr = e.kr;
  const unsigned bits = e.bits, per = 8 / bits;
  w->nr = nr;
  w->Gp = lb_round_up(G ? G : 1, kr);
  w->panels = (N + nr - 1) / nr;
  const size_t chunks = w->Gp / kr, panel_bytes = groups * chunks * nr * 4, pg = w->panels * groups * nr;
  size_t bytes;
  if (__builtin_mul_overflow(w->panels, panel_bytes, &bytes)) return LB_ERR_SIZE_OVERFLOW;
  w->Up = (uint8_t *)lb_aligned_alloc(bytes ? bytes : 64);
  const bool f16 = d.scale && d.scale_dtype == LB_SCALE_F16;
  if (f16) w->p_scale16 = (uint16_t *)lb_aligned_alloc((pg ? pg : 1) * sizeof(uint16_t));
  else w->p_scale = (float *)lb_aligned_alloc((pg ? pg : 1) * sizeof(float));
  w->p_zp = (int32_t *)lb_aligned_alloc((pg ? pg : 1) * sizeof(int32_t));
  w->p_qsum = (int32_t *)lb_aligned_alloc((pg ? pg : 1) * sizeof(int32_t));
  if (!w->Up || !(w->p_scale || w->p_scale16) || !w->p_zp || !w->p_qsum) return LB_ERR_OUT_OF_MEMORY;
  std::atomic<bool> ok{true};
  lb_parallel(w->panels, [&](size_t p) {
    uint8_t *rows = (uint8_t *)lb_aligned_alloc(nr * (K ? K : 1));  // the panel's U, row by row
    if (!rows) return ok.store(false);
    memset(rows, 0, nr * (K ? K : 1));
    for (size_t j = 0; j < nr && p * nr + j < N; ++j) unpack_row_u(d, f, p * nr + j, rows + j * K);
    uint8_t *out = w->Up + p * panel_bytes;
    for (size_t g = 0; g < groups; ++g) {
      const size_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
      for (size_t j = 0; j < nr; ++j) {
        const size_t n = p * nr + j, at = (p * groups + g) * nr + j;
        const bool real = n < N;
        const int32_t zpe = real ? (w->zp ? w->zp[n * groups + g] : 0) - f.qmin : 0;
        int32_t qsum = 0;
        for (size_t k = 0; real && k < len; ++k) qsum += (int32_t)rows[j * K + k0 + k] - zpe;
        if (f16) w->p_scale16[at] = real ? ((const uint16_t *)d.scale)[n * groups + g] : 0;
        else w->p_scale[at] = real ? w->scale[n * groups + g] : 0.0f;
        w->p_zp[at] = f.codebook ? 0 : zpe;
        w->p_qsum[at] = qsum;
      }
      // Byte 4 j + i of chunk c holds k = c kr + 4 t + i at bits t * bits (kernels.h): the
      // full chunks column by column (their words nr * 4 bytes apart), then a padded last one.
      const size_t full = len / kr, stride = nr * 4;
      for (size_t j = 0; j < nr; ++j) {
        const uint8_t *row = rows + j * K + k0;
        uint8_t *o = out + 4 * j;
        if (bits == 8) chunk_words<8>(row, full, stride, o);
        else if (bits == 4) chunk_words<4>(row, full, stride, o);
        else chunk_words<2>(row, full, stride, o);
        for (size_t c = full; c < chunks; ++c)
          for (unsigned i = 0; i < 4; ++i) {
            unsigned byte = 0;
            for (unsigned t = 0; t < per; ++t)
              if (c * kr + 4 * t + i < len) byte |= (unsigned)row[c * kr + 4 * t + i] << (t * bits);
            o[c * stride + i] = (uint8_t)byte;
          }
      }
      out += chunks * stride;
    }
    lb_aligned_free(rows);
  });
  if (!ok.load()) return LB_ERR_OUT_OF_MEMORY;
  // One zero point for all real columns (symmetric weights): padding columns take it too (their
  // outputs are never read), so kernels can correct with one broadcast per row.
  bool uniform = true;
  int32_t z0 = 0;
  for (size_t p = 0, first = 1; p < w->panels && uniform; ++p)
    for (size_t g = 0; g < groups; ++g)
      for (size_t j = 0; j < nr && p * nr + j < N; ++j) {
        const int32_t z = w->p_zp[(p * groups + g) * nr + j];
        if (first) z0 = z, first = 0;
        uniform = uniform && z == z0;
      }
  if (uniform)
    for (size_t i = 0; i < pg; ++i) w->p_zp[i] = z0;
  w->zp_uniform = uniform;
  return LB_OK;
}

}  // namespace

extern "C" lb_status lb_prepack(const lb_weights_desc *desc, lb_packed_weights **out) {
  if (!out) return LB_ERR_INVALID_ARGUMENT;
  *out = nullptr;
  if (!desc) return LB_ERR_INVALID_ARGUMENT;
  const lb_weights_desc &d = *desc;
  const lb_format *f = lb_format_of(d.dtype);
  if (!f) return LB_ERR_INVALID_ARGUMENT;
  const size_t G = d.group && d.group < d.K ? d.group : d.K;
  const size_t groups = d.K == 0 ? 0 : (d.K + G - 1) / G;
  lb_status st = check(d, *f, groups);
  if (st != LB_OK) return st;

  lb_packed_weights *w = new (std::nothrow) lb_packed_weights{};
  if (!w) return LB_ERR_OUT_OF_MEMORY;
  w->fmt = f;
  w->N = d.N;
  w->K = d.K;
  w->G = G;
  w->groups = groups;
  w->type = d.dtype;
  const int isa = lb_active_index();
  const bool raw = f->bits == 8 && groups <= 1;
  w->entry = lb_select_kernel(raw ? LB_KERNEL_RAW_I8 : LB_KERNEL_GROUPED, d.dtype, isa);
  if (!w->entry) st = LB_ERR_INVALID_ARGUMENT;
  if (st == LB_OK) st = own_numerics(d, w);
  w->nr = w->entry ? w->entry->panel : 1;
  if (st == LB_OK)
    st = raw ? lb_pack_raw(*w->entry->raw, d.data, d.dtype, d.layout, d.ld, d.N, d.K, w)
             : pack_grouped(d, *f, w);
  if (st != LB_OK) {
    release(w);
    delete w;
    return st;
  }
  *out = w;
  return LB_OK;
}

extern "C" void lb_packed_free(lb_packed_weights *w) {
  if (!w) return;
  release(w);
  delete w;
}

extern "C" size_t lb_packed_rows(const lb_packed_weights *w) { return w ? w->N : 0; }
extern "C" size_t lb_packed_cols(const lb_packed_weights *w) { return w ? w->K : 0; }
extern "C" lb_dtype lb_packed_dtype(const lb_packed_weights *w) { return w ? w->fmt->dtype : (lb_dtype)0; }
extern "C" const char *lb_packed_kernel(const lb_packed_weights *w) { return w ? w->entry->name : nullptr; }

extern "C" size_t lb_packed_bytes(const lb_packed_weights *w) {
  if (!w) return 0;
  const size_t ng = w->N * (w->groups ? w->groups : 1);
  size_t b = (w->scale ? ng * 4 : 0) + (w->zp ? ng * 4 : 0);
  if (w->entry->kind == LB_KERNEL_RAW_I8) return b + w->Np * w->Kp + w->N * 4;
  const size_t pg = w->panels * w->groups * w->nr;
  // U, then per (panel, group, column) the scale (2 or 4 bytes), zero point and sum
  return b + w->panels * w->groups * w->Gp * w->entry->bits / 8 * w->nr + pg * (w->p_scale16 ? 10 : 12);
}

float lb_packed_dequantize(const lb_packed_weights &w, size_t n, size_t k) {
  if (w.entry->kind == LB_KERNEL_RAW_I8) {  // B' rows, or the VNNI layout of lb_pack_b_vnni16
    const size_t i = lb_is_vnni16_layout(w.kern->pack_b)
                         ? (n / 16) * 16 * w.Kp + (k / 4) * 64 + (n % 16) * 4 + k % 4
                         : n * w.Kp + k;
    const int q = w.Bp[i] + w.beta;
    return (float)(q - (w.zp ? w.zp[n] : 0)) * w.scale[n];
  }
  const size_t g = k / w.G, kl = k % w.G, p = n / w.nr, j = n % w.nr, kr = w.entry->kr;
  const unsigned bits = w.entry->bits;
  const size_t chunks = w.Gp / kr, c = kl / kr, t = (kl % kr) / 4, i = kl % 4;
  const uint8_t byte = w.Up[((p * w.groups + g) * chunks + c) * w.nr * 4 + 4 * j + i];
  const int u = (byte >> (t * bits)) & ((1 << bits) - 1);
  const size_t at = (p * w.groups + g) * w.nr + j;
  if (w.fmt->codebook) return w.fmt->codebook[u] * lb_packed_scale(w, at);
  return (float)(u - w.p_zp[at]) * lb_packed_scale(w, at);
}

void lb_packed_dequantize_panels(const lb_packed_weights &w, size_t n0, size_t nc, float *out) {
  if (w.entry->kind == LB_KERNEL_RAW_I8) {
    for (size_t n = 0; n < nc; ++n)
      for (size_t k = 0; k < w.K; ++k) out[n * w.K + k] = lb_packed_dequantize(w, n0 + n, k);
    return;
  }
  // The packed bytes in order: chunk c of group g, column j, byte i holds k = c kr + 4 t + i.
  const unsigned bits = w.entry->bits, per = 8 / bits, mask = (1u << bits) - 1;
  const size_t nr = w.nr, kr = w.entry->kr, chunks = w.Gp / kr, K = w.K, G = w.G, p0 = n0 / nr;
  const float *book = w.fmt->codebook;
  for (size_t p = p0; p * nr < n0 + nc; ++p)
    for (size_t g = 0; g < w.groups; ++g) {
      const size_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
      const uint8_t *src = w.Up + ((p * w.groups + g) * chunks) * nr * 4;
      for (size_t j = 0; j < nr; ++j) {
        const size_t n = p * nr + j;
        if (n < n0 || n >= n0 + nc) continue;
        const size_t at = (p * w.groups + g) * nr + j;
        const float s = lb_packed_scale(w, at);
        const int zp = w.p_zp[at];
        float *dst = out + (n - n0) * K + k0;
        for (size_t c = 0; c < chunks; ++c)
          for (unsigned i = 0; i < 4; ++i) {
            const unsigned byte = src[(c * nr + j) * 4 + i];
            for (unsigned t = 0; t < per; ++t) {
              const size_t k = c * kr + 4 * t + i;
              if (k >= len) continue;
              const int u = (int)((byte >> (t * bits)) & mask);
              dst[k] = book ? book[u] * s : (float)(u - zp) * s;
            }
          }
      }
    }
}
