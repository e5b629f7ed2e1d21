// lowbit native benchmark: the integer and float32 products on every ISA this CPU has.
// No Node needed, so it runs under qemu-aarch64 and on machines without Node.
//
//   lowbit_bench [--isa NAME] [--shape MxNxK]... [--min-ms N] [--no-scalar] [--quant-only]
//                [--threads N]  (every row; 1 by default, 0 = every hardware thread)
//                [--quant-n N] [--peaks] [--blocks MCxNC] [--dram MIB] [--no-expand]
// Prints one row per (shape, ISA, kernel): median time over repetitions and GOPS (2*M*N*K/s),
// and the speed-up over the scalar reference and over float32 on the same ISA.
// After each shape's ISAs, OpenBLAS's cblas_sgemm on the same float32 operands and thread
// count when libopenblas.so.0 is installed (loaded at run time), its "vs fp32" column the
// ratio of lowbit's sgemm_f32 time (the best ISA) to OpenBLAS's.
// Then one row per (ISA, kernel) of the quantize family, single thread, on N float32
// (default 16M = 64 MiB, beyond the last-level cache): GB/s of float32 read (written, for
// dequantize), the speed-up over the scalar reference, and the fraction of a plain copy of the
// same float32 bytes with that ISA's widest vector loads and stores ("copy": the memory roof).
// Rows named _b32 use blocks of 32 along rows of 4096 (one scale per block, no zero points);
// the others one scale for the whole tensor. The quantize rows run by default, with
// --quant-only (no GEMM rows) or --quant-n; an explicit --shape without either asks for those
// GEMM shapes alone.
// --blocks fixes the int8 engine's output blocks (rows x columns, multiples of 48 suit every
// kernel) instead of sizing them from the L2: for tuning lb_gemm_block_sizes on a new CPU.
// --dram MIB (alone): GEMV rows with the weights streamed from memory (bench_dram).
// First, by default or with --peaks (alone: nothing else), the peak loops: one register-only
// loop per instruction sequence this CPU has, its best rate on one thread (GOPS: 2 per
// multiply-add; GFLOPS for the float kinds), the yardstick for a kernel's fraction of peak;
// with --threads N, N copies at once and their summed rate.
// --json FILE also writes the rows as bench/results.schema.json describes (the npm bench's field
// and kernel names; median, p10, p90 and samples of each row), for `lowbit bench --report FILE`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <ctime>

#include <dlfcn.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lowbit.h"
#include "../src/gemm_driver.h"  // --blocks: the int8 engine's block override
#include "../src/thread_pool.h"   // the bandwidth roof runs on the engine's pool
#include "../src/bench_support.h"  // the read loop of the bandwidth roofs

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define LB_BENCH_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define LB_BENCH_ARM 1
#endif

