// The GEMM kernel list (kernels.h, lb_kernel_entry): every kernel once, with its ISA, tile,
// dtypes and peak loop. Dispatch, the C++ tests and the bench all read this one list.
#include "kernels.h"

namespace {

constexpr uint32_t bit(lb_dtype t) { return 1u << t; }
constexpr uint32_t k8 = bit(LB_INT8) | bit(LB_UINT8);
constexpr uint32_t k4 = bit(LB_INT4) | bit(LB_UINT4) | bit(LB_NF4);
constexpr uint32_t k2 = bit(LB_INT2) | bit(LB_UINT2);

lb_kernel_entry raw(const char *name, int isa, uint16_t mr, uint16_t nr,
                              const lb_gemm_i8_kernel *k, const char *peak) {
  return {name, isa, LB_KERNEL_RAW_I8, k8, mr, nr, 64, (uint16_t)k->n_align, 8, k, nullptr, nullptr, nullptr,
          nullptr, 0, nullptr, 0, 0, peak};
}
// wo: the weight-only kernel on the same layout, used up to wo_max rows (beyond, the weights
// are dequantized a block at a time for the float32 GEMM). The AVX-512 ones beat that at every
// M measured (AMD host, nf4 g64 x 4096 x 4096: 16 rows 84 vs 29 GOPS, 64 rows 84 vs 52, 512 rows
// 85 against float32's own 79); the AVX2 ones' 2 x 1 tiles lose to it beyond a few rows (31 vs
// 79 GOPS for float32 alone at 64 rows).
// x8 / expand: the 8-bit-layout kernel and the expansion for more than direct_m rows (or null);
// expand_s8 / signed_m: its signed form (kernels.h).
lb_kernel_entry grouped(const char *name, int isa, uint32_t dtypes, uint16_t mr, uint16_t nr,
                        uint16_t panel, uint8_t bits, lb_ggemm_fn fn, lb_wgemm_fn wo, const char *peak,
                        lb_ggemm_fn x8 = nullptr, void (*expand)(const uint8_t *, size_t, uint8_t *) = nullptr,
                        uint16_t wo_max = 8, uint16_t direct_m = 4,
                        void (*expand_s8)(const uint8_t *, size_t, uint8_t, uint8_t *) = nullptr,
                        uint16_t signed_m = 0) {
  return {name, isa, LB_KERNEL_GROUPED, dtypes, mr, nr, (uint16_t)(32 / bits), panel, bits,
          nullptr, fn, x8, expand, expand_s8, signed_m, wo, (uint16_t)(wo ? wo_max : 0), direct_m, peak};
}
// The AVX-512 VNNI 4 / 2-bit kernels unpack in registers up to 8 rows (ggemm_avx512vnni.cpp).
constexpr uint16_t kZmmDirect = 8;

const lb_kernel_entry kKernels[] = {
    raw("gemm_u8s8_ref", LB_ISA_scalar, 1, 1, &gemm_i8_ref, nullptr),
    grouped("ggemm_u8s8_ref", LB_ISA_scalar, k8, 1, 4, 4, 8, ggemm_u8s8_ref, wgemm_u8f32_ref, nullptr),
    grouped("ggemm_u4s8_ref", LB_ISA_scalar, k4, 1, 4, 4, 4, ggemm_u4s8_ref, wgemm_u4f32_ref, nullptr),
    grouped("ggemm_u2s8_ref", LB_ISA_scalar, k2, 1, 4, 4, 2, ggemm_u2s8_ref, wgemm_u2f32_ref, nullptr),
#if LB_ARCH_X86
    raw("gemm_u8s8_avx2", LB_ISA_avx2, 3, 3, &gemm_i8_avx2, "avx2-vpmaddubsw-vpmaddwd-vpaddd"),
    grouped("ggemm_u8s8_avx2", LB_ISA_avx2, k8, 2, 16, 8, 8, ggemm_u8s8_avx2, nullptr,
            "avx2-vpmaddubsw-vpmaddwd-vpaddd"),
    grouped("ggemm_u4s8_avx2", LB_ISA_avx2, k4, 2, 16, 8, 4, ggemm_u4s8_avx2, wgemm_u4f32_avx2,
            "avx2-vpmaddubsw-vpmaddwd-vpaddd", ggemm_x4s8_avx2, expand_u4_avx2),
    grouped("ggemm_u2s8_avx2", LB_ISA_avx2, k2, 2, 16, 8, 2, ggemm_u2s8_avx2, wgemm_u2f32_avx2,
            "avx2-vpmaddubsw-vpmaddwd-vpaddd", ggemm_x4s8_avx2, expand_u2_avx2),
    raw("gemm_u8s8_avxvnni", LB_ISA_avxvnni, 6, 16, &gemm_i8_avxvnni, "avxvnni-vpdpbusd"),
    // The AVX2 panels (8 columns): the AVX2 weight-only kernels and expansion serve them too.
    grouped("ggemm_u8s8_avxvnni", LB_ISA_avxvnni, k8, 6, 16, 8, 8, ggemm_u8s8_avxvnni, nullptr, "avxvnni-vpdpbusd"),
    grouped("ggemm_u4s8_avxvnni", LB_ISA_avxvnni, k4, 6, 16, 8, 4, ggemm_u4s8_avxvnni, wgemm_u4f32_avx2,
            "avxvnni-vpdpbusd", ggemm_u8s8_avxvnni, expand_u4_avx2),
    grouped("ggemm_u2s8_avxvnni", LB_ISA_avxvnni, k2, 6, 16, 8, 2, ggemm_u2s8_avxvnni, wgemm_u2f32_avx2,
            "avxvnni-vpdpbusd", ggemm_u8s8_avxvnni, expand_u2_avx2),
    raw("gemm_u8s8_avx512vnni", LB_ISA_avx512vnni, 8, 48, &gemm_i8_avx512vnni, "avx512vnni-vpdpbusd"),
    grouped("ggemm_u8s8_avx512vnni", LB_ISA_avx512vnni, k8, 6, 64, 16, 8, ggemm_u8s8_avx512vnni, wgemm_u8f32_avx512,
            "avx512vnni-vpdpbusd", nullptr, nullptr, 65535),
    grouped("ggemm_u4s8_avx512vnni", LB_ISA_avx512vnni, k4, 6, 64, 16, 4, ggemm_u4s8_avx512vnni, wgemm_u4f32_avx512,
            "avx512vnni-vpdpbusd", ggemm_u8s8_avx512vnni, expand_u4_avx512, 65535, kZmmDirect),
    grouped("ggemm_u2s8_avx512vnni", LB_ISA_avx512vnni, k2, 6, 64, 16, 2, ggemm_u2s8_avx512vnni, wgemm_u2f32_avx512,
            "avx512vnni-vpdpbusd", ggemm_u8s8_avx512vnni, expand_u2_avx512, 65535, kZmmDirect),
    raw("gemm_u8s8_amx", LB_ISA_amx, 32, 32, &gemm_i8_amx, "amx-tdpbusd"),
    // The AVX-512 panels: up to 8 rows the AVX-512 VNNI tiles (fn of u4 / u2), from 32 rows
    // AMX tiles (ggemm_u8s8_amx, on expanded blocks for u4 / u2, signed ones for symmetric
    // weights), the AVX-512 GEMM tiles between.
    grouped("ggemm_u8s8_amx", LB_ISA_amx, k8, 32, 32, 16, 8, ggemm_u8s8_amx, wgemm_u8f32_avx512,
            "amx-tdpbusd", nullptr, nullptr, 65535),
    grouped("ggemm_u4s8_amx", LB_ISA_amx, k4, 32, 32, 16, 4, ggemm_u4s8_avx512vnni, wgemm_u4f32_avx512,
            "amx-tdpbusd", ggemm_u8s8_amx, expand_u4_avx512, 65535, kZmmDirect, expand_s4_avx512, 32),
    grouped("ggemm_u2s8_amx", LB_ISA_amx, k2, 32, 32, 16, 2, ggemm_u2s8_avx512vnni, wgemm_u2f32_avx512,
            "amx-tdpbusd", ggemm_u8s8_amx, expand_u2_avx512, 65535, kZmmDirect, expand_s2_avx512, 32),
#elif LB_ARCH_ARM
    raw("gemm_u8s8_neon", LB_ISA_neon, 4, 4, &gemm_i8_neon, "neon-smlal"),
    // Panels of 4 columns (the reference's layout), shared with the dotprod kernels.
    grouped("ggemm_u8s8_neon", LB_ISA_neon, k8, 2, 8, 4, 8, ggemm_u8s8_neon, wgemm_u8f32_neon, "neon-smlal"),
    grouped("ggemm_u4s8_neon", LB_ISA_neon, k4, 4, 8, 4, 4, ggemm_u4s8_neon, wgemm_u4f32_neon, "neon-smlal"),
    grouped("ggemm_u2s8_neon", LB_ISA_neon, k2, 4, 8, 4, 2, ggemm_u2s8_neon, wgemm_u2f32_neon, "neon-smlal"),
    raw("gemm_s8s8_neon_dotprod", LB_ISA_neon_dotprod, 4, 4, &gemm_i8_neon_dotprod, "neon-dotprod-sdot"),
    grouped("ggemm_u8s8_neon_dotprod", LB_ISA_neon_dotprod, k8, 4, 12, 4, 8, ggemm_u8s8_neon_dotprod,
            wgemm_u8f32_neon, "neon-dotprod-sdot"),
    grouped("ggemm_u4s8_neon_dotprod", LB_ISA_neon_dotprod, k4, 4, 12, 4, 4, ggemm_u4s8_neon_dotprod,
            wgemm_u4f32_neon, "neon-dotprod-sdot"),
    grouped("ggemm_u2s8_neon_dotprod", LB_ISA_neon_dotprod, k2, 4, 12, 4, 2, ggemm_u2s8_neon_dotprod,
            wgemm_u2f32_neon, "neon-dotprod-sdot"),
    raw("gemm_s8s8_neon_i8mm", LB_ISA_neon_i8mm, 4, 4, &gemm_i8_neon_i8mm, "neon-i8mm-smmla"),
#endif
};
constexpr int kCount = (int)(sizeof kKernels / sizeof kKernels[0]);

}  // namespace

int lb_kernel_count() { return kCount; }
const lb_kernel_entry *lb_kernel_at(int i) { return i >= 0 && i < kCount ? &kKernels[i] : nullptr; }

const lb_kernel_entry *lb_select_kernel(lb_kernel_kind kind, lb_dtype dtype, int isa) {
  for (int i = kCount - 1; i >= 0; --i) {
    const lb_kernel_entry &e = kKernels[i];
    if (e.kind == kind && (e.dtypes & bit(dtype)) && e.isa <= isa && lb_isa_usable_index(e.isa))
      return &e;
  }
  return nullptr;
}
