/*
 * lowbit — C ABI of the native library.
 *
 * Conventions
 *  - Every function that can fail returns an lb_status; LB_OK is 0. Nothing throws across
 *    this boundary and nothing aborts on bad input.
 *  - Buffers are owned by the caller; the library keeps no pointer to them after a call
 *    returns. Pointers need no particular alignment.
 *  - Matrices are row-major with an explicit leading dimension (elements between rows).
 *  - The kernel set (ISA) is chosen once, on first use, by CPU detection; lb_set_isa()
 *    overrides it process-wide (it is meant for tests and benchmarks).
 *
 * ABI versioning: LB_ABI_VERSION changes whenever a signature or a struct here changes.
 * Compare lb_abi_version() with the macro you compiled against.
 */
#ifndef LOWBIT_H
#define LOWBIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LB_VERSION_MAJOR 0
#define LB_VERSION_MINOR 1
#define LB_VERSION_PATCH 0
#define LB_ABI_VERSION 5

#if defined(_WIN32) && defined(LB_BUILD_SHARED)
#define LB_API __declspec(dllexport)
#elif defined(__GNUC__)
#define LB_API __attribute__((visibility("default")))
#else
#define LB_API
#endif

typedef enum lb_status {
  LB_OK = 0,
  LB_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a bad dtype, a leading dimension too small */
  LB_ERR_UNSUPPORTED_ISA = 2,  /* lb_set_isa: unknown name, or the CPU / OS lacks that ISA */
  LB_ERR_OUT_OF_MEMORY = 3,    /* a scratch allocation failed */
  LB_ERR_SIZE_OVERFLOW = 4     /* a dimension product does not fit in size_t */
} lb_status;

typedef enum lb_dtype {
  LB_INT8 = 1,  /* [-128, 127], one per byte */
  LB_UINT8 = 2, /* [0, 255], one per byte */
  LB_INT4 = 3,  /* [-8, 7], two per byte (sub-byte packing: see lb_quantize_linear) */
  LB_UINT4 = 4, /* [0, 15], two per byte */
  LB_INT2 = 5,  /* [-2, 1], four per byte */
  LB_UINT2 = 6, /* [0, 3], four per byte */
  LB_NF4 = 7    /* 16-entry NormalFloat code book (bitsandbytes), indices two per byte; weights only */
} lb_dtype;

/* Layout of the right-hand matrix of a product. */
typedef enum lb_layout {
  LB_LAYOUT_KN = 0, /* B is K x N (ONNX MatMul / MatMulInteger) */
  LB_LAYOUT_NK = 1  /* B is N x K, one output channel per row (PyTorch Linear, GGUF) */
} lb_layout;

LB_API uint32_t lb_abi_version(void);
LB_API const char *lb_version_string(void);
LB_API const char *lb_status_string(lb_status status);

/* ---- CPU detection and ISA selection ------------------------------------------------ */

/* Bit flags of lb_cpu_features(). */
#define LB_CPU_AVX2 (1ull << 0)         /* AVX2 + FMA + F16C, OS saves YMM */
#define LB_CPU_AVXVNNI (1ull << 1)      /* AVX-VNNI (VEX vpdpbusd) */
#define LB_CPU_AVX512F (1ull << 2)      /* AVX-512 F + BW + VL, OS saves ZMM */
#define LB_CPU_AVX512VNNI (1ull << 3)   /* AVX-512 VNNI */
#define LB_CPU_AMX_INT8 (1ull << 4)     /* AMX-TILE + AMX-INT8, OS grants the tile state */
#define LB_CPU_NEON (1ull << 8)         /* AdvSIMD */
#define LB_CPU_NEON_DOTPROD (1ull << 9) /* FEAT_DotProd (sdot / udot) */
#define LB_CPU_NEON_I8MM (1ull << 10)   /* FEAT_I8MM (smmla / usdot) */

