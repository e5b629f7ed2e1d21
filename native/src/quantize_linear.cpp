// lb_quantize_linear / lb_dequantize_linear: walks the tensor in runs that share a scale (or
// have one scale per element along the contiguous axis, or run through consecutive blocks along
// it) and hands them to the dispatched quant kernels; packs and unpacks sub-byte dtypes.
#include <math.h>
#include <string.h>

#include "formats.h"
#include "kernels.h"
#include "thread_pool.h"

namespace {

struct qtype {
  int32_t min, max;
  int bits;
  bool is_signed;
};

// The integer dtypes of the format table (nf4 is a code book, not quantize's business).
bool qtype_of(lb_dtype t, qtype *q) {
  const lb_format *f = lb_format_of(t);
  if (!f || f->codebook) return false;
  *q = {f->qmin, f->qmax, f->bits, f->is_signed};
  return true;
}

bool total_of(const lb_qlayout &l, size_t *n) {
  size_t t;
  return !__builtin_mul_overflow(l.outer, l.axis_len, &t) && !__builtin_mul_overflow(t, l.inner, n);
}

size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0); }

// Everything but the data: layout vs scale count, scales finite and > 0, zero points in range.
lb_status check(const lb_qlayout &l, const float *scale, const int32_t *zp, size_t n_scales,
                lb_dtype dtype, qtype *qt, size_t *total) {
  if (!qtype_of(dtype, qt) || !total_of(l, total) || (!scale && n_scales)) return LB_ERR_INVALID_ARGUMENT;
  size_t expected;
  if (l.block == 0) {
    if (n_scales != 1 && n_scales != l.axis_len) return LB_ERR_INVALID_ARGUMENT;
  } else if (__builtin_mul_overflow(l.outer, ceil_div(l.axis_len, l.block), &expected) ||
             __builtin_mul_overflow(expected, l.inner, &expected) || n_scales != expected) {
    return LB_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n_scales; ++i) {
    if (!(scale[i] > 0.0f && scale[i] <= 3.4028235e38f)) return LB_ERR_INVALID_ARGUMENT;
    if (zp && (zp[i] < qt->min || zp[i] > qt->max)) return LB_ERR_INVALID_ARGUMENT;
  }
  if (qt->bits < 8 && l.row_len && *total % l.row_len) return LB_ERR_INVALID_ARGUMENT;
  return LB_OK;
}

// Calls one(first, count, scale_index) for runs sharing a scale and vec(first, count,
// scale_index) for runs with one scale per element (scales scale_index .. + count), covering
// exactly the elements [lo, hi): runs that straddle an edge are cut there. (The drivers take
// blocks along the contiguous axis through for_each_block_part instead, many blocks a call.)
template <class One, class Vec>
void for_each_run(const lb_qlayout &l, size_t n_scales, size_t lo, size_t hi, One one, Vec vec) {
  const size_t A = l.axis_len, I = l.inner;
  if (l.block == 0 && n_scales == 1) {
    if (hi > lo) one(lo, hi - lo, 0);
    return;
  }
  const size_t nb = l.block ? ceil_div(A, l.block) : 0;
  for (size_t e = lo; e < hi;) {
    // The run holding element e: its end, and the scale index of element e.
    size_t end, s;
    bool shared;
    if (I == 1) {  // the axis is contiguous: per axis, one vec run per row; blocked, one run per block
      const size_t o = e / A, d = e % A;
      if (l.block == 0) {
        end = (o + 1) * A, s = d, shared = false;
      } else {
        const size_t b = d / l.block;
        end = o * A + (A < (b + 1) * l.block ? A : (b + 1) * l.block), s = o * nb + b, shared = true;
      }
    } else {  // runs of `inner` elements at fixed (o, d)
      const size_t od = e / I, j = e % I, o = od / A, d = od % A;
      end = (od + 1) * I;
      if (l.block == 0) s = d, shared = true;
      else s = (o * nb + d / l.block) * I + j, shared = false;
    }
    if (end > hi) end = hi;
    shared ? one(e, end - e, s) : vec(e, end - e, s);
    e = end;
  }
}

// Zero points for blocked calls given none (no tensor-sized array of zeros to fill and read).
constexpr size_t kZeroBlocks = 1024;
alignas(64) const int32_t kZeros[kZeroBlocks] = {};

bool blocked_rows(const lb_qlayout &l) { return l.block != 0 && l.inner == 1; }

