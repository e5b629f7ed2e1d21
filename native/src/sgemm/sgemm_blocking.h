// The float32 GEMM drivers (Y = A * B^T, A is M x K, B is N x K, both row-major), shared by
// the ISA files. Include after the file's `#pragma GCC target`: everything here is in an
// unnamed namespace, so each ISA file gets its own copy compiled for its target (one shared
// inline copy could be linked into a CPU without that ISA).
//
// lb_sgemm_packed, the GotoBLAS / BLIS structure, for an ISA's Kernel:
//   for each NC columns of B:  for each KC of K:  pack B's block into NR-wide panels
//     for each MC rows of A:  pack A's block into MR-tall panels
//       for each NR panel of B:  for each MR panel of A:  the MR x NR register tile
// A packed panel holds, for each k, MR (or NR) consecutive floats: the micro-kernel loads NR
// floats of B, broadcasts MR floats of A and does MR x NR / width FMAs per k. Panels are
// padded with zero rows, and edge tiles run the same kernel on a small temporary tile, so no
// scalar path. Blocks: sgemm_config.h.
//
// Sum order: for each KC block of K, every output is one chain of FMAs in k order from 0,
// acc = fma(a[k], b[k], acc), then added to Y after the first block (Y is read after the
// chain, so a miss on it does not stall the FMAs). KC depends on K and the L1 size only, never
// on M, N or the thread count, and threads take parts of M or of N, never of K: the result is
// the same for every thread count.
//
// lb_sgemm_dot, for a few rows of A (the GEMV-like shapes): dot-product tiles straight on A
// and B's rows, no packing, as each B row is used by so few rows that packing would add a
// second pass over B; memory bound there. Its sums are per-lane partial sums then a
// horizontal sum, in an order fixed by K alone.
#pragma once
#include <string.h>

#include <atomic>

#include "../kernels.h"
#include "../thread_pool.h"
#include "../tile_loop.h"
#include "sgemm_config.h"