LB_API uint64_t lb_cpu_features(void);
/* Name of one feature bit above ("avx2", "avx512vnni", ...), or NULL. */
LB_API const char *lb_cpu_feature_name(uint64_t bit);
/* "x86_64", "aarch64" or "other". */
LB_API const char *lb_cpu_arch(void);

/* ISAs this build knows, in order of preference (best last). */
LB_API int lb_isa_count(void);
LB_API const char *lb_isa_name(int index);
/* 1 when the ISA at `index` is usable on this CPU and OS, else 0. */
LB_API int lb_isa_usable(int index);
/* Name of the ISA in use. */
LB_API const char *lb_get_isa(void);
/* Select an ISA by name (e.g. "avx2", "neon-dotprod"); LB_ERR_UNSUPPORTED_ISA if unusable. */
LB_API lb_status lb_set_isa(const char *name);

/* ---- Threads --------------------------------------------------------------------------- */

/* Threads the library uses for large operations (default: the hardware threads). Results never
 * depend on it. lb_set_threads(0) restores the default; more than 1024 is an invalid argument. */
LB_API size_t lb_get_threads(void);
LB_API lb_status lb_set_threads(size_t n);

/* ---- Integer matrix product (ONNX MatMulInteger) ------------------------------------ */

/*
 * Y[m,n] = sum_k (A[m,k] - a_zp) * (B[k,n] - b_zp), exact, taken modulo 2^32 into int32.
 *
 *  A: M x K of a_type (LB_INT8 / LB_UINT8), leading dimension lda >= K.
 *  B: b_layout LB_LAYOUT_KN (K x N, ldb >= N) or LB_LAYOUT_NK (N x K, ldb >= K), of b_type.
 *  a_zp: NULL (0), or a_zp_count values of a_type: 1 (per tensor) or M (one per row of A).
 *  b_zp: NULL (0), or b_zp_count values of b_type: 1 (per tensor) or N (one per column of Y).
 *  Y: M x N int32, leading dimension ldy >= N.
 *
 * Any of M, N, K may be 0 (K = 0 writes zeros). The result does not depend on the ISA.
 */
LB_API lb_status lb_matmul_integer(size_t M, size_t N, size_t K,
                                   const void *A, lb_dtype a_type, size_t lda,
                                   const void *B, lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                   const void *a_zp, size_t a_zp_count,
                                   const void *b_zp, size_t b_zp_count,
                                   int32_t *Y, size_t ldy);

/* ---- Prepacked weights ------------------------------------------------------------------ */

/* Weights packed once for repeated products, with their format, scales and zero points (on the
 * kernels of the ISA in use when packed; the results are the same on every ISA). Owned by the
 * library: free with lb_packed_free. */
typedef struct lb_packed_weights lb_packed_weights;

typedef enum lb_scale_dtype {
  LB_SCALE_F32 = 0, /* float32 */
  LB_SCALE_F16 = 1  /* IEEE binary16 bit patterns (uint16); widened to float32 exactly */
} lb_scale_dtype;

/*
 * The weights of a linear layer, W (N x K, one output channel per row), as the caller holds them:
 *   dtype: LB_INT8 / LB_UINT8 / LB_INT4 / LB_UINT4 / LB_INT2 / LB_UINT2 / LB_NF4.
 *   data, layout, ld: 8-bit dtypes: N x K rows (LB_LAYOUT_NK, ld >= K elements) or K x N
 *     (LB_LAYOUT_KN, ld >= N); sub-byte dtypes: LB_LAYOUT_NK packed as SPEC §2 says, ld = bytes
 *     between rows (>= ceil(K * bits / 8)), or ld = 0 for one packed stream (row n starts at
 *     element n * K, as an unblocked tensor is packed).
 *   group: values per scale along K; 0 means one group of K (per tensor or per channel).
 *   scale: NULL for integer-only weights (8-bit, group 0: lb_matmul_integer_packed), else
 *     (non-NULL even when N or K is 0)
 *     scale_count values of scale_dtype, finite and > 0 (nf4: the block absmax, >= 0):
 *     1 (per tensor, 8-bit only), N (per channel), or N * ceil(K / group), row-major [N][groups].
 *   zero_point: NULL (all 0) or one value per scale, in the dtype's range (none for nf4; for
 *     integer-only weights, 1 or N values).
 */