namespace {

struct shape {
  size_t M, N, K;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The seconds of repetitions: median, 10th and 90th percentiles (nearest rank), count.
struct stats {
  double median = 0, p10 = 0, p90 = 0;
  size_t n = 0;
};
// The last median_time's statistics, for the --json rows (read right after a measurement).
stats g_last;

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
  g_last = {t[t.size() / 2], t[(t.size() - 1) / 10], t[(t.size() - 1) * 9 / 10], t.size()};
  return t[t.size() / 2];
}

// ---- --json FILE: the rows in bench/results.schema.json's shape (the fields the npm bench
// writes), so `lowbit bench --report FILE` draws a machine without Node the same way.
struct json_row {
  std::string suite, kernel, isa, shape;
  size_t M = 0, N = 0, K = 0;  // 0: not a product (GB/s rows)
  stats t;
  double ops = 0, bytes = 0;   // per call
  double vs_f32 = 0, vs_blas = 0;  // 0: not measured
  bool peer = false;
};
std::vector<json_row> g_rows;
std::vector<std::pair<std::string, double>> g_peaks;  // kind, G/s on the bench's threads

void add_row(const char *suite, const char *kernel, const char *isa, const char *shape, size_t M, size_t N,
             size_t K, const stats &t, double ops, double bytes, double vs_f32, bool peer = false) {
  json_row r;
  r.suite = suite, r.kernel = kernel, r.isa = isa, r.shape = shape, r.M = M, r.N = N, r.K = K, r.t = t;
  r.ops = ops, r.bytes = bytes, r.vs_f32 = vs_f32, r.peer = peer;
  g_rows.push_back(r);
}

std::string json_str(const std::string &v) {
  std::string o = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if ((unsigned char)c < 0x20) o += ' ';
    else o += c;
  }
  return o + "\"";
}
std::string json_num(double v) {
  if (!(v > 0) || !std::isfinite(v)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

std::string read_cpuinfo(const char *key) {
  FILE *f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return "";
  char line[8192];
  std::string out;
  while (std::fgets(line, sizeof line, f)) {
    if (!std::strncmp(line, key, std::strlen(key))) {
      const char *c = std::strchr(line, ':');
      if (c) out = c + 1;
      break;
    }
  }
  std::fclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  return out;
}

bool write_json(const char *path, double min_s, size_t threads, const std::vector<std::string> &shapes,
                double elapsed, bool blas_found) {
  FILE *f = std::fopen(path, "w");
  if (!f) return false;
  std::string cpu = read_cpuinfo("model name");
  if (cpu.empty()) cpu = "unknown CPU";
  std::string flags_line = read_cpuinfo("flags");
  if (flags_line.empty()) flags_line = read_cpuinfo("Features");
  std::string flags, isas, best = "scalar";
  for (size_t i = 0; i < flags_line.size();) {
    size_t j = flags_line.find(' ', i);
    if (j == std::string::npos) j = flags_line.size();
    if (j > i) flags += (flags.empty() ? "" : ", ") + json_str(flags_line.substr(i, j - i));
    i = j + 1;
  }
  for (int i = 0; i < lb_isa_count(); ++i)
    if (lb_isa_usable(i)) isas += (isas.empty() ? "" : ", ") + json_str(lb_isa_name(i)), best = lb_isa_name(i);
  std::string shape_list;
  for (const std::string &s : shapes) shape_list += (shape_list.empty() ? "" : ", ") + json_str(s);
  char date[32];
  std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string caches;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  const struct { int name, level; const char *type; } cs[] = {{_SC_LEVEL1_DCACHE_SIZE, 1, "data"},
      {_SC_LEVEL2_CACHE_SIZE, 2, "unified"}, {_SC_LEVEL3_CACHE_SIZE, 3, "unified"}};
  for (const auto &c : cs) {
    const long b = sysconf(c.name);
    if (b > 0) caches += std::string(caches.empty() ? "" : ", ") + "{\"level\": " + std::to_string(c.level) +
                         ", \"type\": \"" + c.type + "\", \"bytes\": " + std::to_string(b) + "}";
  }
#endif
  struct utsname u;
  std::string os = uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "unknown";
  const char *blas_why = blas_found ? nullptr : "libopenblas.so.0 not found";
  std::fprintf(f, "{\n  \"schemaVersion\": 1,\n  \"generator\": \"lowbit_bench (native, no Node)\",\n  \"date\": \"%s\",\n", date);
  std::fprintf(f, "  \"options\": {\"quick\": false, \"timeMs\": %s, \"rounds\": 1, \"suites\": [\"matmulInteger\", \"int8\", \"lowbit\", \"float32\", \"quant\"], \"shapes\": [%s], \"threads\": [%zu], \"isas\": [%s]},\n",
               json_num(min_s * 1e3).c_str(), shape_list.c_str(), threads, isas.c_str());
  std::fprintf(f, "  \"machine\": {\"cpu\": %s, \"arch\": %s, \"os\": %s, \"flags\": [%s], \"cores\": %u, \"caches\": [%s], \"node\": null, \"lowbitVersion\": %s, \"isa\": %s, \"isas\": [%s], \"backend\": \"native\", \"threads\": %zu},\n",
               json_str(cpu).c_str(), json_str(lb_cpu_arch()).c_str(), json_str(os).c_str(), flags.c_str(),
               std::max(1u, std::thread::hardware_concurrency()), caches.c_str(), json_str(lb_version_string()).c_str(),
               json_str(best).c_str(), isas.c_str(), threads);
  std::fprintf(f, "  \"peaks\": [");
  for (size_t i = 0; i < g_peaks.size(); ++i)
    std::fprintf(f, "%s\n    {\"kind\": %s, \"threads\": %zu, \"gops\": %s}", i ? "," : "", json_str(g_peaks[i].first).c_str(),
                 threads, json_num(g_peaks[i].second).c_str());
  std::fprintf(f, "\n  ],\n  \"bandwidths\": [],\n  \"peers\": [{\"name\": \"OpenBLAS\", \"available\": %s, \"version\": null, \"reason\": %s}],\n  \"rows\": [",
               blas_why ? "false" : "true", blas_why ? json_str(blas_why).c_str() : "null");
  for (size_t i = 0; i < g_rows.size(); ++i) {
    const json_row &r = g_rows[i];
    const bool product = r.ops > 0;
    const double rate = (product ? r.ops : r.bytes) / r.t.median * 1e-9;
    const std::string id = r.suite + "/" + r.kernel + "/" + r.isa + "/x" + std::to_string(threads) + "/" + r.shape;
    std::fprintf(f, "%s\n    {\"id\": %s, \"suite\": %s, \"kernel\": %s, \"isa\": %s, \"threads\": %zu, \"shape\": %s, ",
                 i ? "," : "", json_str(id).c_str(), json_str(r.suite).c_str(), json_str(r.kernel).c_str(), json_str(r.isa).c_str(),
                 threads, json_str(r.shape).c_str());
    if (product) std::fprintf(f, "\"M\": %zu, \"N\": %zu, \"K\": %zu, \"unit\": \"GOPS\", ", r.M, r.N, r.K);
    else std::fprintf(f, "\"M\": null, \"N\": null, \"K\": null, \"unit\": \"GB/s\", ");
    std::fprintf(f, "\"medianMs\": %s, \"p10Ms\": %s, \"p90Ms\": %s, \"samples\": %zu, \"spread\": %.6g, ",
                 json_num(r.t.median * 1e3).c_str(), json_num(r.t.p10 * 1e3).c_str(), json_num(r.t.p90 * 1e3).c_str(), r.t.n,
                 (r.t.p90 - r.t.p10) / r.t.median);
    std::fprintf(f, "\"gops\": %s, \"gbps\": %s, \"ops\": %.17g, \"bytes\": %.17g, \"intensity\": %s, \"roof\": null, \"ofRoof\": null, ",
                 product ? json_num(rate).c_str() : "null", product ? "null" : json_num(rate).c_str(), r.ops, r.bytes,
                 product && r.bytes > 0 ? json_num(r.ops / r.bytes).c_str() : "null");
    std::fprintf(f, "\"speedupVsFloat32\": %s, \"vsOnnxruntimeFloat32\": null, \"vsOnnxruntimeInt8\": null, \"vsOnnxruntimeNBits\": null, "
                    "\"vsOnnxruntimeNBitsAcc0\": null, \"vsOpenblas\": %s, \"vsPlainJs\": null, \"peer\": %s}",
                 json_num(r.vs_f32).c_str(), json_num(r.vs_blas).c_str(), r.peer ? "true" : "false");
  }
  std::fprintf(f, "\n  ],\n  \"skipped\": [],\n  \"elapsedSeconds\": %.3f\n}\n", elapsed);
  return std::fclose(f) == 0;
}

// ---- the memory roof: a plain copy of n floats (n % 64 == 0) with each ISA's widest vectors.
// Written here, not in the library: it is the yardstick, not a kernel. GCC's loop-pattern
// recognition is off so that it does not turn a copy into a call to memcpy; the scalar ISA's
// copy moves 8-byte words, not vectorized either.
#if defined(__GNUC__) && !defined(__clang__)
#define LB_PLAIN_LOOP __attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
#define LB_SCALAR_LOOP                                                                        \
  __attribute__((noinline, optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize", \
                                    "no-tree-slp-vectorize")))
#else
#define LB_PLAIN_LOOP __attribute__((noinline))
#define LB_SCALAR_LOOP __attribute__((noinline))
#endif

LB_SCALAR_LOOP void copy_scalar(const float *src, float *dst, size_t n) {
  const uint64_t *s = (const uint64_t *)src;
  uint64_t *d = (uint64_t *)dst;
  for (size_t i = 0; i < n / 2; i += 4) {
    uint64_t a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];
    d[i] = a, d[i + 1] = b, d[i + 2] = c, d[i + 3] = e;
  }
}

#if LB_BENCH_X86
__attribute__((target("avx2"))) LB_PLAIN_LOOP void copy_avx2(const float *src, float *dst,
                                                             size_t n) {
  for (size_t i = 0; i < n; i += 32) {
    __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
    __m256 c = _mm256_loadu_ps(src + i + 16), d = _mm256_loadu_ps(src + i + 24);
    _mm256_storeu_ps(dst + i, a);
    _mm256_storeu_ps(dst + i + 8, b);
    _mm256_storeu_ps(dst + i + 16, c);
    _mm256_storeu_ps(dst + i + 24, d);
  }
}

__attribute__((target("avx512f"))) LB_PLAIN_LOOP void copy_avx512(const float *src, float *dst,
                                                                  size_t n) {
  for (size_t i = 0; i < n; i += 64) {
    __m512 a = _mm512_loadu_ps(src + i), b = _mm512_loadu_ps(src + i + 16);
    __m512 c = _mm512_loadu_ps(src + i + 32), d = _mm512_loadu_ps(src + i + 48);
    _mm512_storeu_ps(dst + i, a);
    _mm512_storeu_ps(dst + i + 16, b);
    _mm512_storeu_ps(dst + i + 32, c);
    _mm512_storeu_ps(dst + i + 48, d);
  }
}
#endif

#if LB_BENCH_ARM
LB_PLAIN_LOOP void copy_neon(const float *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    float32x4_t a = vld1q_f32(src + i), b = vld1q_f32(src + i + 4);
    float32x4_t c = vld1q_f32(src + i + 8), d = vld1q_f32(src + i + 12);
    vst1q_f32(dst + i, a);
    vst1q_f32(dst + i + 4, b);
    vst1q_f32(dst + i + 8, c);
    vst1q_f32(dst + i + 12, d);
  }
}
#endif

// The GEMV roof: the library's read loop (src/bench_support.h), plain or prefetching.

typedef void (*copy_fn)(const float *, float *, size_t);

// The copy of an ISA's vector width, by its name.
copy_fn copy_for(const char *isa) {
#if LB_BENCH_X86
  if (!std::strcmp(isa, "avx2") || !std::strcmp(isa, "avxvnni")) return copy_avx2;
  if (!std::strcmp(isa, "avx512vnni") || !std::strcmp(isa, "amx")) return copy_avx512;
#elif LB_BENCH_ARM
  if (!std::strncmp(isa, "neon", 4)) return copy_neon;
#endif
  (void)isa;
  return copy_scalar;
}

// The quantize family on n floats, one row per (ISA, kernel).
void bench_quant(size_t n, const char *only, bool with_scalar, double min_s) {
  n = (n + 4095) / 4096 * 4096;  // whole rows of 4096 for the blocked layouts
  const size_t row = 4096, block = 32;
  std::vector<float> x(n), y(n);
  std::vector<uint8_t> q8(n), q4(n / 2);
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (float &v : x) v = gauss(rng);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  const float scale8 = amax / 127.0f;
  const int32_t zp8 = 0;
  std::vector<float> scale4(n / block), scale8b(n / block);
  for (size_t b = 0; b < n / block; ++b) {
    float m = 0;
    for (size_t i = 0; i < block; ++i) m = std::max(m, std::fabs(x[b * block + i]));
    scale4[b] = m > 0 ? m / 7.0f : 1.0f;
    scale8b[b] = m > 0 ? m / 127.0f : 1.0f;
  }
  const lb_qlayout flat{1, n, 1, 0, 0}, blocked{n / row, row, 1, block, row};

  char size[32];
  std::snprintf(size, sizeof size, "%zuM f32", n >> 20);
  if (n < (1u << 20)) std::snprintf(size, sizeof size, "%zuK f32", n >> 10);
  char title[40];
  std::snprintf(title, sizeof title, "quantize, %zu thr", lb_get_threads());
  std::printf("\n%-18s %-12s %-16s %12s %10s %10s %10s\n", title, "isa", "kernel",
              "median ms", "GB/s", "vs scalar", "vs copy");
  const char *kernels[] = {"copy",         "quant_int8",       "quant_int8_b32", "quant_int4_b32",
                           "dequant_int8", "dequant_int4_b32", "minmax"};
  const int n_kernels = sizeof kernels / sizeof kernels[0];
  double scalar_t[sizeof kernels / sizeof kernels[0]] = {0};
  for (int i = 0; i < lb_isa_count(); ++i) {
    const char *isa = lb_isa_name(i);
    if (!lb_isa_usable(i) || (only && std::strcmp(only, isa) && std::strcmp(isa, "scalar")))
      continue;
    const bool is_scalar = !std::strcmp(isa, "scalar");
    if (is_scalar && !with_scalar) continue;
    lb_set_isa(isa);
    const copy_fn copy = copy_for(isa);
    double copy_t = 0;
    for (int k = 0; k < n_kernels; ++k) {
      float mn, mx;
      double t = median_time([&] {
        switch (k) {
          case 0: copy(x.data(), y.data(), n); break;
          case 1:
            lb_quantize_linear(x.data(), flat, &scale8, &zp8, 1, LB_INT8, q8.data(), n);
            break;
          case 2:
            lb_quantize_linear(x.data(), blocked, scale8b.data(), nullptr, n / block, LB_INT8,
                               q8.data(), n);
            break;
          case 3:
            lb_quantize_linear(x.data(), blocked, scale4.data(), nullptr, n / block, LB_INT4,
                               q4.data(), n / 2);
            break;
          case 4:
            lb_dequantize_linear(q8.data(), n, flat, &scale8, &zp8, 1, LB_INT8, y.data());
            break;
          case 5:
            lb_dequantize_linear(q4.data(), n / 2, blocked, scale4.data(), nullptr, n / block,
                                 LB_INT4, y.data());
            break;
          default: lb_minmax_f32(x.data(), n, &mn, &mx); break;
        }
      }, min_s);
      add_row("quant", kernels[k], isa, size, 0, 0, 0, g_last, 0, 4.0 * n, 0);
      if (k == 0) copy_t = t;
      if (is_scalar) scalar_t[k] = t;
      char vs_scalar[16] = "-";
      if (scalar_t[k] > 0) std::snprintf(vs_scalar, sizeof vs_scalar, "%.1fx", scalar_t[k] / t);
      std::printf("%-18s %-12s %-16s %12.3f %10.2f %10s %9.2fx\n", size, isa, kernels[k], t * 1e3,
                  4.0 * n / t * 1e-9, vs_scalar, copy_t / t);
      std::fflush(stdout);
    }
  }
}

// The peak loops, one row per kind: best rate over repetitions lasting min_s in total. On
// T > 1 threads, T copies start together and the row is the sum of their rates: the ceiling
// of a T-thread product, all-core clock included (its ratio to one thread is the most that
// T threads can scale).
void bench_peaks(double min_s, size_t threads) {
  char title[48];
  std::snprintf(title, sizeof title, "peak loop, %zu thread%s", threads, threads > 1 ? "s" : "");
  std::printf("\n%-44s %12s\n", title, "G/s");
  for (int i = 0; i < lb_peak_count(); ++i) {
    const char *kind = lb_peak_name(i);
    if (!lb_peak_usable(i)) {
      std::printf("%-44s %12s  (this CPU lacks it)\n", kind, "-");
      continue;
    }
    std::vector<double> rate(threads, 0.0);
    std::atomic<size_t> ready{0};
    auto one = [&](size_t t) {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      if (lb_measure_peak(kind, min_s, &rate[t]) != LB_OK) rate[t] = 0;
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(one, t);
    one(0);
    for (auto &th : pool) th.join();
    double ops = 0;
    for (double r : rate) ops += r;
    if (ops <= 0) continue;
    const size_t len = std::strlen(kind);
    const bool is_float = (len > 2 && !std::strcmp(kind + len - 2, "ps")) ||
                          (len > 4 && !std::strcmp(kind + len - 4, "fmla"));
    std::printf("%-44s %12.1f  %s\n", kind, ops * 1e-9, is_float ? "GFLOPS" : "GOPS");
    g_peaks.push_back({kind, ops * 1e-9});
    std::fflush(stdout);
  }
}

// ---- OpenBLAS's cblas_sgemm, the float32 yardstick: loaded at run time (no build
// dependency), on the bench's thread count. Null when libopenblas is not installed.
typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int M, int N, int K,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc);
cblas_sgemm_fn openblas_sgemm(size_t threads) {
  static void *lib = [] {
    void *l = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    return l ? l : dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
  }();
  if (!lib) return nullptr;
  typedef void (*set_threads_fn)(int);
  if (auto set = (set_threads_fn)dlsym(lib, "openblas_set_num_threads")) set((int)threads);
  return (cblas_sgemm_fn)dlsym(lib, "cblas_sgemm");
}

}  // namespace

// --dram MIB: GEMV with the weights streamed from memory, as a model's layers are: distinct
// copies of one shape's weights, MIB MiB in all (well past the last-level cache), one product
// per copy in turn; the median over rounds of the time per product, and the weights' bytes per
// second against the best plain read of the same copies in the same order.
void bench_dram(shape s, size_t mib, double min_s) {
  std::mt19937 rng(7);
  std::vector<float> X(s.M * s.K), Y(s.M * s.N);
  for (auto &v : X) v = (float)(int)(rng() % 255) - 127.0f;
  struct fmt {
    const char *name;
    lb_dtype t;
    int bits;
    size_t G;
    lb_compute compute;
  } fmts[] = {{"dram_f32", (lb_dtype)0, 32, 0, LB_COMPUTE_FLOAT32},
              {"dram_w8a8", LB_INT8, 8, 0, LB_COMPUTE_INT8},
              {"dram_w4a8_g32", LB_INT4, 4, 32, LB_COMPUTE_INT8},
              {"dram_w2a8_g32", LB_INT2, 2, 32, LB_COMPUTE_INT8},
              {"dram_nf4_g64_f32", LB_NF4, 4, 64, LB_COMPUTE_FLOAT32}};
  char name[48];
  std::snprintf(name, sizeof name, "%zux%zux%zu", s.M, s.N, s.K);
  for (const fmt &f : fmts) {
    const size_t groups = f.G ? (s.K + f.G - 1) / f.G : 1, row = (s.K * f.bits + 7) / 8;
    const double bytes = (double)s.N * row + (f.G ? 2.0 * s.N * groups : 0);
    const size_t copies = std::max<size_t>(2, (size_t)((double)mib * 1048576.0 / bytes));
    std::vector<std::vector<uint8_t>> raw(copies);
    std::vector<lb_packed_weights *> packed;
    for (auto &r : raw) {
      r.resize(s.N * row);
      for (auto &v : r) v = (uint8_t)rng();
      if (f.bits == 32)
        for (size_t i = 0; i < s.N * s.K; ++i) ((float *)r.data())[i] = (float)(int8_t)r[i] * 0.01f;
      if (f.bits == 8)
        for (auto &v : r) v = v == 0x80 ? 0x81 : v;
      if (f.bits == 32) continue;
      std::vector<uint16_t> scales(s.N * groups, 0x2000);
      const float one = 0.01f;
      lb_weights_desc d{f.t, s.N, s.K, r.data(), LB_LAYOUT_NK, row, f.G,
                        f.G ? (const void *)scales.data() : (const void *)&one,
                        f.G ? LB_SCALE_F16 : LB_SCALE_F32, f.G ? scales.size() : 1, nullptr};
      lb_packed_weights *P = nullptr;
      if (lb_prepack(&d, &P) != LB_OK) break;
      packed.push_back(P);
      r.clear();
      r.shrink_to_fit();
    }
    if (f.bits != 32 && packed.size() != copies) {
      std::printf("%-18s %-12s %-16s skipped: prepack failed\n", name, lb_get_isa(), f.name);
      for (auto *P : packed) lb_packed_free(P);
      continue;
    }
    const lb_call_opts o{8, f.compute, 0};
    const double t = median_time([&] {
      for (size_t c = 0; c < copies; ++c) {
        if (f.bits == 32)
          lb_sgemm_nt(s.M, s.N, s.K, X.data(), s.K, (const float *)raw[c].data(), s.K, Y.data(), s.N);
        else
          lb_linear_f32(s.M, X.data(), s.K, packed[c], nullptr, &o, Y.data(), s.N);
      }
    }, min_s) / (double)copies;
    std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %10s   %.1f GB/s of weights, %zu copies, %.0f MiB\n", name,
                lb_get_isa(), f.name, t * 1e3, 2.0 * s.M * s.N * s.K / t * 1e-9, "-", "-", bytes / t * 1e-9, copies,
                bytes * (double)copies / 1048576.0);
    for (auto *P : packed) lb_packed_free(P);
  }
  // The roof: one plain read of as many bytes, MIB MiB of distinct buffers, on the pool.
  std::vector<uint8_t> buf((size_t)mib << 20, 1);
  volatile uint64_t sink = 0;
  double tr = 1e30;
  for (bool prefetch : {false, true}) {
    const lb_read_loop_fn rd = lb_read_loop(prefetch);
    tr = std::min(tr, median_time([&] {
      const size_t T = lb_get_threads(), nb = buf.size() / 128 * 128, part = nb / T / 128 * 128;
      lb_parallel(T, [&](size_t t) { sink = sink + rd(buf.data() + t * part, t + 1 < T ? part : nb - t * part); });
    }, min_s));
  }
  std::printf("%-18s %-12s %-16s %12.3f %9.1f GB/s read from memory (%zu MiB)\n", name, lb_get_isa(), "read_dram",
              tr * 1e3, (double)buf.size() / tr * 1e-9, mib);
}