// Blocks along the contiguous axis (blocked_rows): for each part of a row inside [lo, hi), calls
// one(first, count, scale_index, zero_point) for a piece that starts inside a block (up to that
// block's end), and blocks(first, count, scale_index, zero_points) for the rest of the row part,
// which starts on a block boundary: one _blocks kernel call over many blocks (kZeroBlocks at a
// time when zp is null).
template <class One, class Blocks>
void for_each_block_part(const lb_qlayout &l, const int32_t *zp, size_t lo, size_t hi, One one,
                         Blocks blocks) {
  const size_t A = l.axis_len, B = l.block, nb = ceil_div(A, B);
  for (size_t e = lo; e < hi;) {
    const size_t o = e / A, d = e % A, row_end = (o + 1) * A < hi ? (o + 1) * A : hi;
    size_t s = o * nb + d / B;
    if (d % B) {  // inside a block: the rest of it (or of [lo, hi)) on its own
      const size_t block_end = e + (B - d % B) < row_end ? e + (B - d % B) : row_end;
      one(e, block_end - e, s, zp ? zp[s] : 0);
      e = block_end, ++s;
    }
    if (zp) {
      if (e < row_end) blocks(e, row_end - e, s, zp + s);
    } else {
      const size_t most = B <= SIZE_MAX / kZeroBlocks ? B * kZeroBlocks : SIZE_MAX;
      for (; e < row_end; s += kZeroBlocks) {
        const size_t c = row_end - e < most ? row_end - e : most;
        blocks(e, c, s, kZeros);
        e += c;
      }
    }
    e = row_end;
  }
}

// Work is cut into tasks of this many elements (a multiple of every per-byte count), so that
// a large tensor spreads over the threads and a small one stays on the caller's thread.
constexpr size_t TASK = 1 << 16;
// Sub-byte values are staged this many at a time (a multiple of every per-byte count, so each
// stage starts on a byte boundary too).
constexpr size_t STAGE = 4096;

size_t row_len_of(const lb_qlayout &l, size_t total) { return l.row_len ? l.row_len : total; }

// One row of n values (low BITS bits of each byte) into ceil(n / (8 / BITS)) bytes: element i in
// byte i / per, the lowest index in the lowest bits; the last byte's unused bits are zero.
template <int BITS>
void pack_row(const uint8_t *q, size_t n, uint8_t *out) {
  constexpr int per = 8 / BITS;
  constexpr uint8_t mask = (1u << BITS) - 1;
  const size_t full = n / per;
  for (size_t j = 0; j < full; ++j) {
    uint8_t b = 0;
    for (int k = 0; k < per; ++k) b |= (uint8_t)((q[j * per + k] & mask) << (k * BITS));
    out[j] = b;
  }
  if (n % per) {
    uint8_t b = 0;
    for (size_t k = 0; k < n % per; ++k) b |= (uint8_t)((q[full * per + k] & mask) << (k * BITS));
    out[full] = b;
  }
}

// The inverse: one byte per value, sign-extended (as int8) for signed dtypes. Whole bytes first,
// each value's bits moved to the top of a byte and shifted back down (arithmetically when
// signed), in loops the compiler vectorizes; then the values of a last partial byte.
template <int BITS>
void unpack_row(const uint8_t *in, size_t n, bool is_signed, uint8_t *q) {
  constexpr int per = 8 / BITS, shift = 8 - BITS;
  const size_t full = n / per;
  if (is_signed) {
    for (size_t j = 0; j < full; ++j)
      for (int k = 0; k < per; ++k)
        q[j * per + k] = (uint8_t)((int8_t)(uint8_t)(in[j] << (shift - k * BITS)) >> shift);
  } else {
    for (size_t j = 0; j < full; ++j)
      for (int k = 0; k < per; ++k)
        q[j * per + k] = (uint8_t)((uint8_t)(in[j] << (shift - k * BITS)) >> shift);
  }
  for (size_t i = full * per; i < n; ++i) {
    uint8_t v = (uint8_t)(in[i / per] >> (i % per * BITS) << shift);
    q[i] = is_signed ? (uint8_t)((int8_t)v >> shift) : (uint8_t)(v >> shift);
  }
}

// The tensor cut into tasks of at most TASK elements, each starting on a byte boundary of the
// packed output: several whole rows when rows are short, TASK-long pieces of a row otherwise (a
// flat tensor is one row; 8-bit dtypes are flat with one element per byte). Tasks write
// disjoint bytes, so they run in parallel and the result does not depend on the thread count.
struct segmentation {
  size_t row, rows, per, row_bytes, rows_per_task = 0, pieces_per_row = 0, n_tasks;

