// The kernel families, the ISA list, and the dispatch table they make together.
// A new ISA is one kernel file per family plus one line in LB_ISA_LIST.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "lowbit.h"

#if defined(__x86_64__) || defined(_M_X64)
#define LB_ARCH_X86 1
#elif defined(__aarch64__) || defined(_M_ARM64)
#define LB_ARCH_ARM 1
#endif

// ---- family: raw 8-bit GEMM ------------------------------------------------------------
// C[m*ldc + n] = sum_{k<K} A[m*K + k] * B[n][k], wrapping int32 (exact modulo 2^32).
// A is uint8 or int8 (the kernel's a_signed says which), row-major with a row stride of
// exactly K. B is int8 in the kernel's packed layout: N x K rows ("dot" layout, the default),
// or whatever pack_b makes of those rows; in every layout the columns n .. of a multiple n of
// n_align start at B + n * K, so the driver can hand a kernel any block of columns.
// The driver (gemm_driver.h) guarantees:
//   K % 64 == 0; A, B 64-byte aligned; M % m_align == 0; N % n_align == 0;
//   the padding rows and columns are zero.
// Overflow: each product is at most 255*128 = 32640 in magnitude and every kernel sums
// them exactly before a wrapping 32-bit add, so all kernels agree bit for bit.
//
// Narrow-range variants (null where the general kernel is as fast): the same exact sums, but
// only for operands in a narrower range, which is what lets AVX2 use vpmaddubsw without
// saturating (its int16 pair sums must not exceed 32767):
//   fn_sym: any int8 A, B in [-127, 127] (the sign trick: |a| * (b * sign(a)), |a| <= 128)
//   fn_u7:  A uint8 in [0, 127], any B    (7-bit activations, stored as a + 64)
typedef void (*lb_gemm_i8_fn)(size_t M, size_t N, size_t K, const void *A, const int8_t *B,
                              int32_t *C, size_t ldc);
struct lb_gemm_i8_kernel {
  lb_gemm_i8_fn fn;
  bool a_signed;  // A holds int8 (true) or uint8 (false)
  uint32_t m_align, n_align;
  lb_gemm_i8_fn fn_sym, fn_u7;
  // N x K rows -> the layout fn reads (same size), or null when fn reads the rows.
  void (*pack_b)(size_t N, size_t K, const int8_t *rows, int8_t *out);
  // A in groups of 16 rows, each group K/64 blocks of 16 rows x 64 bytes (AMX tiles, loaded
  // with a 64-byte stride: rows K bytes apart would share L1 sets when K is a multiple of
  // 4096). Group g still starts at A + 16 g K. See lb_pack_a_tiles16 (gemm_driver.h).
  bool a_tiles16;
  // Up to small_m rows of A (0: never), fn_small runs instead of fn: the same A type and B
  // layout, but A row-major whatever a_tiles16 says, and M aligned to 1. AMX pads M to 16; a
  // few rows (the GEMV case) stream B faster on AVX-512 from the same packed weights.
  lb_gemm_i8_fn fn_small;
  uint32_t small_m;
  // K x N bytes straight into the layout (or null: transposed to N x K rows, then pack_b):
  // columns n0 .. n0 + nt of B (nt a multiple of n_align, at most 1024; the first nn real, the
  // rest zero) as B' = B ^ flip into out = Bp + n0 * Kp (rows k >= K zero), col_sum[0 .. nn) =
  // sum_k B' (int8, wrapping). Returns whether some B' is -128.
  bool (*pack_b_kn)(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                    uint8_t flip, int8_t *out, uint32_t *col_sum);
  // The same from N x K bytes (row n of B at B + n * ldb), any nt that is a multiple of n_align.
  bool (*pack_b_nk)(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                    uint8_t flip, int8_t *out, uint32_t *col_sum);
};