namespace {

// Products smaller than this (multiply-adds) run on the calling thread.
constexpr double kSgemmParallelMacs = 4e6;

inline size_t lb_sgemm_min(size_t a, size_t b) { return a < b ? a : b; }

// Threads for a product of M x N x K.
inline size_t lb_sgemm_threads(size_t M, size_t N, size_t K) {
  if ((double)M * (double)N * (double)K < kSgemmParallelMacs) return 1;
  return lb_region_threads();
}

// Y = 0 (K = 0).
inline void lb_sgemm_zero(size_t M, size_t N, float *Y, size_t ldy) {
  for (size_t m = 0; m < M; ++m) memset(Y + m * ldy, 0, N * sizeof(float));
}

// ---- the dot-product driver -----------------------------------------------------------
// Tile(r, c, m, n, k0, kc): an r x c tile over K's [k0, k0 + kc), added to Y when k0 > 0.
// Threads take runs of whole tile columns.
template <int MR, int NR, class Tile>
void lb_sgemm_dot(size_t M, size_t N, size_t K, float *Y, size_t ldy, Tile &&tile) {
  if (K == 0) return lb_sgemm_zero(M, N, Y, ldy);
  // KC keeps MR rows of A in L1; NC columns of B (NC x KC) stay in L2 for the next rows.
  constexpr size_t KC = 1024, NC = 64;
  const size_t threads = lb_sgemm_threads(M, N, K);
  const size_t chunk = threads > 1 ? (N + threads - 1) / threads / NR * NR + NR : N;
  const size_t tasks = (N + chunk - 1) / chunk;
  lb_parallel(tasks, [&](size_t t) {
    const size_t n_end = lb_sgemm_min(N, (t + 1) * chunk);
    for (size_t n0 = t * chunk; n0 < n_end; n0 += NC) {
      const size_t nc = lb_sgemm_min(NC, n_end - n0);
      for (size_t k0 = 0; k0 < K; k0 += KC) {
        const size_t kc = lb_sgemm_min(KC, K - k0);
        lb_for_each_tile<MR, NR>(M, nc, [&](auto r, auto c, size_t m, size_t n) {
          tile(r, c, m, n0 + n, k0, kc);
        });
      }
    }
  });
}

// ---- packing ----------------------------------------------------------------------------
// rows x kc floats (row stride ld) -> panels of P rows, each kc x P floats (k-major), the
// rows past `rows` zero. full_panel(kc, src, ld, dst, next) packs one full panel (P rows) fast
// and may prefetch `next`, the next full panel's rows (null at the last); the last, partial
// panel is copied here.
template <size_t P, class FullPanel>
void lb_sgemm_pack(size_t rows, size_t kc, const float *src, size_t ld, float *dst,
                   FullPanel &&full_panel) {
  size_t r0 = 0;
  for (; r0 + P <= rows; r0 += P)
    full_panel(kc, src + r0 * ld, ld, dst + r0 * kc,
               r0 + 2 * P <= rows ? src + (r0 + P) * ld : nullptr);
  if (r0 < rows) {
    const size_t pr = rows - r0;
    float *d = dst + r0 * kc;
    for (size_t k = 0; k < kc; ++k) {
      for (size_t i = 0; i < pr; ++i) d[k * P + i] = src[(r0 + i) * ld + k];
      for (size_t i = pr; i < P; ++i) d[k * P + i] = 0.0f;
    }
  }
}

// ---- the packed driver ------------------------------------------------------------------
// Kernel: MR, NR; tile(kc, Ap, Bp, Y, ldy, accumulate) for a full MR x NR tile (Y = Ap x Bp,
// plus Y when accumulate, added after the chain); pack_a(kc, A, lda, Ap, next) and pack_b(kc, B, ldb, Bp, next) for
// one full panel (MR rows of A, NR rows of B; see lb_sgemm_pack).
template <class Kernel>
void lb_sgemm_packed_part(size_t M, size_t N, size_t K, const float *A, size_t lda,
                          const float *B, size_t ldb, float *Y, size_t ldy, float *Ap, float *Bp,
                          lb_sgemm_blocks bl) {
  constexpr size_t MR = Kernel::MR, NR = Kernel::NR;
  for (size_t jc = 0; jc < N; jc += bl.NC) {
    const size_t nc = lb_sgemm_min(bl.NC, N - jc);
    for (size_t pc = 0; pc < K; pc += bl.KC) {
      const size_t kc = lb_sgemm_min(bl.KC, K - pc);
      const bool accumulate = pc > 0;
      lb_sgemm_pack<NR>(nc, kc, B + jc * ldb + pc, ldb, Bp, Kernel::pack_b);
      for (size_t ic = 0; ic < M; ic += bl.MC) {
        const size_t mc = lb_sgemm_min(bl.MC, M - ic);
        lb_sgemm_pack<MR>(mc, kc, A + ic * lda + pc, lda, Ap, Kernel::pack_a);
        for (size_t jr = 0; jr < nc; jr += NR) {
          const size_t nr = lb_sgemm_min(NR, nc - jr);
          const float *Bpanel = Bp + jr * kc;
          for (size_t ir = 0; ir < mc; ir += MR) {
            const size_t mr = lb_sgemm_min(MR, mc - ir);
            float *Yt = Y + (ic + ir) * ldy + jc + jr;
            if (mr == MR && nr == NR) {
              Kernel::tile(kc, Ap + ir * kc, Bpanel, Yt, ldy, accumulate);
              continue;
            }
            // Edge: the full tile on a temporary, then its valid part to Y.
            alignas(64) float tmp[MR * NR];
            if (accumulate) {
              memset(tmp, 0, sizeof tmp);
              for (size_t i = 0; i < mr; ++i) memcpy(tmp + i * NR, Yt + i * ldy, nr * sizeof(float));
            }
            Kernel::tile(kc, Ap + ir * kc, Bpanel, tmp, NR, accumulate);
            for (size_t i = 0; i < mr; ++i) memcpy(Yt + i * ldy, tmp + i * NR, nr * sizeof(float));
          }
        }
      }
    }
  }
}

// Returns false when the packing buffers could not be had (the caller then runs lb_sgemm_dot).
template <class Kernel>
bool lb_sgemm_packed(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                     size_t ldb, float *Y, size_t ldy) {
  constexpr size_t MR = Kernel::MR, NR = Kernel::NR;
  if (K == 0) {
    lb_sgemm_zero(M, N, Y, ldy);
    return true;
  }
  // Threads take parts of N (each packs all of A, but only its part of B), or of M when M is
  // much the larger side or N has too few panels (then each packs all of B).
  const size_t threads = lb_sgemm_threads(M, N, K);
  const size_t n_panels = (N + NR - 1) / NR, m_panels = (M + MR - 1) / MR;
  size_t m_chunk = M, n_chunk = N;
  if (threads > 1) {
    if (n_panels >= threads && M < 4 * N)
      n_chunk = (n_panels + threads - 1) / threads * NR;
    else
      m_chunk = (m_panels + threads - 1) / threads * MR;
  }
  const size_t m_tasks = (M + m_chunk - 1) / m_chunk, n_tasks = (N + n_chunk - 1) / n_chunk;
  const lb_sgemm_blocks bl = lb_sgemm_block_sizes(MR, NR, m_chunk, n_chunk, K);
  std::atomic<bool> ok{true};
  lb_parallel(m_tasks * n_tasks, [&](size_t t) {
    const size_t m0 = t / n_tasks * m_chunk, n0 = t % n_tasks * n_chunk;
    float *Ap = lb_sgemm_scratch(0, bl.MC * bl.KC), *Bp = lb_sgemm_scratch(1, bl.NC * bl.KC);
    if (!Ap || !Bp) {
      ok.store(false);
      return;
    }
    lb_sgemm_packed_part<Kernel>(lb_sgemm_min(m_chunk, M - m0), lb_sgemm_min(n_chunk, N - n0), K,
                                 A + m0 * lda, lda, B + n0 * ldb, ldb, Y + m0 * ldy + n0, ldy,
                                 Ap, Bp, bl);
  });
  return ok.load();
}

}  // namespace