  segmentation(int bits, size_t total, size_t row_len)
      : row(row_len), rows(total / row_len), per(8 / (size_t)bits), row_bytes(ceil_div(row_len, per)) {
    if (row >= TASK) {
      pieces_per_row = ceil_div(row, TASK);
      n_tasks = rows * pieces_per_row;
    } else {
      rows_per_task = TASK / row;
      n_tasks = ceil_div(rows, rows_per_task);
    }
  }

  // Elements [lo, hi) of task t.
  void range(size_t t, size_t *lo, size_t *hi) const {
    if (pieces_per_row) {
      const size_t r = t / pieces_per_row, k = t % pieces_per_row;
      *lo = r * row + k * TASK;
      *hi = r * row + (row < (k + 1) * TASK ? row : (k + 1) * TASK);
    } else {
      *lo = t * rows_per_task * row;
      *hi = (rows < (t + 1) * rows_per_task ? rows : (t + 1) * rows_per_task) * row;
    }
  }

  // piece(first element, count, first byte) for each part of a row inside [lo, hi).
  template <class Piece>
  void pieces(size_t lo, size_t hi, Piece piece) const {
    for (size_t e = lo; e < hi;) {
      const size_t r = e / row, end = (r + 1) * row < hi ? (r + 1) * row : hi;
      piece(e, end - e, r * row_bytes + (e - r * row) / per);
      e = end;
    }
  }
};

struct buffer {
  void *p = nullptr;
  ~buffer() { lb_aligned_free(p); }
};

}  // namespace

extern "C" size_t lb_quantized_bytes(lb_dtype dtype, lb_qlayout l) {
  qtype qt;
  size_t total;
  if (!qtype_of(dtype, &qt) || !total_of(l, &total)) return 0;
  if (qt.bits == 8) return total;
  const size_t per = 8 / qt.bits, row = row_len_of(l, total);
  return row ? total / row * ceil_div(row, per) : 0;
}

extern "C" lb_status lb_quantize_linear(const float *x, lb_qlayout l, const float *scale,
                                        const int32_t *zp, size_t n_scales, lb_dtype dtype,
                                        void *out, size_t out_bytes) {
  qtype qt;
  if (!qtype_of(dtype, &qt)) return LB_ERR_INVALID_ARGUMENT;
  return lb_quantize_linear_range(x, l, scale, zp, n_scales, dtype, qt.min, qt.max, out, out_bytes);
}

extern "C" lb_status lb_quantize_linear_range(const float *x, lb_qlayout l, const float *scale,
                                              const int32_t *zp, size_t n_scales, lb_dtype dtype,
                                              int32_t qmin, int32_t qmax, void *out,
                                              size_t out_bytes) {
  qtype qt;
  size_t total;
  lb_status st = check(l, scale, zp, n_scales, dtype, &qt, &total);
  if (st != LB_OK) return st;
  if (qmin < qt.min || qmax > qt.max || qmin > qmax) return LB_ERR_INVALID_ARGUMENT;
  if (out_bytes < lb_quantized_bytes(dtype, l)) return LB_ERR_INVALID_ARGUMENT;
  if (total == 0) return LB_OK;
  if (!x || !out) return LB_ERR_INVALID_ARGUMENT;

  buffer zeros;
  if (!zp && !blocked_rows(l)) {
    zp = (const int32_t *)(zeros.p = lb_aligned_alloc(n_scales * sizeof(int32_t)));
    if (!zp) return LB_ERR_OUT_OF_MEMORY;
    memset(zeros.p, 0, n_scales * sizeof(int32_t));
  }
  // Sub-byte values are quantized into a task-local buffer, one byte each, then packed.
  const lb_quant_kernels &k = *lb_active()->quant;
  const bool packed = qt.bits < 8;
  const segmentation seg(qt.bits, total, packed ? row_len_of(l, total) : total);
  // Elements [a, b) into dst[0 .. b - a).
  auto quantize_range = [&](size_t a, size_t b, uint8_t *dst) {
    if (blocked_rows(l))
      return for_each_block_part(
          l, zp, a, b,
          [&](size_t first, size_t n, size_t s, int32_t z) {
            k.quantize(n, x + first, scale[s], z, qmin, qmax, dst + (first - a));
          },
          [&](size_t first, size_t n, size_t s, const int32_t *z) {
            k.quantize_blocks(n, x + first, l.block, scale + s, z, qmin, qmax, dst + (first - a));
          });
    for_each_run(
        l, n_scales, a, b,
        [&](size_t first, size_t n, size_t s) {
          k.quantize(n, x + first, scale[s], zp[s], qmin, qmax, dst + (first - a));
        },
        [&](size_t first, size_t n, size_t s) {
          k.quantize_vec(n, x + first, scale + s, zp + s, qmin, qmax, dst + (first - a));
        });
  };
  lb_parallel(seg.n_tasks, [&](size_t t) {
    size_t lo, hi;
    seg.range(t, &lo, &hi);
    if (!packed) return quantize_range(lo, hi, (uint8_t *)out + lo);
    // Each row part, STAGE values at a time (from its byte-aligned start, so every stage starts
    // on a byte boundary), through a buffer that stays in L1.
    seg.pieces(lo, hi, [&](size_t first, size_t n, size_t byte) {
      for (size_t m = 0; m < n; m += STAGE) {
        const size_t c = n - m < STAGE ? n - m : STAGE;
        alignas(64) uint8_t local[STAGE];
        quantize_range(first + m, first + m + c, local);
        uint8_t *dst = (uint8_t *)out + byte + m / seg.per;
        qt.bits == 4 ? pack_row<4>(local, c, dst) : pack_row<2>(local, c, dst);
      }
    });
  });
  return LB_OK;
}