// B in blocks of 16 columns, each K / 4 rows of 64 bytes: row q holds the four bytes
// k = 4q .. 4q + 3 of each of the 16 columns (the operand of vpdpbusd; 16 rows make an AMX B
// tile). A pack_b for kernels with n_align 16 (gemm_i8/pack_b_vnni16.cpp).
void lb_pack_b_vnni16(size_t N, size_t K, const int8_t *rows, int8_t *out);
#if LB_ARCH_X86
bool lb_pack_b_vnni16_kn_avx512(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                uint8_t flip, int8_t *out, uint32_t *col_sum);
bool lb_pack_b_vnni16_nk_avx512(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                uint8_t flip, int8_t *out, uint32_t *col_sum);
bool lb_pack_rows_kn_avx2(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb, uint8_t flip,
                          int8_t *out, uint32_t *col_sum);  // N x K rows (gemm_avx2.cpp)
bool lb_pack_b_vnni16_kn_avxvnni(size_t K, size_t Kp, size_t nn, size_t nt, const uint8_t *B, size_t ldb,
                                 uint8_t flip, int8_t *out, uint32_t *col_sum);
void lb_pack_b_vnni16_avx512(size_t N, size_t K, const int8_t *rows, int8_t *out);  // the same bytes
void lb_pack_b_vnni16_avx2(size_t N, size_t K, const int8_t *rows, int8_t *out);  // the same bytes (AVX-VNNI's)
#endif
inline bool lb_is_vnni16_layout(void (*pack_b)(size_t, size_t, const int8_t *, int8_t *)) {
#if LB_ARCH_X86
  if (pack_b == lb_pack_b_vnni16_avx512 || pack_b == lb_pack_b_vnni16_avx2) return true;
#endif
  return pack_b == lb_pack_b_vnni16;
}

// ---- family: grouped GEMM, float out (the low-bit weights engine, ggemm_driver.cpp) -------
// For every row m and column n of the block, groups g = 0, 1, ... in order:
//   acc_g = raw_g - w_zp[n,g] * a_sum[m,g] - (a_zp ? a_zp[m] * w_qsum[n,g] : 0)   (int32, wrapping)
//   y     = y + float(acc_g) * (a_scale[m] * w_scale[n,g])                       (float32, from 0)
//   Y[m,n] = bias ? y + bias[n] : y
// where raw_g = sum_{k in g} A[m,k] * U[n,k]: A int8 (activations, minus nothing), U the weights
// stored unsigned (U = q - qmin of the format, so int4 -8..7 is kept as 0..15) and w_zp the zero
// point in that same shift. Each group is padded with zeros to Gp values (a multiple of the
// kernel's kr), in A and in U alike, so padding adds nothing to any sum.
//
// Packed U ("panel" layout of a kernel with nr columns and `bits` per value): columns in panels
// of nr, each panel all K: groups x Gp / kr chunks of nr x 4 bytes; byte 4 j + i of a chunk
// holds, for column j, the values k = i + 4 t (t = 0 .. 8 / bits - 1) at bits t * bits. So one
// shift and mask per t gives a VNNI operand (4 consecutive k of nr columns), and 8-bit is the
// VNNI layout itself. w_scale, w_zp, w_qsum: [panel][group][nr]; the scales in float32 (w_scale)
// or binary16 (w_scale16, w_scale null): widening is exact, so both give the same bits.
// A: M rows of groups x Gp bytes.
struct lb_ggemm_args {
  size_t M, N;         // rows; columns, a multiple of the kernel's nr
  size_t groups, Gp;   // groups per row, padded group length
  const int8_t *A;     // row m at A + m * groups * Gp
  const float *a_scale;
  const int32_t *a_sum;  // [M][groups]: sum of the group's A values
  const int32_t *a_zp;   // [M] or null
  const uint8_t *B;      // the block's first panel
  const float *w_scale;
  const uint16_t *w_scale16;
  const int32_t *w_zp, *w_qsum;  // w_qsum[n,g] = sum over the group's real k of (U - w_zp)
  bool zp_uniform;       // every w_zp (padding columns' too) equals w_zp[0]: kernels may use it
  const float *bias;     // the block's first column, or null
  float *Y;
  size_t ldy;
  bool b_signed;         // B holds U - w_zp[0] as int8 (lb_kernel_entry::expand_s8), zp_uniform
};
typedef void (*lb_ggemm_fn)(const lb_ggemm_args &a);

