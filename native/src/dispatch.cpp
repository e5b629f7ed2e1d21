// The dispatch table: one row per ISA, chosen once at first use, overridable for tests.
#include <atomic>
#include <string.h>

#include "kernels.h"

namespace {

const lb_isa_entry kTable[LB_ISA_COUNT] = {
// gemv_nk: the ISA's own where it has one (named after the gemv_kn kernel), else the reference.
#define LB_GEMV_NK_gemv_kn_ref gemv_nk_ref
#define LB_GEMV_NK_gemv_kn_avx2 gemv_nk_avx2
// gemv_u8: "none", or the name of the ISA's lb_gemv_u8_kernels.
#define LB_GEMV_U8_none nullptr
#define LB_GEMV_U8_gemv_u8_ref &gemv_u8_ref
#define LB_GEMV_U8_gemv_u8_avxvnni &gemv_u8_avxvnni
#define LB_GEMV_U8_gemv_u8_avx512vnni &gemv_u8_avx512vnni
#define LB_GEMV_U8_gemv_u8_amx &gemv_u8_amx
#define LB_ISA_ROW(id, name, feats, sgemm, quant, epi, gemv, u8) \
  {name, feats, sgemm, &quant, &epi, gemv, LB_GEMV_NK_##gemv, LB_GEMV_U8_##u8},
    LB_ISA_LIST(LB_ISA_ROW)
#undef LB_ISA_ROW
};

uint64_t features() {
  static const uint64_t f = lb_detect_cpu_features();
  return f;
}

bool usable(int i) { return (kTable[i].required & ~features()) == 0; }

const lb_isa_entry *best() {
  for (int i = LB_ISA_COUNT - 1; i > 0; --i)
    if (usable(i)) return &kTable[i];
  return &kTable[0];
}

std::atomic<const lb_isa_entry *> g_active{nullptr};

}  // namespace

const lb_isa_entry *lb_isa_table() { return kTable; }

bool lb_isa_usable_index(int i) { return i >= 0 && i < LB_ISA_COUNT && usable(i); }

int lb_active_index() { return (int)(lb_active() - kTable); }

const lb_isa_entry *lb_active() {
  const lb_isa_entry *e = g_active.load(std::memory_order_acquire);
  if (!e) {
    const lb_isa_entry *expected = nullptr;
    g_active.compare_exchange_strong(expected, best());
    e = g_active.load(std::memory_order_acquire);
  }
  return e;
}

extern "C" {

uint32_t lb_abi_version(void) { return LB_ABI_VERSION; }

const char *lb_version_string(void) { return "0.1.0"; }

const char *lb_status_string(lb_status s) {
  switch (s) {
    case LB_OK: return "ok";
    case LB_ERR_INVALID_ARGUMENT: return "invalid argument";
    case LB_ERR_UNSUPPORTED_ISA: return "ISA not supported on this CPU";
    case LB_ERR_OUT_OF_MEMORY: return "out of memory";
    case LB_ERR_SIZE_OVERFLOW: return "size overflow";
  }
  return "unknown status";
}

uint64_t lb_cpu_features(void) { return features(); }

const char *lb_cpu_feature_name(uint64_t bit) {
  switch (bit) {
    case LB_CPU_AVX2: return "avx2";
    case LB_CPU_AVXVNNI: return "avxvnni";
    case LB_CPU_AVX512F: return "avx512f";
    case LB_CPU_AVX512VNNI: return "avx512vnni";
    case LB_CPU_AMX_INT8: return "amx";
    case LB_CPU_NEON: return "neon";
    case LB_CPU_NEON_DOTPROD: return "dotprod";
    case LB_CPU_NEON_I8MM: return "i8mm";
  }
  return nullptr;
}

const char *lb_cpu_arch(void) {
#if LB_ARCH_X86
  return "x86_64";
#elif LB_ARCH_ARM
  return "aarch64";
#else
  return "other";
#endif
}

int lb_isa_count(void) { return LB_ISA_COUNT; }

const char *lb_isa_name(int i) { return i >= 0 && i < LB_ISA_COUNT ? kTable[i].name : nullptr; }

int lb_isa_usable(int i) { return i >= 0 && i < LB_ISA_COUNT && usable(i); }

const char *lb_get_isa(void) { return lb_active()->name; }

lb_status lb_set_isa(const char *name) {
  if (!name) return LB_ERR_INVALID_ARGUMENT;
  for (int i = 0; i < LB_ISA_COUNT; ++i) {
    if (strcmp(kTable[i].name, name) != 0) continue;
    if (!usable(i)) return LB_ERR_UNSUPPORTED_ISA;
    g_active.store(&kTable[i], std::memory_order_release);
    return LB_OK;
  }
  return LB_ERR_UNSUPPORTED_ISA;
}

}  // extern "C"
