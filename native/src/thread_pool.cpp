// The thread pool: persistent workers, created on first use, that run the tasks of one
// parallel region at a time. Tasks are independent and write disjoint outputs, so results do
// not depend on which thread runs which task, nor on the thread count.
//
// A region started while another is running (another JS worker thread, a C caller's thread)
// does not wait for the pool: it runs its tasks serially on its own thread.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

// How long a worker keeps polling for the next region before it sleeps, and the caller for
// the last worker before it sleeps. Products on many threads take well under a millisecond,
// and one engine call is two regions (pack A, then the blocks); waking 15 sleeping workers
// through one condition variable costs tens of microseconds each time.
constexpr auto kSpin = std::chrono::microseconds(100);
constexpr size_t kMaxThreads = 1024;  // as lb_set_threads allows; state_ holds up to 65535

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls ready() for up to kSpin; true when it held.
template <class Ready>
bool spin_until(Ready ready) {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) return ready();
  }
}

class pool {
 public:
  static pool &instance() {
    static pool *p = new pool();  // never destroyed: workers may outlive static destructors
    return *p;
  }

  size_t threads() const { return threads_.load(std::memory_order_relaxed); }

  void set_threads(size_t n) {
    std::lock_guard<std::mutex> region(region_);  // not while a region runs
    threads_.store(n ? n : default_threads(), std::memory_order_relaxed);
  }

  void run(size_t n_tasks, lb_task_fn fn, void *ctx) {
    const size_t want = std::min({lb_region_threads(), kMaxThreads, n_tasks});
    std::unique_lock<std::mutex> region(region_, std::try_to_lock);
    if (want <= 1 || !region.owns_lock()) {
      for (size_t t = 0; t < n_tasks; ++t) fn(ctx, t);
      return;
    }
    start_workers(want - 1);
    {
      // Under mu_ for the sleeping workers; the release store of state_ publishes the region
      // to the polling ones.
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      n_tasks_ = n_tasks;
      next_.store(0, std::memory_order_relaxed);
      pending_.store(want - 1, std::memory_order_relaxed);
      const uint64_t generation = (state_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store(generation << 16 | (want - 1), std::memory_order_release);
    }
    wake_.notify_all();
    drain();
    if (!spin_until([&] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  pool() : threads_(default_threads()) {}

  static size_t default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n ? n : 1;
  }

  void start_workers(size_t n) {
    while (workers_.size() < n) {
      size_t index = workers_.size();
      workers_.emplace_back([this, index] { worker(index); });
      workers_.back().detach();
    }
  }

  void drain() {
    for (size_t t; (t = next_.fetch_add(1, std::memory_order_relaxed)) < n_tasks_;) fn_(ctx_, t);
  }

  void worker(size_t index) {
    uint64_t seen = 0;
    // A new region that this worker joins (workers past its count sit it out).
    auto called = [&] {
      const uint64_t st = state_.load(std::memory_order_acquire);
      return (st >> 16) != seen && index < (st & 0xFFFF);
    };
    for (;;) {
      if (!spin_until(called)) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, called);
      }
      seen = state_.load(std::memory_order_acquire) >> 16;
      drain();
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);  // the caller may be about to sleep
        done_.notify_one();
      }
    }
  }

  std::atomic<size_t> threads_;
  std::mutex region_;  // one parallel region at a time
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  lb_task_fn fn_ = nullptr;
  void *ctx_ = nullptr;
  size_t n_tasks_ = 0;
  // The region's generation (bits 16 and up) and how many workers join it (the low 16 bits;
  // kMaxThreads) in one word, so no worker pairs one region's
  // generation with another's count.
  std::atomic<uint64_t> state_{0};
  std::atomic<size_t> pending_{0}, next_{0};
};

thread_local size_t t_local_threads = 0;

}  // namespace

void lb_set_local_threads(size_t n) { t_local_threads = n; }

size_t lb_get_local_threads() { return t_local_threads; }

size_t lb_region_threads() { return t_local_threads ? t_local_threads : pool::instance().threads(); }

void lb_parallel_for(size_t n_tasks, lb_task_fn fn, void *ctx) {
  pool::instance().run(n_tasks, fn, ctx);
}

extern "C" {

size_t lb_get_threads(void) { return pool::instance().threads(); }

lb_status lb_set_threads(size_t n) {
  if (n > 1024) return LB_ERR_INVALID_ARGUMENT;
  pool::instance().set_threads(n);
  return LB_OK;
}

}  // extern "C"