// Weight-only (compute float32) on the same packed weights, for a few rows: the weights are
// dequantized in registers, y[m,n] = sum_k X[m,k] * W[n,k] + bias[n] in float32, any order
// (SPEC §4's tolerance, not bit-exact): W = (U - w_zp) * w_scale, or codebook[U] * w_scale
// (nf4). X: M rows of groups x Gp floats, the group padding zero.
struct lb_wgemm_args {
  size_t M, N, groups, Gp;
  const float *X;
  const uint8_t *B;
  const float *w_scale;
  const uint16_t *w_scale16;
  const int32_t *w_zp;
  const float *codebook;  // 16 floats (nf4) or null
  const float *bias;
  float *Y;
  size_t ldy;
  bool zp_uniform;        // every w_zp equals w_zp[0] (lb_ggemm_args::zp_uniform)
};
typedef void (*lb_wgemm_fn)(const lb_wgemm_args &a);
// Values of K per chunk (a chunk is 4 bytes of each of a panel's nr columns).
constexpr size_t lb_ggemm_kr(int bits) { return (size_t)(32 / bits); }

// ---- family: small-M product on row-major K x N weights (matmulInteger without packing) -----
// Y[m, n] = sum_k a[m, k] * (B[k, n] - zb[n]), wrapping int32, m < M (at most 8), n < N (any),
// a: M x K int16 (the activations minus their zero points, |a| <= 255), B: K rows of N bytes
// (int8 or uint8 as b_signed says) ldb apart, zb: N int16 or null (0). Each product is at most
// 255 * 255, so every ISA sums exactly before the wrapping adds and all agree bit for bit.
typedef void (*lb_gemv_kn_fn)(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B,
                              size_t ldb, bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy);
void gemv_kn_ref(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                 bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy);
// The same product on N x K weights (B[n, k] at B + n * ldb + k): dot products, then
// - zb[n] * asum[m] with asum[m] = sum_k a[m, k] (wrapping), which the driver provides.
typedef void (*lb_gemv_nk_fn)(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B,
                              size_t ldb, bool b_signed, const int16_t *zb, const uint32_t *asum,
                              int32_t *Y, size_t ldy);
void gemv_nk_ref(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                 bool b_signed, const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy);
#if LB_ARCH_X86
void gemv_nk_avx2(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,
                  bool b_signed, const int16_t *zb, const uint32_t *asum, int32_t *Y, size_t ldy);
#endif
// The same products on the caller's bytes, for ISAs with a byte dot product (vpdpbusd), which
// takes one unsigned and one signed operand: a is uint8 when a_u8 (B' then int8), else int8 (B'
// uint8), and B' = B ^ flip (the driver flips B where its signedness is A's and moves the 0x80
// into B's zero point). Wrapping int32:
//   P[m, n] = sum_k a[m, k] * B'[k, n] (kn; nk: B'[n, k]),  S[n] = sum_k B'[.., ..] if S.
// a: M rows lda apart, each readable and zero up to K rounded up to 64. P: ldp apart.
typedef void (*lb_gemv_u8_fn)(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8,
                              const uint8_t *B, size_t ldb, uint8_t flip, int32_t *P, size_t ldp,
                              int32_t *S);