extern "C" lb_status lb_dequantize_linear(const void *qv, size_t q_bytes, lb_qlayout l,
                                          const float *scale, const int32_t *zp, size_t n_scales,
                                          lb_dtype dtype, float *x) {
  qtype qt;
  size_t total;
  lb_status st = check(l, scale, zp, n_scales, dtype, &qt, &total);
  if (st != LB_OK) return st;
  if (q_bytes < lb_quantized_bytes(dtype, l)) return LB_ERR_INVALID_ARGUMENT;
  if (total == 0) return LB_OK;
  if (!qv || !x) return LB_ERR_INVALID_ARGUMENT;

  buffer zeros;
  if (!zp && !blocked_rows(l)) {
    zp = (const int32_t *)(zeros.p = lb_aligned_alloc(n_scales * sizeof(int32_t)));
    if (!zp) return LB_ERR_OUT_OF_MEMORY;
    memset(zeros.p, 0, n_scales * sizeof(int32_t));
  }
  // Sub-byte values are unpacked into a task-local buffer (sign-extended), then dequantized.
  const uint8_t *q = (const uint8_t *)qv;
  const lb_quant_kernels &k = *lb_active()->quant;
  const bool packed = qt.bits < 8;
  const segmentation seg(qt.bits, total, packed ? row_len_of(l, total) : total);
  // Elements [a, b) from src[0 .. b - a).
  auto dequantize_range = [&](size_t a, size_t b, const uint8_t *src) {
    if (blocked_rows(l))
      return for_each_block_part(
          l, zp, a, b,
          [&](size_t first, size_t n, size_t s, int32_t z) {
            k.dequantize(n, src + (first - a), qt.is_signed, scale[s], z, x + first);
          },
          [&](size_t first, size_t n, size_t s, const int32_t *z) {
            k.dequantize_blocks(n, src + (first - a), qt.is_signed, l.block, scale + s, z,
                                x + first);
          });
    for_each_run(
        l, n_scales, a, b,
        [&](size_t first, size_t n, size_t s) {
          k.dequantize(n, src + (first - a), qt.is_signed, scale[s], zp[s], x + first);
        },
        [&](size_t first, size_t n, size_t s) {
          k.dequantize_vec(n, src + (first - a), qt.is_signed, scale + s, zp + s, x + first);
        });
  };
  lb_parallel(seg.n_tasks, [&](size_t t) {
    size_t lo, hi;
    seg.range(t, &lo, &hi);
    if (!packed) return dequantize_range(lo, hi, q + lo);
    seg.pieces(lo, hi, [&](size_t first, size_t n, size_t byte) {
      for (size_t m = 0; m < n; m += STAGE) {
        const size_t c = n - m < STAGE ? n - m : STAGE;
        alignas(64) uint8_t local[STAGE];
        const uint8_t *src = q + byte + m / seg.per;
        qt.bits == 4 ? unpack_row<4>(src, c, qt.is_signed, local) : unpack_row<2>(src, c, qt.is_signed, local);
        dequantize_range(first + m, first + m + c, local);
      }
    });
  });
  return LB_OK;
}

extern "C" lb_status lb_minmax_f32(const float *x, size_t n, float *mn, float *mx) {
  if (!mn || !mx || (n && !x)) return LB_ERR_INVALID_ARGUMENT;
  if (n == 0) {
    *mn = INFINITY;
    *mx = -INFINITY;
    return LB_OK;
  }
  lb_active()->quant->minmax(n, x, mn, mx);
  return LB_OK;
}
