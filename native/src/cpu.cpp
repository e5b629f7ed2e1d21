// CPU feature detection: what the CPU has *and* what the OS lets us use.
#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "kernels.h"

#if LB_ARCH_X86
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace {

struct cpuid_regs {
  unsigned a, b, c, d;
};

cpuid_regs cpuid(unsigned leaf, unsigned sub) {
  cpuid_regs r{0, 0, 0, 0};
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

// XCR0: which register states the OS saves on a context switch.
unsigned long long xgetbv0() {
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

// Linux hands out the 8 KiB AMX tile state only on request (kernel >= 5.16).
bool request_amx_permission() {
#if defined(__linux__)
  const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
  return false;
#endif
}

}  // namespace

uint64_t lb_detect_cpu_features() {
  uint64_t f = 0;
  unsigned max_leaf = cpuid(0, 0).a;
  cpuid_regs l1 = cpuid(1, 0);
  bool osxsave = (l1.c >> 27) & 1, avx = (l1.c >> 28) & 1, fma = (l1.c >> 12) & 1, f16c = (l1.c >> 29) & 1;
  if (!osxsave || !avx || max_leaf < 7) return 0;
  unsigned long long xcr0 = xgetbv0();
  bool os_ymm = (xcr0 & 0x6) == 0x6;
  bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;
  bool os_amx = (xcr0 & 0x60000) == 0x60000;
  cpuid_regs l7 = cpuid(7, 0), l7s1 = cpuid(7, 1);
  bool avx2 = (l7.b >> 5) & 1;
  bool avx512 = ((l7.b >> 16) & 1) && ((l7.b >> 30) & 1) && ((l7.b >> 31) & 1);  // F, BW, VL
  bool avx512vnni = (l7.c >> 11) & 1;
  bool amx = ((l7.d >> 24) & 1) && ((l7.d >> 25) & 1);  // AMX-TILE, AMX-INT8
  bool avxvnni = (l7s1.a >> 4) & 1;
  // F16C: every AVX2 CPU has it; the grouped kernels widen binary16 scales with it.
  if (os_ymm && avx2 && fma && f16c) f |= LB_CPU_AVX2;
  if (os_ymm && avx2 && fma && f16c && avxvnni) f |= LB_CPU_AVXVNNI;
  if (os_zmm && avx512) f |= LB_CPU_AVX512F;
  if (os_zmm && avx512 && avx512vnni) f |= LB_CPU_AVX512VNNI;
  if (os_amx && amx && request_amx_permission()) f |= LB_CPU_AMX_INT8;
  return f;
}

#elif LB_ARCH_ARM
#if defined(__linux__)
#include <sys/auxv.h>
#endif

uint64_t lb_detect_cpu_features() {
  uint64_t f = LB_CPU_NEON;  // AdvSIMD is mandatory on AArch64
#if defined(__linux__)
  const unsigned long HWCAP_ASIMDDP_BIT = 1ul << 20, HWCAP2_I8MM_BIT = 1ul << 13;
  unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  if (hw & HWCAP_ASIMDDP_BIT) f |= LB_CPU_NEON_DOTPROD;
  if (hw2 & HWCAP2_I8MM_BIT) f |= LB_CPU_NEON_I8MM;
#elif defined(__APPLE__)
  f |= LB_CPU_NEON_DOTPROD;  // every Apple arm64 CPU (M1 on) has dotprod; i8mm is not probed
#endif
  return f;
}

#else
uint64_t lb_detect_cpu_features() { return 0; }
#endif

void *lb_aligned_alloc(size_t bytes) {
  void *p = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Large buffers (packed weights, the engine's scratch) on 2 MiB pages where the kernel's
  // transparent huge pages allow it: a fresh 8 MiB buffer took 2048 page faults of 4 KiB
  // otherwise, which in a VM guest cost more than packing it (AMD host guest, a 4096 x 4096
  // int4 prepack: 48-160 ms on fresh memory against 7 ms on reused memory).
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes >= 2 * kHuge) {
    const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
    if (posix_memalign(&p, kHuge, rounded) != 0) return nullptr;
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without it the memory still works
    return p;
  }
#endif
  size_t rounded = (bytes + 63) & ~size_t(63);
  if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) return nullptr;
  return p;
}

void lb_aligned_free(void *p) { free(p); }

const lb_cache_sizes &lb_caches() {
  // sysconf reports 0 or -1 where it does not know (common on Arm, in containers): then the
  // sizes of a typical current core. l3 is the whole cache, shared by the cores.
  static const lb_cache_sizes c = [] {
    auto get = [](int name, size_t fallback) {
      long v = sysconf(name);
      return v > 0 ? (size_t)v : fallback;
    };
#ifdef _SC_LEVEL1_DCACHE_SIZE
    return lb_cache_sizes{get(_SC_LEVEL1_DCACHE_SIZE, 32 << 10), get(_SC_LEVEL2_CACHE_SIZE, 1 << 20),
                          get(_SC_LEVEL3_CACHE_SIZE, 8 << 20)};
#else
    return lb_cache_sizes{32 << 10, 1 << 20, 8 << 20};
#endif
  }();
  return c;
}