struct lb_gemv_u8_kernels {
  lb_gemv_u8_fn kn, nk;  // up to 8 rows a call
  // K x N from 9 rows up to many_rows a call, or null (then passes of kn, up to 16 rows). It
  // wants padding: a with M rounded up to m_pad rows (the extra rows zero), P with as many rows
  // and N rounded up to n_pad columns (writable, 64-byte aligned, ldp a multiple of 16), S as
  // many columns. What it writes past M and N is no output.
  lb_gemv_u8_fn kn_many;
  uint32_t many_rows, m_pad, n_pad;
};
// The many_rows of AMX and AVX-512 VNNI: to here their K x N path beats packing B whole, then
// the product (Xeon host, 4096 x 4096, 1 and 2 threads: AMX 12-128 rows 1.2-2.2x faster, 256
// rows 0.9-1.1x; AVX-512 VNNI 17-128 rows 1.1-2.3x).
constexpr uint32_t kGemvKnRowsAmx = 128, kGemvKnRowsAvx512 = 128;
// The reference: the scalar ISA's (so the tests check it against lb_matmul_integer_ref on every
// host) and the one the ISA kernels are tested against.
extern const lb_gemv_u8_kernels gemv_u8_ref;
#if LB_ARCH_X86
extern const lb_gemv_u8_kernels gemv_u8_avxvnni, gemv_u8_avx512vnni, gemv_u8_amx;
// AMX's kn and nk too (gemv_u8_avx512vnni.cpp).
void gemv_kn_u8_avx512vnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                           size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S);
void gemv_nk_u8_avx512vnni(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda, bool a_u8, const uint8_t *B,
                           size_t ldb, uint8_t flip, int32_t *P, size_t ldp, int32_t *S);
#endif

// ---- family: float32 GEMM, Y = A * B^T (the benchmark's baseline) ---------------------
typedef void (*lb_sgemm_nt_fn)(size_t M, size_t N, size_t K, const float *A, size_t lda,
                               const float *B, size_t ldb, float *Y, size_t ldy);

// ---- family: quantize / dequantize float32 runs (SPEC §3) -------------------------------
// One run of n elements sharing one scale and zero point (per tensor, per axis with the
// axis not last), with one scale and zero point per element (`_vec`: scale and zp arrays of
// length n, for scales that vary along the contiguous axis), or in consecutive blocks
// (`_blocks`: element i uses scale[i / block] and zp[i / block], block >= 1; the first block
// starts at element 0, the last may be short; scale and zp hold ceil(n / block) entries; for
// blocks along the contiguous axis, one call per row part instead of one per block).
//   quantize:   q[i] = clamp(round_half_even(x[i] / scale) + zp, qmin, qmax); NaN -> zp;
//               the division is IEEE float32 (never a reciprocal); q holds the value's low 8 bits.
//   dequantize: x[i] = float(q[i] - zp) * scale, q read as int8 (q_signed) or uint8.
//   minmax:     min and max over the non-NaN elements (+inf / -inf when there are none); a
//               zero result is +0, so the order lanes see -0 and +0 in does not matter.
// Every variant gives the scalar reference's bytes / floats exactly: the operations are
// single IEEE roundings (div, mul, int->float of a small integer) plus exact integer work.
// The zero points of `_vec` and `_blocks` are taken to lie in the dtype's range (the driver
// checks them), as the SIMD kernels need them in int16; qmin / qmax of every kernel and the
// one zp of quantize may be anything (the SIMD kernels hand values outside int16 to the
// scalar reference).
struct lb_quant_kernels {
  void (*quantize)(size_t n, const float *x, float scale, int32_t zp, int32_t qmin, int32_t qmax,
                   uint8_t *q);
  void (*quantize_vec)(size_t n, const float *x, const float *scale, const int32_t *zp,
                       int32_t qmin, int32_t qmax, uint8_t *q);
  void (*dequantize)(size_t n, const uint8_t *q, bool q_signed, float scale, int32_t zp, float *x);
  void (*dequantize_vec)(size_t n, const uint8_t *q, bool q_signed, const float *scale,
                         const int32_t *zp, float *x);
  void (*quantize_blocks)(size_t n, const float *x, size_t block, const float *scale,
                          const int32_t *zp, int32_t qmin, int32_t qmax, uint8_t *q);
  void (*dequantize_blocks)(size_t n, const uint8_t *q, bool q_signed, size_t block,
                            const float *scale, const int32_t *zp, float *x);
  void (*minmax)(size_t n, const float *x, float *min, float *max);
};