typedef struct lb_weights_desc {
  lb_dtype dtype;
  size_t N, K;
  const void *data;
  lb_layout layout;
  size_t ld;
  size_t group;
  const void *scale;
  lb_scale_dtype scale_dtype;
  size_t scale_count;
  const int32_t *zero_point;
} lb_weights_desc;

LB_API lb_status lb_prepack(const lb_weights_desc *desc, lb_packed_weights **out);
LB_API void lb_packed_free(lb_packed_weights *w);
LB_API size_t lb_packed_rows(const lb_packed_weights *w); /* N */
LB_API size_t lb_packed_cols(const lb_packed_weights *w); /* K */
LB_API lb_dtype lb_packed_dtype(const lb_packed_weights *w);
/* Bytes the packed weights hold (data, scales, zero points, sums), for reports. */
LB_API size_t lb_packed_bytes(const lb_packed_weights *w);
/* Name of the kernel the packed weights run on, e.g. "ggemm_u4s8_avx512vnni". */
LB_API const char *lb_packed_kernel(const lb_packed_weights *w);

typedef enum lb_compute {
  LB_COMPUTE_INT8 = 0,   /* activations quantized per row to int8, exact sums per group (SPEC §4) */
  LB_COMPUTE_FLOAT32 = 1 /* weight-only: weights dequantized, float32 sums (not bit-exact) */
} lb_compute;

/* Per-call options of the products; NULL means the defaults (8, int8, the pool's threads). */
typedef struct lb_call_opts {
  int activation_bits; /* 8: activations in [-127, 127]; 7: in [-63, 63]; 0 = 8 */
  lb_compute compute;
  size_t threads;      /* threads for this call only; 0 = lb_get_threads() */
} lb_call_opts;

/* lb_matmul_integer with per-call options: only opts->threads counts (0 = lb_get_threads(); more
 * than 1024 is an invalid argument); opts NULL is lb_matmul_integer. The result does not
 * depend on the thread count. */
LB_API lb_status lb_matmul_integer_opts(size_t M, size_t N, size_t K,
                                        const void *A, lb_dtype a_type, size_t lda,
                                        const void *B, lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                        const void *a_zp, size_t a_zp_count,
                                        const void *b_zp, size_t b_zp_count,
                                        const lb_call_opts *opts, int32_t *Y, size_t ldy);

/* lb_matmul_integer with the packed integer-only B (scale NULL): Y[m,n] = sum_k (A[m,k] - a_zp)
 * (B[n,k] - w_zp), with the zero points the weights were packed with; exact modulo 2^32. */
LB_API lb_status lb_matmul_integer_packed(size_t M, const void *A, lb_dtype a_type, size_t lda,
                                          const void *a_zp, size_t a_zp_count,
                                          const lb_packed_weights *W, const lb_call_opts *opts,
                                          int32_t *Y, size_t ldy);

/*
 * A quantized linear layer, float in and float out (SPEC §4), on weights packed with scales:
 *   compute int8: each row of X (M x K, ldx >= K) is quantized to int8 symmetric: s[m] =
 *   absmax / qmax (qmax = 127 for activation_bits 8, 63 for 7; s = 1 for an all-zero row),
 *   q = clamp(round_half_even(x / s[m]), -qmax, qmax), NaN -> 0; per group g of the weights
 *   acc_g = sum_{k in g} q[m,k] * (W[n,k] - w_zp[n,g]) (int32, exact) and
 *   y = y + float(acc_g) * (s[m] * w_scale[n,g]) from y = 0, g in order; then y + bias[n].
 *   Each step is one float32 operation, so every ISA and thread count gives the same bits.
 *   compute float32: y = sum_k x[m,k] * dequantize(W)[n,k] + bias[n] in float32, any order.
 * bias: NULL or N values. A row holding +-Inf has no scale: LB_ERR_INVALID_ARGUMENT, nothing written.
 */
