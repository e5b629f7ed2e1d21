// Benchmark support: the memory-read roof and OpenBLAS's sgemm as a float32 peer. Both are
// yardsticks for the bench, not kernels: the read loop is plain (no library tricks), and
// OpenBLAS is loaded at run time, so lowbit has no build or link dependency on it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>

#include "lowbit.h"
#include "bench_support.h"
#include "thread_pool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define LB_BS_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define LB_BS_ARM 1
#endif

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// GCC would turn nothing here into memcpy, but keep it from folding the loops: noinline.
#define LB_BS_LOOP __attribute__((noinline))

// One pass over n bytes (n % 128 == 0) folded into a value the caller keeps, so that the
// compiler cannot drop the loads. Prefetching 512 bytes ahead, as the GEMV kernels do, or not:
// the faster of the two is the roof (a kernel must not beat it merely by reading better).
template <bool kPrefetch>
LB_BS_LOOP uint64_t read_scalar(const uint8_t *p, size_t n) {
  uint64_t s[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n; i += 32) {
    if (kPrefetch) __builtin_prefetch(p + i + 512);
    for (int j = 0; j < 4; ++j) {
      uint64_t v;
      std::memcpy(&v, p + i + 8 * j, 8);
      s[j] ^= v;
    }
  }
  return s[0] ^ s[1] ^ s[2] ^ s[3];
}

#if LB_BS_X86
template <bool kPrefetch>
__attribute__((target("avx2"))) LB_BS_LOOP uint64_t read_avx2(const uint8_t *p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 128) {
    if (kPrefetch) {
      _mm_prefetch((const char *)p + i + 512, _MM_HINT_T0);
      _mm_prefetch((const char *)p + i + 576, _MM_HINT_T0);
    }
    a0 = _mm256_xor_si256(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
    a1 = _mm256_xor_si256(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
  }
  a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  return (uint64_t)(_mm256_extract_epi64(a0, 0) ^ _mm256_extract_epi64(a0, 3));
}
#endif

#if LB_BS_ARM
template <bool kPrefetch>
LB_BS_LOOP uint64_t read_neon(const uint8_t *p, size_t n) {
  uint8x16_t a0 = vdupq_n_u8(0), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 64) {
    if (kPrefetch) __builtin_prefetch(p + i + 512);
    a0 = veorq_u8(a0, vld1q_u8(p + i));
    a1 = veorq_u8(a1, vld1q_u8(p + i + 16));
    a2 = veorq_u8(a2, vld1q_u8(p + i + 32));
    a3 = veorq_u8(a3, vld1q_u8(p + i + 48));
  }
  const uint64x2_t s = vreinterpretq_u64_u8(veorq_u8(veorq_u8(a0, a1), veorq_u8(a2, a3)));
  return vgetq_lane_u64(s, 0) ^ vgetq_lane_u64(s, 1);
}
#endif

typedef uint64_t (*read_fn)(const uint8_t *, size_t);

read_fn read_for(bool prefetch) {
#if LB_BS_X86
  if (__builtin_cpu_supports("avx2")) return prefetch ? read_avx2<true> : read_avx2<false>;
#elif LB_BS_ARM
  return prefetch ? read_neon<true> : read_neon<false>;
#endif
  return prefetch ? read_scalar<true> : read_scalar<false>;
}

std::atomic<uint64_t> g_sink{0};

// ---- OpenBLAS, found at run time ----
typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int M, int N, int K,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc);
typedef void (*set_threads_fn)(int);

struct openblas {
  cblas_sgemm_fn sgemm = nullptr;
  set_threads_fn set_threads = nullptr;
  const char *why = "not looked up";
};

const openblas &find_openblas() {
  static openblas ob;
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(_WIN32)
    ob.why = "not looked up on Windows";
#else
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib",
                           "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"};
    void *lib = nullptr;
    for (const char *n : names)
      if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) {
      ob.why = "libopenblas.so.0 not found (Debian / Ubuntu: apt-get install libopenblas0)";
      return;
    }
    ob.sgemm = (cblas_sgemm_fn)dlsym(lib, "cblas_sgemm");
    ob.set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    ob.why = ob.sgemm ? nullptr : "libopenblas has no cblas_sgemm";
#endif
  });
  return ob;
}

}  // namespace

lb_read_loop_fn lb_read_loop(bool prefetch) { return read_for(prefetch); }

extern "C" {

LB_API lb_status lb_measure_read_bandwidth(size_t bytes, size_t threads, double min_seconds,
                                           double *bytes_per_second) {
  if (!bytes_per_second || bytes < 4096 || !(min_seconds >= 0 && min_seconds <= 60))
    return LB_ERR_INVALID_ARGUMENT;
  *bytes_per_second = 0;
  bytes = bytes / 4096 * 4096;
  uint8_t *buf = (uint8_t *)std::aligned_alloc(4096, bytes);
  if (!buf) return LB_ERR_OUT_OF_MEMORY;
  lb_local_threads scope(threads);
  const size_t T = lb_region_threads();
  // Chunks of at least 256 KiB, several per thread, so that every thread of the pool gets work.
  size_t chunks = T * 8;
  while (chunks > 1 && bytes / chunks < (256u << 10)) --chunks;
  const size_t part = bytes / chunks / 128 * 128;
  // First touch on the pool, as the reads will run (pages land near the threads that use them).
  lb_parallel(chunks, [&](size_t c) {
    const size_t begin = c * part, end = c + 1 < chunks ? begin + part : bytes;
    std::memset(buf + begin, (int)(c & 0xff) | 1, end - begin);
  });
  double best = 0;
  for (bool prefetch : {false, true}) {
    const read_fn rd = read_for(prefetch);
    const double start = now_s();
    int reps = 0;
    do {
      const double t0 = now_s();
      lb_parallel(chunks, [&](size_t c) {
        const size_t begin = c * part, end = c + 1 < chunks ? begin + part : bytes / 128 * 128;
        g_sink.fetch_xor(rd(buf + begin, end - begin), std::memory_order_relaxed);
      });
      const double dt = now_s() - t0;
      if (dt > 0 && (double)bytes / dt > best) best = (double)bytes / dt;
    } while (++reps < 3 || now_s() - start < min_seconds / 2);
  }
  std::free(buf);
  *bytes_per_second = best;
  return LB_OK;
}

LB_API const char *lb_openblas_missing(void) { return find_openblas().why; }

LB_API lb_status lb_openblas_sgemm_nt(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                      const float *B, size_t ldb, float *Y, size_t ldy,
                                      size_t threads) {
  const openblas &ob = find_openblas();
  if (!ob.sgemm) return LB_ERR_UNSUPPORTED_ISA;
  if (!A || !B || !Y || lda < K || ldb < K || ldy < N) return LB_ERR_INVALID_ARGUMENT;
  const size_t lim = (size_t)0x7fffffff;
  if (M > lim || N > lim || K > lim || lda > lim || ldb > lim || ldy > lim) return LB_ERR_SIZE_OVERFLOW;
  if (ob.set_threads) ob.set_threads(threads ? (int)threads : (int)lb_get_threads());
  ob.sgemm(101 /* row-major */, 111 /* A as is */, 112 /* B transposed */, (int)M, (int)N, (int)K,
           1.0f, A, (int)lda, B, (int)ldb, 0.0f, Y, (int)ldy);
  return LB_OK;
}

}  // extern "C"