// ---- family: GEMM epilogue (gemm_driver.h) -------------------------------------------
// One row of a block of raw products c (int32, from an 8-bit GEMM kernel) to the caller's
// output, with the zero-point corrections of matmul_integer.cpp, modulo 2^32:
//   acc[j] = c[j] + zb[j] * t - za * cs[j]    (zb null: no zb term), j < n
//   to_s32: y[j] = acc[j]
//   to_f32: y[j] = float(acc[j]) * (as * ws[j]) (ws[0] for every j unless ws_per_col),
//           then y[j] + bias[j] when bias is given; float32 throughout, no fused multiply-add.
//   byte_sum: the sum of n bytes modulo 2^32, read as int8 (is_signed) or uint8 (a packed row
//           of A's sum, for the corrections).
struct lb_epilogue_kernels {
  void (*to_s32)(size_t n, const int32_t *c, const uint32_t *zb, uint32_t t, uint32_t za,
                 const uint32_t *cs, int32_t *y);
  void (*to_f32)(size_t n, const int32_t *c, const uint32_t *zb, uint32_t t, uint32_t za,
                 const uint32_t *cs, float as, const float *ws, bool ws_per_col, const float *bias,
                 float *y);
  uint32_t (*byte_sum)(size_t n, const uint8_t *p, bool is_signed);
};

// ---- the ISA list ------------------------------------------------------------------------
// X(id, name, required LB_CPU_* bits, sgemm kernel, quant kernels, epilogue kernels, gemv_kn,
//   gemv_u8 kernels or none)
// (GEMM kernels are declared in kernel_list.cpp, each naming its ISA.)
// Order is preference: best last.
#define LB_ISA_LIST_COMMON(X) \
  X(scalar, "scalar", 0, sgemm_nt_ref, quant_ref, epilogue_ref, gemv_kn_ref, gemv_u8_ref)
#define LB_ISA_LIST_X86(X)                                                                  \
  X(avx2, "avx2", LB_CPU_AVX2, sgemm_nt_avx2, quant_avx2, epilogue_avx2, gemv_kn_avx2, none) \
  X(avxvnni, "avxvnni", LB_CPU_AVX2 | LB_CPU_AVXVNNI, sgemm_nt_avx2, quant_avx2,           \
    epilogue_avx2, gemv_kn_avx2, gemv_u8_avxvnni)                                           \
  X(avx512vnni, "avx512vnni", LB_CPU_AVX512F | LB_CPU_AVX512VNNI, sgemm_nt_avx512,          \
    quant_avx512, epilogue_avx512, gemv_kn_avx2, gemv_u8_avx512vnni)                        \
  X(amx, "amx", LB_CPU_AVX512F | LB_CPU_AVX512VNNI | LB_CPU_AMX_INT8, sgemm_nt_avx512,       \
    quant_avx512, epilogue_avx512, gemv_kn_avx2, gemv_u8_amx)
#define LB_ISA_LIST_ARM(X)                                                                  \
  X(neon, "neon", LB_CPU_NEON, sgemm_nt_neon, quant_neon, epilogue_neon, gemv_kn_ref, none) \
  X(neon_dotprod, "neon-dotprod", LB_CPU_NEON | LB_CPU_NEON_DOTPROD, sgemm_nt_neon,         \
    quant_neon, epilogue_neon, gemv_kn_ref, none)                                           \
  X(neon_i8mm, "neon-i8mm", LB_CPU_NEON | LB_CPU_NEON_I8MM, sgemm_nt_neon, quant_neon,      \
    epilogue_neon, gemv_kn_ref, none)

#if LB_ARCH_X86
#define LB_ISA_LIST(X) LB_ISA_LIST_COMMON(X) LB_ISA_LIST_X86(X)
#elif LB_ARCH_ARM
#define LB_ISA_LIST(X) LB_ISA_LIST_COMMON(X) LB_ISA_LIST_ARM(X)
#else
#define LB_ISA_LIST(X) LB_ISA_LIST_COMMON(X)
#endif

// Prototypes of every kernel named in the list (a kernel shared by two ISAs is declared twice).
#define LB_DECLARE_KERNELS(id, name, feats, sgemm, quant, epi, gemv, u8)                      \
  extern const lb_quant_kernels quant;                                                      \
  extern const lb_epilogue_kernels epi;                                                     \
  void gemv(size_t M, size_t N, size_t K, const int16_t *a, const uint8_t *B, size_t ldb,    \
            bool b_signed, const int16_t *zb, int32_t *Y, size_t ldy);                      \
  void sgemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,      \
             size_t ldb, float *Y, size_t ldy);