LB_API lb_status lb_linear_f32(size_t M, const float *X, size_t ldx, const lb_packed_weights *W,
                               const float *bias, const lb_call_opts *opts, float *Y, size_t ldy);

/*
 * The same layer on activations already quantized (a QTensor): A is M x K int8 or uint8
 * (lda >= K) with a_scale (1 or M values, finite and > 0) and a_zp (NULL, or 1 or M values of
 * a_type); acc_g = sum_{k in g} (A[m,k] - a_zp[m]) * (W[n,k] - w_zp[n,g]), then the float
 * steps of lb_linear_f32. Compute int8 only.
 */
LB_API lb_status lb_linear_q8(size_t M, const void *A, lb_dtype a_type, size_t lda,
                              const float *a_scale, size_t a_scale_count, const void *a_zp,
                              size_t a_zp_count, const lb_packed_weights *W, const float *bias,
                              const lb_call_opts *opts, float *Y, size_t ldy);

/* The same product by the plain scalar reference, independent of the ISA in use. */
LB_API lb_status lb_matmul_integer_ref(size_t M, size_t N, size_t K,
                                       const void *A, lb_dtype a_type, size_t lda,
                                       const void *B, lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                       const void *a_zp, size_t a_zp_count,
                                       const void *b_zp, size_t b_zp_count,
                                       int32_t *Y, size_t ldy);

/* ---- Quantize / dequantize (ONNX QuantizeLinear / DequantizeLinear) ----------------- */

/*
 * How scales map onto a tensor. The tensor is viewed as outer x axis_len x inner around its
 * quantization axis (per tensor: any split, e.g. 1 x n x 1).
 *   block == 0: per tensor (n_scales == 1) or per axis (n_scales == axis_len);
 *   block > 0:  blocked along the axis, n_scales == outer * ceil(axis_len / block) * inner,
 *               laid out row-major as the tensor's shape with the axis replaced by the block count.
 * row_len: sub-byte dtypes only: elements per packed row, each row starting on a byte boundary
 *   (0 = the whole tensor is one row). Element i of a row goes to byte i / per_byte, the lowest
 *   index in the lowest bits; a row's last byte is padded with zero bits.
 */
typedef struct lb_qlayout {
  size_t outer, axis_len, inner;
  size_t block;
  size_t row_len;
} lb_qlayout;

/* Bytes the quantized tensor takes (packed for sub-byte dtypes); 0 for an unknown dtype. */
LB_API size_t lb_quantized_bytes(lb_dtype dtype, lb_qlayout layout);

/*
 * q = saturate(round_half_even(x / scale) + zero_point), the division in IEEE float32; NaN gives
 * the zero point; +-Inf and every out-of-range value saturate by sign. scale values must be
 * finite and > 0 and zero points in the dtype's range (else LB_ERR_INVALID_ARGUMENT, nothing
 * written). zero_point may be NULL (all 0). out: lb_quantized_bytes(dtype, layout) bytes,
 * int8 values as their two's-complement bytes.
 */
LB_API lb_status lb_quantize_linear(const float *x, lb_qlayout layout, const float *scale,
                                    const int32_t *zero_point, size_t n_scales, lb_dtype dtype,
                                    void *out, size_t out_bytes);

/* The same with the saturation range narrowed to [qmin, qmax] (inside the dtype's range), e.g.
 * [-127, 127] for symmetric int8 so that no value lands on -128. */
LB_API lb_status lb_quantize_linear_range(const float *x, lb_qlayout layout, const float *scale,
                                          const int32_t *zero_point, size_t n_scales,
                                          lb_dtype dtype, int32_t qmin, int32_t qmax, void *out,
                                          size_t out_bytes);

