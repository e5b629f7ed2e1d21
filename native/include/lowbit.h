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
#define LB_ABI_VERSION 1

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
  LB_INT8 = 1,
  LB_UINT8 = 2
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
#define LB_CPU_AVX2 (1ull << 0)         /* AVX2 + FMA, OS saves YMM */
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

/* The same product by the plain scalar reference, independent of the ISA in use. */
LB_API lb_status lb_matmul_integer_ref(size_t M, size_t N, size_t K,
                                       const void *A, lb_dtype a_type, size_t lda,
                                       const void *B, lb_dtype b_type, lb_layout b_layout, size_t ldb,
                                       const void *a_zp, size_t a_zp_count,
                                       const void *b_zp, size_t b_zp_count,
                                       int32_t *Y, size_t ldy);

/* ---- Float32 matrix product (the benchmark's baseline) ------------------------------ */

/*
 * Y = A * B^T: A is M x K (lda >= K), B is N x K (ldb >= K), Y is M x N (ldy >= N).
 * Register-tiled and cache-blocked SIMD on the ISA in use; the summation order depends on
 * the ISA, so results may differ in the last bits between ISAs.
 */
LB_API lb_status lb_sgemm_nt(size_t M, size_t N, size_t K,
                             const float *A, size_t lda, const float *B, size_t ldb,
                             float *Y, size_t ldy);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_H */