int main(int argc, char **argv) {
  std::vector<shape> shapes;
  const char *only = std::getenv("LOWBIT_ISA");
  double min_s = 0.3;
  bool with_scalar = true, quant_only = false, peaks = false;
  size_t quant_n = 0, threads = 1, dram_mib = 0;  // every row runs on --threads (1 unless asked)
  const char *json_path = nullptr;
  const double t_start = now_s();
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
    } else if (!std::strcmp(argv[i], "--blocks") && i + 1 < argc) {
      size_t mc = 0, nc = 0;
      if (std::sscanf(argv[++i], "%zux%zu", &mc, &nc) != 2 || !mc || !nc) {
        std::fprintf(stderr, "--blocks wants MCxNC (rows x columns of an output block), got %s\n",
                     argv[i]);
        return 2;
      }
      lb_gemm_set_block_override(mc, nc);
    } else if (!std::strcmp(argv[i], "--min-ms") && i + 1 < argc) {
      min_s = std::atof(argv[++i]) / 1000.0;
    } else if (!std::strcmp(argv[i], "--no-scalar")) {
      with_scalar = false;
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--no-expand")) {
      lb_ggemm_set_expand(false);  // the grouped engine unpacks in the row tiles at every M
    } else if (!std::strcmp(argv[i], "--dram") && i + 1 < argc) {
      dram_mib = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      json_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--quant-only")) {
      quant_only = true;
    } else if (!std::strcmp(argv[i], "--peaks")) {
      peaks = true;
    } else if (!std::strcmp(argv[i], "--quant-n") && i + 1 < argc) {
      quant_n = std::strtoull(argv[++i], nullptr, 10);
      if (quant_n == 0) {
        std::fprintf(stderr, "--quant-n wants a positive number of floats, got %s\n", argv[i]);
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "usage: lowbit_bench [--isa NAME] [--shape MxNxK]... [--min-ms N] [--no-scalar]"
                   " [--quant-only] [--quant-n N] [--threads N (0 = all)] [--peaks]"
                   " [--blocks MCxNC] [--dram MIB] [--no-expand] [--json FILE]\n");
      return 2;
    }
  }
  lb_set_threads(threads);
  if (dram_mib) {  // alone: the DRAM-resident GEMV rows on the best ISA (or LOWBIT_ISA / --isa)
    if (only && lb_set_isa(only) != LB_OK) return 2;
    if (shapes.empty()) shapes = {{1, 4096, 4096}, {1, 11008, 4096}};
    for (shape s : shapes) bench_dram(s, dram_mib, min_s);
    return 0;
  }
  const bool asked_other = !shapes.empty() || quant_only || quant_n;
  const bool run_peaks = peaks || !asked_other, peaks_only = peaks && !asked_other;
  const bool run_quant = !peaks_only && (shapes.empty() || quant_only || quant_n);
  if (quant_only || peaks_only)
    shapes.clear();
  else if (shapes.empty())
    shapes = {{256, 256, 256},   {1, 4096, 4096},    {8, 4096, 4096},     {64, 4096, 4096},
              {512, 4096, 4096}, {1, 11008, 4096},   {1024, 1024, 1024}};

  std::mt19937 rng(42);
  std::printf("lowbit_bench: arch %s, ISAs:", lb_cpu_arch());
  for (int i = 0; i < lb_isa_count(); ++i)
    if (lb_isa_usable(i)) std::printf(" %s", lb_isa_name(i));
  std::printf("\n");
  if (run_peaks) bench_peaks(min_s, lb_get_threads());
  if (run_peaks && !shapes.empty()) std::printf("\n");
  if (!shapes.empty())
    std::printf("%-18s %-12s %-16s %12s %10s %10s %10s\n", "shape MxNxK", "isa", "kernel",
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
    double scalar_s = 0, sgemm_s = 0;  // sgemm_s: lowbit's float32 on the last (best) ISA
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
      const stats st_i = g_last;
      // The ONNX layout: B as K x N, repacked inside every call.
      const double ti_kn = median_time([&] {
        lb_matmul_integer(s.M, s.N, s.K, A.data(), LB_UINT8, s.K, B.data(), LB_INT8, LB_LAYOUT_KN,
                          s.N, nullptr, 0, nullptr, 0, Y.data(), s.N);
      }, min_s);
      const stats st_kn = g_last;
      double tf = median_time([&] {
        lb_sgemm_nt(s.M, s.N, s.K, Af.data(), s.K, Bf.data(), s.K, Yf.data(), s.N);
      }, min_s);
      const stats st_f = g_last;
      if (!is_scalar) sgemm_s = tf;
      // The quantized linear layer on prepacked weights (float in, float out, activations
      // quantized per row inside the call), with 8-bit and 7-bit activations.
      // Weights as symmetric quantization makes them: in [-127, 127].
      std::vector<int8_t> Bs(B);
      for (auto &v : Bs) v = v == -128 ? -127 : v;
      double tl[3] = {0, 0, 0};
      stats st_l[3];
      const float w_scale = 0.01f;
      lb_weights_desc d8{LB_INT8, s.N, s.K, Bs.data(), LB_LAYOUT_NK, s.K, 0, &w_scale, LB_SCALE_F32, 1, nullptr};
      lb_packed_weights *W = nullptr, *Wi = nullptr;
      if (lb_prepack(&d8, &W) == LB_OK) {
        for (int bits = 8; bits >= 7; --bits) {
          const lb_call_opts o{bits, LB_COMPUTE_INT8, 0};
          tl[8 - bits] = median_time([&] {
            lb_linear_f32(s.M, Af.data(), s.K, W, nullptr, &o, Yf.data(), s.N);
          }, min_s);
          st_l[8 - bits] = g_last;
        }
        lb_packed_free(W);
      }
      d8.scale = nullptr;
      if (lb_prepack(&d8, &Wi) == LB_OK) {
        // The same product on int8 activations already in [-127, 127] with an int32 result:
        // the engine without the float side (quantizing X, the float epilogue).
        std::vector<int8_t> As(s.M * s.K);
        for (size_t i = 0; i < As.size(); ++i) As[i] = (int8_t)(A[i] == 0x80 ? 0x81 : A[i]);
        tl[2] = median_time([&] {
          lb_matmul_integer_packed(s.M, As.data(), LB_INT8, s.K, nullptr, 0, Wi, nullptr, Y.data(), s.N);
        }, min_s);
        st_l[2] = g_last;
        lb_packed_free(Wi);
      }
      // Weights on the grouped engine: blocked int8, symmetric int4 and ternary int2 in groups of 32
      // with binary16 scales (int4: 4.5 bits per weight, ggml Q4_0's size; and groups of 128), and
      // nf4 in groups of 64, weight-only. The weights' bytes per second (data and scales) are printed too.
      struct lowbit_row {
        const char *name;
        lb_dtype t;
        int bits, qmax;
        size_t G;
        lb_compute compute;
      } rows[] = {{"linear_w8a8_g32", LB_INT8, 8, 127, 32, LB_COMPUTE_INT8},  // blocked int8
                  {"linear_w4a8_g32", LB_INT4, 4, 7, 32, LB_COMPUTE_INT8},
                  {"linear_w4a8_g128", LB_INT4, 4, 7, 128, LB_COMPUTE_INT8},  // GPTQ / AWQ's group
                  {"linear_w2a8_g32", LB_INT2, 2, 1, 32, LB_COMPUTE_INT8},
                  {"linear_w4_g32_f32", LB_INT4, 4, 7, 32, LB_COMPUTE_FLOAT32},  // weight-only int4
                  {"linear_nf4_g64_f32", LB_NF4, 4, 15, 64, LB_COMPUTE_FLOAT32}};
      double t4 = 0, b4 = 0;  // int4's time and bytes, for the read_weights row
      for (const lowbit_row &r : rows) {
        if (is_scalar && r.compute == LB_COMPUTE_FLOAT32) continue;
        const size_t groups = (s.K + r.G - 1) / r.G, row_bytes = (s.K * r.bits + 7) / 8;
        std::vector<uint8_t> packed(s.N * row_bytes);
        for (auto &v : packed) {
          unsigned byte = 0;
          for (int t = 0; t < 8 / r.bits; ++t) {
            const int q = r.t == LB_NF4 ? (int)(rng() % 16) : (int)(rng() % (2 * r.qmax + 1)) - r.qmax;
            byte |= (unsigned)(q & ((1 << r.bits) - 1)) << (t * r.bits);
          }
          v = (uint8_t)byte;
        }
        std::vector<uint16_t> scales(s.N * groups, 0x2000);  // 2^-7
        lb_weights_desc d{r.t, s.N, s.K, packed.data(), LB_LAYOUT_NK, row_bytes, r.G, scales.data(),
                          LB_SCALE_F16, scales.size(), nullptr};
        lb_packed_weights *P = nullptr;
        const double tp = median_time([&] {
          lb_packed_free(P);
          P = nullptr;
          lb_prepack(&d, &P);
        }, min_s / 4);
        if (!P) continue;
        const lb_call_opts o{8, r.compute, 0};
        const double t = median_time([&] { lb_linear_f32(s.M, Af.data(), s.K, P, nullptr, &o, Yf.data(), s.N); }, min_s);
        const double bytes = (double)packed.size() + 2.0 * scales.size();
        // The npm bench's kernel names: linear_* there is matmul_*.
        add_row("lowbit", (std::string("matmul_") + (r.name + 7)).c_str(), isa, name, s.M, s.N, s.K, g_last, ops,
                bytes + 4.0 * (s.M * s.K + s.M * s.N), tf / t);
        if (r.t == LB_INT4 && r.G == 32) t4 = t, b4 = bytes;
        std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %9.2fx   %s, %.1f GB/s of weights, prepack %.1f ms\n", name, isa,
                    r.name, t * 1e3, ops / t * 1e-9, "-", tf / t, lb_packed_kernel(P), bytes / t * 1e-9, tp * 1e3);
        lb_packed_free(P);
      }
      if (is_scalar) scalar_s = ti;
      char vs_scalar[16] = "-";
      if (scalar_s > 0) std::snprintf(vs_scalar, sizeof vs_scalar, "%.1fx", scalar_s / ti);
      add_row("matmulInteger", "matmulInteger", isa, name, s.M, s.N, s.K, st_i, ops,
              (double)s.M * s.K + (double)s.K * s.N + 4.0 * s.M * s.N, tf / ti);
      add_row("matmulInteger", "matmulInteger_kn", isa, name, s.M, s.N, s.K, st_kn, ops,
              (double)s.M * s.K + (double)s.K * s.N + 4.0 * s.M * s.N, tf / ti_kn);
      add_row("float32", "sgemm_f32", isa, name, s.M, s.N, s.K, st_f, ops, 4.0 * (s.M * s.K + s.N * s.K + s.M * s.N), 0);
      {
        const char *kn[3] = {"matmul_w8a8", "matmul_w8a7", "matmulIntegerPacked_int8"};
        for (int j = 0; j < 3; ++j)
          if (tl[j] > 0)
            add_row(j < 2 ? "int8" : "matmulInteger", kn[j], isa, name, s.M, s.N, s.K, st_l[j], ops,
                    (double)s.N * s.K + (j < 2 ? 4.0 * (s.M * s.K + s.M * s.N) + 4.0 * s.N : (double)s.M * s.K + 4.0 * s.M * s.N), tf / tl[j]);
      }
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %9.2fx\n", name, isa, "matmul_integer",
                  ti * 1e3, ops / ti * 1e-9, vs_scalar, tf / ti);
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %9.2fx\n", name, isa, "matmul_integer_kn",
                  ti_kn * 1e3, ops / ti_kn * 1e-9, "-", tf / ti_kn);
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %10s\n", name, isa, "sgemm_f32", tf * 1e3,
                  ops / tf * 1e-9, "-", "1.00x");
      const char *linear_rows[3] = {"linear_w8a8", "linear_w8a7", "int8_packed"};
      for (int j = 0; j < 3; ++j)
        if (tl[j] > 0)
          std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %9.2fx\n", name, isa, linear_rows[j],
                      tl[j] * 1e3, ops / tl[j] * 1e-9, "-", tf / tl[j]);
      // Small M streams the weights: their bytes per second against the best plain read of
      // the same bytes on this thread count (in cache or not, as the weights are).
      if (s.M <= 4 && tl[0] > 0) {
        volatile uint64_t sink = 0;
        const size_t nb = Bs.size() / 128 * 128;
        double tr = 1e30;
        for (bool prefetch : {false, true}) {
          const lb_read_loop_fn rd = lb_read_loop(prefetch);
          tr = std::min(tr, median_time([&] {
            // On the engine's own pool, as the products run: threads spawned per call would
            // cost more than a 2 ms read.
            const size_t T = lb_get_threads(), part = nb / T / 128 * 128;
            lb_parallel(T, [&](size_t t) {
              sink = sink + rd((const uint8_t *)Bs.data() + t * part, t + 1 < T ? part : nb - t * part);
            });
          }, min_s));
        }
        const double bytes = (double)s.N * s.K;
        std::printf("%-18s %-12s %-16s %12.3f %9.1f GB/s read; weights: w8a8 %.1f GB/s (%.0f%%), "
                    "w8a7 %.1f GB/s (%.0f%%), w4a8 %.1f GB/s (%.0f%%)\n", name, isa, "read_weights", tr * 1e3,
                    bytes / tr * 1e-9, bytes / tl[0] * 1e-9, 100 * tr / tl[0], bytes / tl[1] * 1e-9,
                    100 * tr / tl[1], t4 ? b4 / t4 * 1e-9 : 0.0, t4 ? 100 * (b4 / t4) / (bytes / tr) : 0.0);
      }
      std::fflush(stdout);
    }
    // OpenBLAS sgemm on the same operands (row-major, B transposed), same thread count;
    // "vs fp32": lowbit's sgemm_f32 time over OpenBLAS's (below 1: lowbit is faster).
    if (cblas_sgemm_fn ob = openblas_sgemm(lb_get_threads())) {
      const double to = median_time([&] {
        ob(101 /* row-major */, 111 /* A as is */, 112 /* B^T */, (int)s.M, (int)s.N, (int)s.K,
           1.0f, Af.data(), (int)s.K, Bf.data(), (int)s.K, 0.0f, Yf.data(), (int)s.N);
      }, min_s);
      add_row("float32", "openblas_sgemm", "openblas", name, s.M, s.N, s.K, g_last, ops,
              4.0 * (s.M * s.K + s.N * s.K + s.M * s.N), sgemm_s > 0 ? sgemm_s / to : 0, true);
      // vsOpenblas on the rows of the best ISA (the last measured) of this shape.
      for (json_row &r : g_rows)
        if (r.shape == name && !r.peer && r.isa == lb_get_isa()) r.vs_blas = to / r.t.median;
      char ratio[16] = "-";
      if (sgemm_s > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", sgemm_s / to);
      std::printf("%-18s %-12s %-16s %12.3f %10.1f %10s %10s\n", name, "openblas", "openblas_sgemm",
                  to * 1e3, ops / to * 1e-9, "-", ratio);
    } else {
      std::printf("%-18s %-12s %-16s skipped: libopenblas not found\n", name, "openblas",
                  "openblas_sgemm");
    }
    std::fflush(stdout);
  }
  if (run_quant) bench_quant(quant_n ? quant_n : (size_t)16 << 20, only, with_scalar, min_s);
  if (json_path) {
    std::vector<std::string> names;
    for (shape s : shapes) names.push_back(std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K));
    if (!write_json(json_path, min_s, lb_get_threads(), names, now_s() - t_start, openblas_sgemm(lb_get_threads()) != nullptr)) {
      std::fprintf(stderr, "lowbit_bench: cannot write %s\n", json_path);
      return 1;
    }
    std::printf("\nwrote %s (bench/results.schema.json; lowbit bench --report %s draws it)\n", json_path, json_path);
  }
  return 0;
}