/* x = float(q - zero_point) * scale in float32; q as lb_quantize_linear writes it. */
LB_API lb_status lb_dequantize_linear(const void *q, size_t q_bytes, lb_qlayout layout,
                                      const float *scale, const int32_t *zero_point,
                                      size_t n_scales, lb_dtype dtype, float *x);

/* Minimum and maximum of the non-NaN values (+inf and -inf when there are none). */
LB_API lb_status lb_minmax_f32(const float *x, size_t n, float *min, float *max);

/* ---- Float32 matrix product (the benchmark's baseline) ------------------------------ */

/*
 * Y = A * B^T: A is M x K (lda >= K), B is N x K (ldb >= K), Y is M x N (ldy >= N).
 * Register-tiled and cache-blocked SIMD on the ISA in use; the summation order depends on
 * the ISA, so results may differ in the last bits between ISAs.
 */
LB_API lb_status lb_sgemm_nt(size_t M, size_t N, size_t K,
                             const float *A, size_t lda, const float *B, size_t ldb,
                             float *Y, size_t ldy);

/* ---- Peak throughput (the benchmark's yardstick) ------------------------------------ */

/*
 * Register-only loops, one per instruction sequence ("kind"), on the calling thread: the
 * multiply-adds per second one core reaches that way, with no memory traffic, counted as
 * 2 operations per multiply-add (the 2*M*N*K convention of GOPS). A product's GOPS divided
 * by the peak of the sequence its kernel uses is its fraction of peak.
 *
 * Kinds are named by ISA, then the instructions of one step of one accumulator chain, e.g.
 * "avx2-vfmadd231ps", "avx2-vpmaddubsw-vpmaddwd-vpaddd", "avx512vnni-vpdpbusd",
 * "amx-tdpbusd", "neon-dotprod-sdot". The list depends on the architecture, not the CPU.
 */
LB_API int lb_peak_count(void);
LB_API const char *lb_peak_name(int index); /* NULL outside [0, lb_peak_count()) */
/* 1 when the kind at `index` runs on this CPU and OS, else 0. */
LB_API int lb_peak_usable(int index);
/*
 * Runs `kind` in timed repetitions until min_seconds (0 <= min_seconds <= 60) have passed
 * (at least 3 of them) and writes the best repetition's operations per second.
 * LB_ERR_INVALID_ARGUMENT: NULL pointer, unknown kind, min_seconds out of range or NaN;
 * LB_ERR_UNSUPPORTED_ISA: the CPU or OS lacks the kind's instructions.
 */
LB_API lb_status lb_measure_peak(const char *kind, double min_seconds, double *ops_per_second);

/* ---- Benchmark support: the memory roof and a float32 peer -------------------------- */

/*
 * Reads `bytes` (>= 4096; rounded down to a multiple of 4096) of a fresh buffer with plain
 * vector loads on `threads` threads of the pool (0 = lb_get_threads()), repeatedly for about
 * min_seconds, and writes the best pass's bytes per second: the read-bandwidth roof of a
 * buffer that size (past the last-level cache: memory; smaller: that cache level).
 */
LB_API lb_status lb_measure_read_bandwidth(size_t bytes, size_t threads, double min_seconds,
                                           double *bytes_per_second);
/*
 * OpenBLAS's cblas_sgemm, loaded at run time (dlopen of libopenblas.so.0; no link-time
 * dependency): Y = A * B^T as lb_sgemm_nt, on `threads` OpenBLAS threads (0 = lb_get_threads()).
 * LB_ERR_UNSUPPORTED_ISA when it is not installed; lb_openblas_missing() says why (NULL when found).
 */
LB_API const char *lb_openblas_missing(void);
LB_API lb_status lb_openblas_sgemm_nt(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                      const float *B, size_t ldb, float *Y, size_t ldy,
                                      size_t threads);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_H */
