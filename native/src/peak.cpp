// Peak throughput: the table of register-only loops (one per instruction sequence, defined
// in peak/peak_<isa>.cpp), their CPU-feature gating and the timing loop.
#include <atomic>
#include <chrono>
#include <string.h>

#include "peak/peak.h"

namespace {

// Floats first, then the integer sequences from the widest emulation to the widest unit.
const lb_peak_kind *const kKinds[] = {
#if defined(__x86_64__) || defined(_M_X64)
    &lb_peak_avx2_fma,          &lb_peak_avx512_fma,        &lb_peak_avx2_maddubs,
    &lb_peak_avx2_sign_maddubs, &lb_peak_avx2_maddubs2,     &lb_peak_avxvnni_dpbusd,
    &lb_peak_avx512vnni_dpbusd, &lb_peak_amx_dpbusd,
#elif defined(__aarch64__) || defined(_M_ARM64)
    &lb_peak_neon_fmla,         &lb_peak_neon_smlal,        &lb_peak_neon_sdot,
    &lb_peak_neon_smmla,
#endif
    nullptr,  // keeps the array non-empty on other architectures
};
const int kCount = (int)(sizeof kKinds / sizeof kKinds[0]) - 1;

bool usable(int i) { return (kKinds[i]->required & ~lb_cpu_features()) == 0; }

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Where every run's result goes, so that no loop is dead code (relaxed: only the store matters).
std::atomic<double> g_sink{0};

// Seconds of one run of `iters` iterations.
double timed(const lb_peak_kind &k, uint64_t iters) {
  double t0 = now_s();
  double r = k.run(iters);
  double t = now_s() - t0;
  g_sink.store(r, std::memory_order_relaxed);
  return t;
}

}  // namespace

extern "C" {

int lb_peak_count(void) { return kCount; }

const char *lb_peak_name(int i) { return i >= 0 && i < kCount ? kKinds[i]->name : nullptr; }

int lb_peak_usable(int i) { return i >= 0 && i < kCount && usable(i); }

lb_status lb_measure_peak(const char *kind, double min_seconds, double *ops_per_second) {
  if (!kind || !ops_per_second || !(min_seconds >= 0 && min_seconds <= 60))
    return LB_ERR_INVALID_ARGUMENT;
  int i = 0;
  while (i < kCount && strcmp(kKinds[i]->name, kind) != 0) ++i;
  if (i == kCount) return LB_ERR_INVALID_ARGUMENT;
  if (!usable(i)) return LB_ERR_UNSUPPORTED_ISA;
  const lb_peak_kind &k = *kKinds[i];

  // Repetitions of about a tenth of the time asked (at least 1 ms, far above the clock's
  // resolution and the call's overhead); the first ones also wake the vector units and the
  // clock up, which is why the best repetition is the answer, not the mean.
  const double chunk = min_seconds / 10 > 1e-3 ? min_seconds / 10 : 1e-3;
  uint64_t iters = 16;
  double t = timed(k, iters);
  while (t < chunk / 4 && iters < (uint64_t(1) << 40)) {
    iters *= t > 0 && chunk / t < 64 ? 4 : 64;
    t = timed(k, iters);
  }
  if (t < chunk) iters = (uint64_t)((double)iters * (chunk / (t > 0 ? t : chunk / 1024)));
  if (iters < 1) iters = 1;

  double best = 0;
  const double start = now_s();
  for (int reps = 0; reps < 3 || now_s() - start < min_seconds; ++reps) {
    t = timed(k, iters);
    if (t > 0 && (double)iters / t > best) best = (double)iters / t;
  }
  *ops_per_second = best * k.ops_per_iter;
  return LB_OK;
}

}  // extern "C"
