// Parallel regions for the drivers (thread_pool.cpp). Tasks must be independent and write
// disjoint outputs: then results never depend on the thread count (SPEC §4: determinism).
#pragma once
#include <stddef.h>

#include <type_traits>

#include "lowbit.h"

typedef void (*lb_task_fn)(void *ctx, size_t task);

// A thread count for the calling thread's regions only (0: lb_get_threads() again): a
// per-call `threads` option that other threads' calls never see.
void lb_set_local_threads(size_t n);
// The threads a region started on this thread may use.
size_t lb_region_threads();
size_t lb_get_local_threads();

// A C entry point's per-call thread count (lb_call_opts.threads; 0 = the pool's) for its scope.
class lb_local_threads {
 public:
  explicit lb_local_threads(size_t n) : saved_(lb_get_local_threads()) { lb_set_local_threads(n); }
  ~lb_local_threads() { lb_set_local_threads(saved_); }
  lb_local_threads(const lb_local_threads &) = delete;
  lb_local_threads &operator=(const lb_local_threads &) = delete;

 private:
  size_t saved_;
};

// Runs fn(ctx, 0 .. n_tasks-1) on up to lb_get_threads() threads, the caller's included.
void lb_parallel_for(size_t n_tasks, lb_task_fn fn, void *ctx);

template <class F>
void lb_parallel(size_t n_tasks, F &&f) {
  using Fn = std::remove_reference_t<F>;
  lb_parallel_for(n_tasks, [](void *c, size_t t) { (*(Fn *)c)(t); }, (void *)&f);
}