LB_ISA_LIST(LB_DECLARE_KERNELS)
#undef LB_DECLARE_KERNELS

enum lb_isa_id {
#define LB_ISA_ENUM(id, ...) LB_ISA_##id,
  LB_ISA_LIST(LB_ISA_ENUM)
#undef LB_ISA_ENUM
  LB_ISA_COUNT
};

struct lb_isa_entry {
  const char *name;
  uint64_t required;
  lb_sgemm_nt_fn sgemm_nt;
  const lb_quant_kernels *quant;
  const lb_epilogue_kernels *epilogue;
  lb_gemv_kn_fn gemv_kn;
  lb_gemv_nk_fn gemv_nk;
  const lb_gemv_u8_kernels *gemv_u8;  // small M on bytes where the ISA has them (else the int16 path)
};

// The table, in LB_ISA_LIST order, and the entry in use (chosen once, overridable).
const lb_isa_entry *lb_isa_table();
const lb_isa_entry *lb_active();
// Whether the CPU and OS can run the ISA at `index` of the table.
bool lb_isa_usable_index(int index);

// ---- the GEMM kernel list (kernel_list.cpp) ----------------------------------------------
// Every GEMM kernel, in order of preference (best last), each naming its ISA: dispatch takes the
// last entry whose ISA is usable and not above the ISA in use and that serves the weights'
// dtype; the C++ tests and the bench walk the same list.
enum lb_kernel_kind {
  LB_KERNEL_RAW_I8,   // int32 out over all of K (lb_gemm_i8_kernel): the group is K, the
                      // epilogue applies zero points and scales after (matmulInteger, and int8
                      // per channel / per tensor, which keep the 8 x 3 int32 tiles of registers)
  LB_KERNEL_GROUPED,  // float out, per-group combine in registers (lb_ggemm_fn)
};
struct lb_kernel_entry {
  const char *name;   // dtypes, layout, ISA: "ggemm_u4s8_avx512vnni"
  int isa;            // lb_isa_id
  lb_kernel_kind kind;
  uint32_t dtypes;    // weight dtypes served: bit (1 << lb_dtype)
  uint16_t mr, nr, kr;  // register tile rows x columns (full tile), k per packed chunk
  uint16_t panel;     // columns per packed panel (GROUPED; RAW_I8: the kernel's n_align)
  uint8_t bits;       // GROUPED: bits per stored value (8, 4, 2); any group size, padded to kr
  const lb_gemm_i8_kernel *raw;  // RAW_I8
  lb_ggemm_fn grouped;           // GROUPED
  // GROUPED 4 / 2 bits, more than direct_m rows: the block's panels expanded to the 8-bit layout
  // (expand: `chunks` chunks of the packed panels -> 8 / bits as many 8-bit chunks), then
  // grouped_x8, an 8-bit-layout kernel of the same panel width. Null: grouped runs on all M.
  lb_ggemm_fn grouped_x8;
  void (*expand)(const uint8_t *src, size_t chunks, uint8_t *dst);
  // From signed_m rows (0: never), on weights with one zero point and groups of at most 64 or a
  // multiple of 64: expand_s8 writes U - zp as int8 and grouped_x8 runs with b_signed, for
  // every row of its block (AMX: tdpbssd, and no zero-point term in the group ends).
  void (*expand_s8)(const uint8_t *src, size_t chunks, uint8_t zp, uint8_t *dst);
  uint16_t signed_m;
  lb_wgemm_fn weight_only;       // GROUPED, compute float32 for up to wo_max_m rows (or null)
  uint16_t wo_max_m;
  uint16_t direct_m;  // GROUPED with expand: up to this many rows grouped runs unexpanded
  const char *peak;   // the peak loop (lb_measure_peak kind) that bounds it
};
// The kernels the list names (gemm_i8/, gemm_grouped/).
extern const lb_gemm_i8_kernel gemm_i8_ref;
void ggemm_u8s8_ref(const lb_ggemm_args &);
void ggemm_u4s8_ref(const lb_ggemm_args &);
void ggemm_u2s8_ref(const lb_ggemm_args &);
void wgemm_u8f32_ref(const lb_wgemm_args &);
void wgemm_u4f32_ref(const lb_wgemm_args &);
void wgemm_u2f32_ref(const lb_wgemm_args &);
#if LB_ARCH_X86
extern const lb_gemm_i8_kernel gemm_i8_avx2, gemm_i8_avxvnni, gemm_i8_avx512vnni, gemm_i8_amx;
void ggemm_u4s8_avx2(const lb_ggemm_args &);
void ggemm_u2s8_avx2(const lb_ggemm_args &);
void ggemm_u8s8_avx512vnni(const lb_ggemm_args &);
void ggemm_u8s8_amx(const lb_ggemm_args &);
void ggemm_u4s8_avx512vnni(const lb_ggemm_args &);
void ggemm_u2s8_avx512vnni(const lb_ggemm_args &);
void ggemm_x4s8_avx2(const lb_ggemm_args &);
void ggemm_u8s8_avx2(const lb_ggemm_args &);
void ggemm_u8s8_avxvnni(const lb_ggemm_args &);
void ggemm_u4s8_avxvnni(const lb_ggemm_args &);
void ggemm_u2s8_avxvnni(const lb_ggemm_args &);
void expand_u4_avx2(const uint8_t *, size_t, uint8_t *);
void expand_u2_avx2(const uint8_t *, size_t, uint8_t *);
void expand_u4_avx512(const uint8_t *, size_t, uint8_t *);
void expand_u2_avx512(const uint8_t *, size_t, uint8_t *);
void expand_s4_avx512(const uint8_t *, size_t, uint8_t, uint8_t *);
void expand_s2_avx512(const uint8_t *, size_t, uint8_t, uint8_t *);
void wgemm_u4f32_avx2(const lb_wgemm_args &);
void wgemm_u2f32_avx2(const lb_wgemm_args &);
void wgemm_u8f32_avx512(const lb_wgemm_args &);
void wgemm_u4f32_avx512(const lb_wgemm_args &);
void wgemm_u2f32_avx512(const lb_wgemm_args &);
#elif LB_ARCH_ARM
extern const lb_gemm_i8_kernel gemm_i8_neon, gemm_i8_neon_dotprod, gemm_i8_neon_i8mm;
void ggemm_u8s8_neon(const lb_ggemm_args &);
void ggemm_u4s8_neon(const lb_ggemm_args &);
void ggemm_u2s8_neon(const lb_ggemm_args &);
void ggemm_u8s8_neon_dotprod(const lb_ggemm_args &);
void ggemm_u4s8_neon_dotprod(const lb_ggemm_args &);
void wgemm_u8f32_neon(const lb_wgemm_args &);
void wgemm_u4f32_neon(const lb_wgemm_args &);
void wgemm_u2f32_neon(const lb_wgemm_args &);
void ggemm_u2s8_neon_dotprod(const lb_ggemm_args &);
#endif

int lb_kernel_count();
const lb_kernel_entry *lb_kernel_at(int i);
// The kernel of `kind` for weights of `dtype` on the ISA at `isa` (null when none serves it).
const lb_kernel_entry *lb_select_kernel(lb_kernel_kind kind, lb_dtype dtype, int isa);
// The index of the ISA in use.
int lb_active_index();

// Detection result (cpu.cpp): LB_CPU_* bits, computed once.
uint64_t lb_detect_cpu_features();

// Data cache sizes per core (cpu.cpp, from the OS; typical values where it does not say),
// for the drivers' block sizes.
struct lb_cache_sizes {
  size_t l1d, l2, l3;
};
const lb_cache_sizes &lb_caches();

// Aligned scratch memory for the drivers.
void *lb_aligned_alloc(size_t bytes);
void lb_aligned_free(void *p);
