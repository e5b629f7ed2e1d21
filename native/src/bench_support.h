// The read loop behind lb_measure_read_bandwidth (bench_support.cpp), for the C bench's own
// roofs (lowbit_bench): one pass over n bytes (n % 128 == 0) with this CPU's widest plain
// loads, folded into a value the caller keeps; prefetching 512 bytes ahead, as the GEMV
// kernels do, or not (the faster of the two is the roof).
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*lb_read_loop_fn)(const uint8_t *p, size_t n);
lb_read_loop_fn lb_read_loop(bool prefetch);
