// lowbit native benchmark: the integer and float32 products on every ISA this CPU has.
// No Node needed, so it runs under qemu-aarch64 and on machines without Node.
//
//   lowbit_bench [--isa NAME] [--shape MxNxK]... [--min-ms N]
// Prints one row per (shape, ISA, kernel): median time over repetitions and GOPS (2*M*N*K/s),
// and the speed-up over the scalar reference and over float32 on the same ISA.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lowbit.h"

namespace {

struct shape {
  size_t M, N, K;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of fn() over repetitions lasting at least min_s in total (at least 3 runs).
template <class F>
double median_time(F fn, double min_s) {
  fn();  // warm-up: page faults, caches
  std::vector<double> t;
  double start = now_s();
  while (t.size() < 3 || (now_s() - start < min_s && t.size() < 1000)) {
    double t0 = now_s();
    fn();
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
  std::vector<shape> shapes;
  const char *only = std::getenv("LOWBIT_ISA");
  double min_s = 0.3;
  bool with_scalar = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--isa") && i + 1 < argc) {
      only = argv[++i];
    } else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
      shape s;
      if (std::sscanf(argv[++i], "%zux%zux%zu", &s.M, &s.N, &s.K) != 3) {
        std::fprintf(stderr, "--shape wants MxNxK, got %s\n", argv[i]);
        return 2;
      }
      shapes.push_back(s);
    } else if (!std::strcmp(argv[i], "--min-ms") && i + 1 < argc) {
      min_s = std::atof(argv[++i]) / 1000.0;
    } else if (!std::strcmp(argv[i], "--no-scalar")) {
      with_scalar = false;
    } else {
      std::fprintf(stderr,
                   "usage: lowbit_bench [--isa NAME] [--shape MxNxK]... [--min-ms N] [--no-scalar]\n");
      return 2;
    }
  }
  if (shapes.empty())
    shapes = {{256, 256, 256},   {1, 4096, 4096},    {8, 4096, 4096},     {64, 4096, 4096},
              {512, 4096, 4096}, {1, 11008, 4096},   {1024, 1024, 1024}};

  std::mt19937 rng(42);
  std::printf("lowbit_bench: arch %s, ISAs:", lb_cpu_arch());
  for (int i = 0; i < lb_isa_count(); ++i)
    if (lb_isa_usable(i)) std::printf(" %s", lb_isa_name(i));
  std::printf("\n%-18s %-12s %-16s %12s %10s %10s %10s\n", "shape MxNxK", "isa", "kernel",
              "median ms", "GOPS", "vs scalar", "vs fp32");
  for (shape s : shapes) {
    std::vector<uint8_t> A(s.M * s.K);
    std::vector<int8_t> B(s.K * s.N);
    std::vector<int32_t> Y(s.M * s.N);
    std::vector<float> Af(s.M * s.K), Bf(s.N * s.K), Yf(s.M * s.N);
    for (auto &v : A) v = (uint8_t)rng();
    for (auto &v : B) v = (int8_t)rng();
    for (auto &v : Af) v = (float)(int)(rng() % 255) - 127.0f;
    for (auto &v : Bf) v = (float)(int)(rng() % 255) - 127.0f;
    const double ops = 2.0 * s.M * s.N * s.K;
    char name[48];
    std::snprintf(name, sizeof name, "%zux%zux%zu", s.M, s.N, s.K);
    double scalar_s = 0;
    for (int i = 0; i < lb_isa_count(); ++i) {
      const char *isa = lb_isa_name(i);
      if (!lb_isa_usable(i) || (only && std::strcmp(only, isa) && std::strcmp(isa, "scalar")))
        continue;
      bool is_scalar = !std::strcmp(isa, "scalar");
      if (is_scalar && (!with_scalar || ops > 2.0 * 256 * 256 * 256 * 4)) continue;  // too slow
      lb_set_isa(isa);
      double ti = median_time([&] {
        lb_matmul_integer(s.M, s.N, s.K, A.data(), LB_UINT8, s.K, B.data(), LB_INT8, LB_LAYOUT_NK,
                          s.K, nullptr, 0, nullptr, 0, Y.data(), s.N);
      }, min_s);
      double tf = median_time([&] {
        lb_sgemm_nt(s.M, s.N, s.K, Af.data(), s.K, Bf.data(), s.K, Yf.data(), s.N);
      }, min_s);
      if (is_scalar) scalar_s = ti;
      char vs_scalar[16] = "-";
      if (scalar_s > 0) std::snprintf(vs_scalar, sizeof vs_scalar, "%.1fx", scalar_s / ti);
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %9.2fx\n", name, isa, "matmul_integer",
                  ti * 1e3, ops / ti * 1e-9, vs_scalar, tf / ti);
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %10s\n", name, isa, "sgemm_f32", tf * 1e3,
                  ops / tf * 1e-9, "-", "1.00x");
      std::fflush(stdout);
    }
  }
  return 0;
}
