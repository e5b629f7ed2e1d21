// lowbit native tests: every kernel family on every ISA this CPU has, against the scalar
// references, bit for bit (integer; the quantize family, floats included) or within a float
// tolerance (the float32 baseline); the C ABI's quantize / dequantize also against a
// per-element reference written here.
//
// Fresh random seed each run (printed); LOWBIT_SEED=<n> replays one. LOWBIT_ISA=<name> limits
// the run to one ISA. ISAs the CPU lacks are skipped with the reason printed.
// Ends with "lowbit_test: N passed, N failed, N skipped"; exits non-zero on any failure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "lowbit.h"
#include "../src/gemm_driver.h"  // kernels are tested directly against the references
#include "../src/formats.h"
#include "../src/kernels.h"
#include "../src/sgemm/sgemm_config.h"  // block override for the float32 GEMM tests
#include "../src/thread_pool.h"  // the pool itself (test_thread_pool)

namespace {

int g_passed = 0, g_failed = 0, g_skipped = 0;
std::mt19937_64 g_rng;

void check(bool ok, const std::string &what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failed;
    std::printf("  FAIL %s\n", what.c_str());
  }
}

// Bit-identical floats (memcmp must not see the null data of an empty vector).
bool same_floats(const float *a, const float *b, size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(float)) == 0; }

size_t rand_below(size_t n) { return n ? (size_t)(g_rng() % n) : 0; }

enum class fill { random, max_magnitude, zero, constant, alternating };
const char *fill_name(fill f) {
  switch (f) {
    case fill::random: return "random";
    case fill::max_magnitude: return "extreme";
    case fill::zero: return "zero";
    case fill::constant: return "constant";
    case fill::alternating: return "alternating";
  }
  return "?";
}

// Bytes of an 8-bit tensor of type t; `extreme` is the value of largest product magnitude.
void fill_bytes(uint8_t *p, size_t n, lb_dtype t, fill f) {
  const uint8_t extreme = t == LB_UINT8 ? 255 : 0x80;  // 255 or -128
  const uint8_t other = t == LB_UINT8 ? 0 : 0x7F;      // 0 or 127
  const uint8_t c = (uint8_t)g_rng();
  for (size_t i = 0; i < n; ++i) {
    switch (f) {
      case fill::random: p[i] = (uint8_t)g_rng(); break;
      case fill::max_magnitude: p[i] = extreme; break;
      case fill::zero: p[i] = 0; break;
      case fill::constant: p[i] = c; break;
      case fill::alternating: p[i] = (i & 1) ? extreme : other; break;
    }
  }
}

const char *dtype_name(lb_dtype t) {
  switch (t) {
    case LB_INT8: return "s8";
    case LB_UINT8: return "u8";
    case LB_INT4: return "int4";
    case LB_UINT4: return "uint4";
    case LB_INT2: return "int2";
    case LB_UINT2: return "uint2";
    case LB_NF4: return "nf4";
  }
  return "?";
}

struct shape {
  size_t M, N, K;
};

// One lb_matmul_integer call on the active ISA against the reference. Buffers are offset by
// `misalign` bytes and rows padded, so kernels never see the caller's alignment or strides.
// call_threads: through lb_matmul_integer_opts with that many threads (0: lb_matmul_integer).
bool run_case(shape s, lb_dtype at, lb_dtype bt, lb_layout layout, int zp_mode, fill fa, fill fb,
              size_t misalign, std::string *why, size_t call_threads = 0) {
  const size_t lda = s.K + rand_below(3), ldy = s.N + rand_below(3);
  const size_t ldb = (layout == LB_LAYOUT_KN ? s.N : s.K) + rand_below(3);
  const size_t b_rows = layout == LB_LAYOUT_KN ? s.K : s.N;
  std::vector<uint8_t> A(s.M * lda + misalign + 1), B(b_rows * ldb + misalign + 1);
  fill_bytes(A.data(), A.size(), at, fa);
  fill_bytes(B.data(), B.size(), bt, fb);
  // zp_mode: 0 none, 1 per tensor, 2 per row / column, 3 per tensor at the extreme opposite.
  std::vector<uint8_t> azp(s.M + 1), bzp(s.N + 1);
  fill_bytes(azp.data(), azp.size(), at, fill::random);
  fill_bytes(bzp.data(), bzp.size(), bt, fill::random);
  if (zp_mode == 3) {
    azp[0] = at == LB_UINT8 ? 0 : 0x7F;
    bzp[0] = bt == LB_UINT8 ? 0 : 0x7F;
  }
  const void *azp_p = zp_mode ? azp.data() : nullptr, *bzp_p = zp_mode ? bzp.data() : nullptr;
  const size_t azp_n = zp_mode == 2 ? s.M : 1, bzp_n = zp_mode == 2 ? s.N : 1;

  std::vector<int32_t> got(s.M * ldy + 2, 0x5A5A5A5A), want(s.M * ldy + 2, 0x5A5A5A5A);
  // int32 output deliberately misaligned too (by one element).
  int32_t *yg = got.data() + (misalign & 1), *yw = want.data() + (misalign & 1);
  lb_call_opts opts{};
  opts.threads = call_threads;
  lb_status st = call_threads ? lb_matmul_integer_opts(s.M, s.N, s.K, A.data() + misalign, at, lda, B.data() + misalign,
                                                       bt, layout, ldb, azp_p, azp_n, bzp_p, bzp_n, &opts, yg, ldy)
                              : lb_matmul_integer(s.M, s.N, s.K, A.data() + misalign, at, lda, B.data() + misalign,
                                                  bt, layout, ldb, azp_p, azp_n, bzp_p, bzp_n, yg, ldy);
  lb_status sr = lb_matmul_integer_ref(s.M, s.N, s.K, A.data() + misalign, at, lda,
                                       B.data() + misalign, bt, layout, ldb, azp_p, azp_n, bzp_p,
                                       bzp_n, yw, ldy);
  if (st != LB_OK || sr != LB_OK) {
    *why = std::string("status ") + lb_status_string(st) + " / ref " + lb_status_string(sr);
    return false;
  }
  for (size_t m = 0; m < s.M; ++m)
    for (size_t n = 0; n < s.N; ++n)
      if (yg[m * ldy + n] != yw[m * ldy + n]) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "Y[%zu,%zu] = %d, reference %d", m, n, yg[m * ldy + n],
                      yw[m * ldy + n]);
        *why = buf;
        return false;
      }
  if (std::memcmp(got.data(), want.data(), got.size() * sizeof(int32_t)) != 0) {
    *why = "wrote outside Y's M x N elements (row padding or past the end)";
    return false;
  }
  return true;
}

void test_matmul_integer(const char *isa) {
  const shape fixed[] = {{0, 5, 7},   {3, 0, 4},     {2, 3, 0},     {1, 1, 1},    {1, 17, 1},
                         {1, 1, 129}, {5, 7, 9},     {17, 33, 65},  {31, 45, 127}, {33, 35, 200},
                         {1, 300, 513}, {64, 64, 64}, {3, 4, 63},    {48, 48, 192}, {4, 19, 1000},
                         {8, 70, 33},  {2, 1000, 5},  {7, 65, 2},    {6, 31, 1},    {8, 16, 4},
                         {20, 130, 200}, {9, 70, 130}, {16, 65, 257}, {20, 37, 0}, {40, 300, 130}};
  // 64 x 64 transpose tiles and both edges (K x N; 40 x 300: rows of tiles walked along, on AVX2
  // one thread packs beyond 32 rows); 9-16 rows: the byte kernels in passes;
  // K = 0 beyond 16 rows: B packed whole or block by block, with nothing in it.
  const lb_dtype types[] = {LB_UINT8, LB_INT8};
  const fill fills[] = {fill::random, fill::max_magnitude, fill::zero, fill::constant,
                        fill::alternating};
  int cases = 0, bad = 0;
  std::string first_bad;
  auto one = [&](shape s, lb_dtype at, lb_dtype bt, lb_layout lay, int zp, fill fa, fill fb) {
    std::string why;
    size_t misalign = rand_below(4);
    ++cases;
    if (!run_case(s, at, bt, lay, zp, fa, fb, misalign, &why)) {
      if (!bad++) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "matmul_integer[%s] M=%zu N=%zu K=%zu A=%s B=%s %s zp=%d fill=%s/%s "
                      "misalign=%zu: %s",
                      isa, s.M, s.N, s.K, dtype_name(at), dtype_name(bt),
                      lay == LB_LAYOUT_KN ? "KxN" : "NxK", zp, fill_name(fa), fill_name(fb),
                      misalign, why.c_str());
        first_bad = buf;
      }
    }
  };
  // Every fixed shape x dtype pair x layout x zero-point mode x value pattern.
  for (shape s : fixed)
    for (lb_dtype at : types)
      for (lb_dtype bt : types)
        for (lb_layout lay : {LB_LAYOUT_KN, LB_LAYOUT_NK})
          for (int zp = 0; zp < 4; ++zp)
            for (fill f : fills) one(s, at, bt, lay, zp, f, f);
  // Random shapes with random patterns.
  for (int i = 0; i < 200; ++i) {
    shape s{1 + rand_below(40), 1 + rand_below(70), 1 + rand_below(300)};
    one(s, types[rand_below(2)], types[rand_below(2)], rand_below(2) ? LB_LAYOUT_KN : LB_LAYOUT_NK,
        (int)rand_below(4), fills[rand_below(5)], fills[rand_below(5)]);
  }
  check(bad == 0, first_bad + " (" + std::to_string(bad) + " of " + std::to_string(cases) +
                      " cases differ)");
  std::printf("  matmul_integer[%s]: %d cases, %d differ from the reference\n", isa, cases, bad);
}

// Small M on 2 and 3 threads, against the reference: K x N with the rows of B split across
// threads (partial sums added afterwards), N x K in column blocks; 13 rows: two passes of the
// byte kernels where the ISA has them; 70 and 128 rows: AMX's K x N kernel (kn_many) in column
// blocks, packing B beyond.
void test_small_m_threads(const char *isa) {
  const shape shapes[] = {{3, 2000, 1100}, {1, 4100, 1500}, {8, 1200, 2100}, {13, 900, 2600}, {70, 700, 900}, {128, 333, 515}};
  const lb_dtype types[] = {LB_UINT8, LB_INT8};
  const fill fills[] = {fill::random, fill::max_magnitude, fill::alternating};
  const size_t saved = lb_get_threads();
  int cases = 0, bad = 0;
  std::string first_bad;
  for (shape s : shapes)
    for (size_t threads : {(size_t)2, (size_t)3})
      for (lb_layout layout : {LB_LAYOUT_KN, LB_LAYOUT_NK}) {
        lb_set_threads(threads);
        const lb_dtype at = types[rand_below(2)], bt = types[rand_below(2)];
        const int zp = (int)rand_below(4);
        const fill f = fills[rand_below(3)];
        std::string why;
        ++cases;
        if (!run_case(s, at, bt, layout, zp, f, f, rand_below(4), &why) && !bad++)
          first_bad = std::string("small M ") + (layout == LB_LAYOUT_KN ? "KxN" : "NxK") + " [" + isa + "] " + std::to_string(s.M) + "x" + std::to_string(s.N) +
                      "x" + std::to_string(s.K) + " on " + std::to_string(threads) + " threads: " + why;
      }
  // The same products with the pool at one thread and 3 asked for per call
  // (lb_matmul_integer_opts), which leaves the pool's setting as it was.
  lb_set_threads(1);
  for (shape s : shapes) {
    std::string why;
    ++cases;
    if (!run_case(s, LB_UINT8, LB_INT8, LB_LAYOUT_KN, 2, fill::random, fill::random, 1, &why, 3) && !bad++)
      first_bad = std::string("per-call threads [") + isa + "] " + std::to_string(s.M) + "x" + std::to_string(s.N) + "x" +
                  std::to_string(s.K) + ": " + why;
  }
  check(lb_get_threads() == 1, "lb_matmul_integer_opts left the pool's thread count as it was");
  lb_call_opts too_many{};
  too_many.threads = 1025;
  int32_t y = 0;
  const uint8_t one = 1;
  check(lb_matmul_integer_opts(1, 1, 1, &one, LB_UINT8, 1, &one, LB_INT8, LB_LAYOUT_KN, 1, nullptr, 0, nullptr, 0,
                               &too_many, &y, 1) == LB_ERR_INVALID_ARGUMENT,
        "lb_matmul_integer_opts refuses more than 1024 threads");
  lb_set_threads(saved);
  check(bad == 0, first_bad);
  std::printf("  small M KxN and NxK on 2 and 3 threads, and 3 per call[%s]: %d cases, %d differ from the reference\n", isa, cases, bad);
}

// kn_many (K x N from 9 rows) against the reference: rows around its tiles (AMX: 16, pairs of
// 32; AVX-512: 6) up to many_rows, columns around its 64-column strips and 256-column chunks,
// K around its 64-row k-blocks and 256-row slabs (0 included), with the padding it asks for
// (a's extra rows zero, P's and S's extra rows and columns filled with a marker) and nothing
// past M x N compared; B misaligned, strides padded.
void test_gemv_u8_many(const char *isa, const lb_gemv_u8_kernels &kern) {
  const size_t Ms[] = {9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128};
  const size_t Ns[] = {1, 63, 64, 65, 255, 256, 257, 300, 513}, Ks[] = {0, 1, 4, 63, 64, 65, 255, 256, 257, 300, 600};
  const fill fills[] = {fill::random, fill::max_magnitude, fill::zero, fill::constant, fill::alternating};
  int cases = 0, bad = 0;
  std::string first;
  for (int it = 0; it < 160; ++it) {
    size_t M = it % 4 ? Ms[rand_below(15)] : 9 + rand_below(kern.many_rows - 8);
    if (M > kern.many_rows) M = kern.many_rows;
    const size_t N = it % 5 ? Ns[rand_below(9)] : 1 + rand_below(600), K = it % 6 ? Ks[rand_below(11)] : rand_below(900);
    const bool a_u8 = rand_below(2), with_s = rand_below(3) != 0;
    const uint8_t flip = rand_below(2) ? 0x80 : 0;
    const fill fa = fills[rand_below(5)], fb = fills[rand_below(5)];
    const size_t Mp = lb_round_up(M, kern.m_pad), Np = lb_round_up(N, kern.n_pad);
    const size_t lda = lb_round_up(K, 64) + 64 * rand_below(2), ldb = N + rand_below(3), ldp = lb_round_up(Np, 16) + 16 * rand_below(2);
    const size_t misalign = rand_below(4);
    std::vector<uint8_t> a(Mp * lda + 1, 0), B(K * ldb + misalign + 1);
    for (size_t m = 0; m < M; ++m) fill_bytes(a.data() + m * lda, K, a_u8 ? LB_UINT8 : LB_INT8, fa);
    fill_bytes(B.data(), B.size(), rand_below(2) ? LB_UINT8 : LB_INT8, fb);
    int32_t *got = (int32_t *)lb_aligned_alloc(Mp * ldp * sizeof(int32_t)), *gs = (int32_t *)lb_aligned_alloc(Np * sizeof(int32_t));
    for (size_t i = 0; i < Mp * ldp; ++i) got[i] = 0x5A5A5A5A;
    for (size_t i = 0; i < Np; ++i) gs[i] = 0x5A5A5A5A;
    std::vector<int32_t> want(M * N), ws(N);
    kern.kn_many(M, N, K, a.data(), lda, a_u8, B.data() + misalign, ldb, flip, got, ldp, with_s ? gs : nullptr);
    gemv_u8_ref.kn(M, N, K, a.data(), lda, a_u8, B.data() + misalign, ldb, flip, want.data(), N, with_s ? ws.data() : nullptr);
    bool p_ok = true, s_ok = true;
    for (size_t m = 0; m < M; ++m) p_ok = p_ok && !memcmp(got + m * ldp, want.data() + m * N, N * sizeof(int32_t));
    if (with_s) s_ok = !memcmp(gs, ws.data(), N * sizeof(int32_t));
    lb_aligned_free(got);
    lb_aligned_free(gs);
    ++cases;
    if ((!p_ok || !s_ok) && !bad++) {
      char buf[240];
      std::snprintf(buf, sizeof buf, "gemv_u8 kn_many[%s] M=%zu N=%zu K=%zu a_u8=%d flip=%d S=%d fill=%s/%s: %s", isa, M, N,
                    K, (int)a_u8, flip != 0, (int)with_s, fill_name(fa), fill_name(fb), !p_ok ? "P differs" : "S differs");
      first = buf;
    }
  }
  check(bad == 0, first);
  std::printf("  gemv_u8 kn_many[%s]: %d cases against the reference, %d differ\n", isa, cases, bad);
}

// The byte kernels of small M (lb_gemv_u8_kernels) against their reference, both layouts: P
// and S bit for bit, every row count up to 8, columns around the 64-column blocks, K around the
// 8-row groups, 16-row tile steps, 32-row sweeps and 64-byte steps (0 included), both
// signednesses and flips, values at the extremes; a's rows zero past K as the driver leaves
// them, strides padded, B misaligned. The last 16 cases are K x N, 5 to 8 rows and wide (11000
// columns and more), for the AMX kernel's column chunks.
void test_gemv_u8(const char *isa, const lb_gemv_u8_kernels &kern) {
  const size_t Ns[] = {1, 15, 63, 64, 65, 130, 200}, Ks[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 129, 300};
  const fill fills[] = {fill::random, fill::max_magnitude, fill::zero, fill::constant, fill::alternating};
  int cases = 0, bad = 0;
  std::string first;
  for (int it = 0; it < 416; ++it) {
    const bool wide = it >= 400;
    const size_t M = wide ? 5 + it % 4 : 1 + it % 8, N = wide ? 11000 + rand_below(1000) : it % 5 ? Ns[rand_below(7)] : 1 + rand_below(300);
    const size_t K = wide ? 1 + rand_below(70) : it % 7 ? Ks[rand_below(16)] : rand_below(700);
    const bool kn = wide || it & 1, a_u8 = rand_below(2), with_s = wide ? it % 2 : rand_below(4) != 0;
    const uint8_t flip = rand_below(2) ? 0x80 : 0;
    const fill fa = fills[rand_below(5)], fb = fills[rand_below(5)];
    const size_t lda = (K + 63) / 64 * 64 + 64 * rand_below(2), ldb = (kn ? N : K) + rand_below(3), ldp = N + rand_below(3);
    const size_t misalign = rand_below(4);
    std::vector<uint8_t> a(M * lda + 1, 0), B((kn ? K : N) * ldb + misalign + 1);
    for (size_t m = 0; m < M; ++m) fill_bytes(a.data() + m * lda, K, a_u8 ? LB_UINT8 : LB_INT8, fa);
    fill_bytes(B.data(), B.size(), rand_below(2) ? LB_UINT8 : LB_INT8, fb);
    std::vector<int32_t> got(M * ldp, 0x5A5A5A5A), want(M * ldp, 0x5A5A5A5A), gs(N + 1, 0x5A5A5A5A), ws(N + 1, 0x5A5A5A5A);
    (kn ? kern.kn : kern.nk)(M, N, K, a.data(), lda, a_u8, B.data() + misalign, ldb, flip, got.data(), ldp,
                             with_s ? gs.data() : nullptr);
    (kn ? gemv_u8_ref.kn : gemv_u8_ref.nk)(M, N, K, a.data(), lda, a_u8, B.data() + misalign, ldb, flip,
                                          want.data(), ldp, with_s ? ws.data() : nullptr);
    ++cases;
    if (got != want || gs != ws) {
      if (!bad++) {
        char buf[240];
        std::snprintf(buf, sizeof buf, "gemv_u8[%s] %s M=%zu N=%zu K=%zu a_u8=%d flip=%d S=%d fill=%s/%s: %s", isa,
                      kn ? "KxN" : "NxK", M, N, K, (int)a_u8, flip != 0, (int)with_s, fill_name(fa), fill_name(fb),
                      got != want ? "P differs" : "S differs");
        first = buf;
      }
    }
  }
  check(bad == 0, first);
  std::printf("  gemv_u8[%s]: %d cases against the reference, %d differ\n", isa, cases, bad);
  if (kern.kn_many) test_gemv_u8_many(isa, kern);
}

// The int16 small-M kernels (kernels.h, gemv_kn / gemv_nk: AVX2, AVX-VNNI) against their
// reference, bit for bit: every row count up to 8 (K x N, as the driver runs it, to 48), columns around the 16-column strips, K
// around the kernels' row pairs and 16-row groups (0 included), a at the extremes (|a| <= 255
// as the driver gives it) and B's zero points or none, strides padded, B misaligned, and Y's
// padding left alone.
void test_gemv_kn(const char *isa, lb_gemv_kn_fn kn, lb_gemv_nk_fn nk) {
  const size_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 64, 100}, Ks[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 64, 129};
  int cases = 0, bad = 0;
  std::string first;
  for (int it = 0; it < 300; ++it) {
    const size_t M = it % 10 == 9 ? 9 + rand_below(40) : 1 + it % 8, N = it % 5 ? Ns[rand_below(9)] : 1 + rand_below(300);
    const size_t K = it % 7 ? Ks[rand_below(12)] : rand_below(500);
    const bool is_kn = it & 1 || M > 8, b_signed = rand_below(2), with_zb = rand_below(2);
    const int amode = (int)rand_below(3);  // random, +255 / -255 only, zero
    const size_t ldb = (is_kn ? N : K) + rand_below(3), ldy = N + rand_below(3), misalign = rand_below(4);
    std::vector<int16_t> a(M * K), zb(N);
    for (auto &v : a) v = amode == 2 ? 0 : amode == 1 ? (rand_below(2) ? 255 : -255) : (int16_t)((int)rand_below(511) - 255);
    std::vector<uint8_t> B((is_kn ? K : N) * ldb + misalign + 1);
    fill_bytes(B.data(), B.size(), b_signed ? LB_INT8 : LB_UINT8, rand_below(2) ? fill::random : fill::max_magnitude);
    for (auto &z : zb) z = (int16_t)(b_signed ? (int)rand_below(256) - 128 : (int)rand_below(256));
    std::vector<uint32_t> asum(M, 0);
    for (size_t m = 0; m < M; ++m)
      for (size_t k = 0; k < K; ++k) asum[m] += (uint32_t)(int32_t)a[m * K + k];
    std::vector<int32_t> got(M * ldy, 0x5A5A5A5A), want(M * ldy, 0x5A5A5A5A);
    const int16_t *z = with_zb ? zb.data() : nullptr;
    const uint8_t *b = B.data() + misalign;
    if (is_kn) {
      kn(M, N, K, a.data(), b, ldb, b_signed, z, got.data(), ldy);
      gemv_kn_ref(M, N, K, a.data(), b, ldb, b_signed, z, want.data(), ldy);
    } else {
      nk(M, N, K, a.data(), b, ldb, b_signed, z, asum.data(), got.data(), ldy);
      gemv_nk_ref(M, N, K, a.data(), b, ldb, b_signed, z, asum.data(), want.data(), ldy);
    }
    ++cases;
    if (got != want && !bad++) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "gemv_kn[%s] %s M=%zu N=%zu K=%zu b_signed=%d zb=%d a=%d: Y differs", isa,
                    is_kn ? "KxN" : "NxK", M, N, K, (int)b_signed, (int)with_zb, amode);
      first = buf;
    }
  }
  check(bad == 0, first);
  std::printf("  gemv_kn / gemv_nk[%s]: %d cases against the reference, %d differ\n", isa, cases, bad);
}

// The exact answer for K equal products p: K * p modulo 2^32. Checks the reference itself
// and every kernel where the int32 sum wraps (K > 33025 at the extreme product).
void test_wraparound(const char *isa) {
  const size_t K = 70001;
  struct {
    lb_dtype at, bt;
    uint8_t a, b, za, zb;
  } cases[] = {
      {LB_UINT8, LB_INT8, 255, 0x80, 0, 0},      // 255 * -128
      {LB_UINT8, LB_UINT8, 255, 0, 0, 255},      // 255 * -255
      {LB_INT8, LB_INT8, 0x80, 0x80, 0x7F, 0x7F}, // -255 * -255
      {LB_INT8, LB_UINT8, 0x7F, 255, 0x80, 0},   // 255 * 255
  };
  for (auto &c : cases) {
    std::vector<uint8_t> A(2 * K, c.a), B(K * 3, c.b);
    int32_t Y[6];
    int pa = (c.at == LB_INT8 ? (int)(int8_t)c.a : c.a) - (c.at == LB_INT8 ? (int)(int8_t)c.za : c.za);
    int pb = (c.bt == LB_INT8 ? (int)(int8_t)c.b : c.b) - (c.bt == LB_INT8 ? (int)(int8_t)c.zb : c.zb);
    const int32_t want = (int32_t)((uint32_t)K * (uint32_t)(pa * pb));
    lb_status st = lb_matmul_integer(2, 3, K, A.data(), c.at, K, B.data(), c.bt, LB_LAYOUT_KN, 3,
                                     &c.za, 1, &c.zb, 1, Y, 3);
    int32_t ref[6];
    lb_matmul_integer_ref(2, 3, K, A.data(), c.at, K, B.data(), c.bt, LB_LAYOUT_KN, 3, &c.za, 1,
                          &c.zb, 1, ref, 3);
    bool ok = st == LB_OK;
    for (int i = 0; i < 6; ++i) ok = ok && Y[i] == want && ref[i] == want;
    char buf[200];
    std::snprintf(buf, sizeof buf, "wraparound[%s] K=%zu product %d: got %d, ref %d, want %d", isa,
                  K, pa * pb, Y[0], ref[0], want);
    check(ok, buf);
  }
}

// Runs lb_sgemm_nt on random operands with row strides K + 1 and K + 3 (Y's N + 2) and
// checks every output against the exact sum within a float32 error bound. Returns the first
// failure ("" if none) and leaves Y in *out.
std::string sgemm_check(const char *isa, shape s, std::vector<float> *out = nullptr) {
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  const size_t lda = s.K + 1, ldb = s.K + 3, ldy = s.N + 2;
  std::vector<float> A(s.M * lda + 1), B(s.N * ldb + 1), Y(s.M * ldy, NAN);
  for (float &v : A) v = gauss(g_rng);
  for (float &v : B) v = gauss(g_rng);
  lb_sgemm_nt(s.M, s.N, s.K, A.data() + 1, lda, B.data() + 1, ldb, Y.data(), ldy);
  std::string first;
  for (size_t m = 0; m < s.M && first.empty(); ++m)
    for (size_t n = 0; n < s.N; ++n) {
      double exact = 0, mag = 0;
      for (size_t k = 0; k < s.K; ++k) {
        double p = (double)A[1 + m * lda + k] * B[1 + n * ldb + k];
        exact += p;
        mag += std::fabs(p);
      }
      // float32 summation error bound ~ K * eps * sum|p|; use a loose multiple of it.
      double tol = 1e-6 + 4.0 * (double)s.K * 6e-8 * mag;
      if (!(std::fabs(Y[m * ldy + n] - exact) <= tol)) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "sgemm[%s] M=%zu N=%zu K=%zu Y[%zu,%zu]=%g exact %g", isa,
                      s.M, s.N, s.K, m, n, Y[m * ldy + n], exact);
        first = buf;
        break;
      }
    }
  if (out) *out = std::move(Y);
  return first;
}

void test_sgemm(const char *isa) {
  const shape shapes[] = {{1, 1, 1},     {3, 4, 8},      {5, 7, 9},      {17, 33, 65},
                          {1, 300, 513}, {2, 3, 0},      {31, 97, 1100}, {64, 64, 64},
                          {7, 101, 2049}, {32, 16, 256}, {45, 50, 300},  {100, 1, 77},
                          {40, 33, 1},   {40, 33, 0}};
  std::string first;
  for (shape s : shapes)
    if (std::string e = sgemm_check(isa, s); first.empty()) first = e;
  check(first.empty(), first.empty() ? std::string("sgemm[") + isa + "] shapes" : first);

  // Small blocks (MC, NC and KC far below the shapes, none a multiple of the others), so the
  // packed driver crosses every block edge: rows and columns not multiples of the tile, a
  // last K block of 1, single rows and columns, K = 1 and K = 0.
  lb_sgemm_set_block_override(13, 37, 40);
  const shape edgy[] = {{37, 53, 97},  {33, 1, 81},   {1, 70, 33},  {47, 45, 1},
                        {35, 40, 0},   {61, 29, 121}, {32, 96, 80}, {200, 5, 41}};
  first.clear();
  for (shape s : edgy)
    if (std::string e = sgemm_check(isa, s); first.empty()) first = e;
  check(first.empty(), first.empty() ? std::string("sgemm[") + isa + "] small blocks" : first);
  lb_sgemm_set_block_override(0, 0, 0);

  // Threads split M or N, never K: 1 and 3 threads give the same bits, with the default blocks
  // and with small ones; shapes above the threading threshold, wide (N split), tall (M split)
  // and few-row (the dot-product path).
  const size_t saved = lb_get_threads();
  const shape big[] = {{100, 203, 300}, {600, 30, 300}, {5, 1001, 1000}, {64, 517, 130}};
  bool same = true;
  std::string what = std::string("sgemm[") + isa + "] 1 and 3 threads give the same bits";
  for (int small = 0; small < 2; ++small) {
    lb_sgemm_set_block_override(small ? 25 : 0, small ? 70 : 0, small ? 64 : 0);
    for (shape s : big) {
      std::vector<float> Y1, Y3;
      const uint64_t seed = g_rng();
      lb_set_threads(1);
      g_rng.seed(seed);
      std::string e1 = sgemm_check(isa, s, &Y1);
      lb_set_threads(3);
      g_rng.seed(seed);
      std::string e3 = sgemm_check(isa, s, &Y3);
      if (!e1.empty() || !e3.empty() ||
          std::memcmp(Y1.data(), Y3.data(), Y1.size() * sizeof(float)) != 0) {
        if (same)
          what += " (M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                  " K=" + std::to_string(s.K) + (small ? ", small blocks) " : ") ") + e1 + e3;
        same = false;
      }
    }
  }
  lb_sgemm_set_block_override(0, 0, 0);
  lb_set_threads(saved);
  check(same, what);
}

void test_bad_arguments() {
  uint8_t a[4] = {0}, b[4] = {0};
  int32_t y[4];
  check(lb_matmul_integer(2, 2, 2, a, (lb_dtype)7, 2, b, LB_INT8, LB_LAYOUT_KN, 2, 0, 0, 0, 0, y,
                          2) == LB_ERR_INVALID_ARGUMENT,
        "bad dtype is rejected");
  check(lb_matmul_integer(2, 2, 2, a, LB_UINT8, 1, b, LB_INT8, LB_LAYOUT_KN, 2, 0, 0, 0, 0, y, 2) ==
            LB_ERR_INVALID_ARGUMENT,
        "lda < K is rejected");
  check(lb_matmul_integer(2, 2, 2, a, LB_UINT8, 2, b, LB_INT8, LB_LAYOUT_KN, 2, a, 3, 0, 0, y, 2) ==
            LB_ERR_INVALID_ARGUMENT,
        "a zero-point count other than 1 or M is rejected");
  check(lb_matmul_integer(2, 2, 2, nullptr, LB_UINT8, 2, b, LB_INT8, LB_LAYOUT_KN, 2, 0, 0, 0, 0, y,
                          2) == LB_ERR_INVALID_ARGUMENT,
        "a null A is rejected");
  check(lb_set_isa("no-such-isa") == LB_ERR_UNSUPPORTED_ISA, "an unknown ISA name is rejected");
  for (int i = 0; i < lb_isa_count(); ++i)
    if (!lb_isa_usable(i))
      check(lb_set_isa(lb_isa_name(i)) == LB_ERR_UNSUPPORTED_ISA,
            std::string("ISA the CPU lacks is refused: ") + lb_isa_name(i));
}

// ---- quantize / dequantize / minmax ------------------------------------------------------

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
double uniform(double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(g_rng);
}
int32_t rand_int(int32_t lo, int32_t hi) { return lo + (int32_t)rand_below((size_t)(hi - lo + 1)); }

struct qdtype {
  lb_dtype t;
  const char *name;
  int32_t qmin, qmax;
  int bits;
};
const qdtype kQTypes[] = {{LB_INT8, "int8", -128, 127, 8}, {LB_UINT8, "uint8", 0, 255, 8},
                          {LB_INT4, "int4", -8, 7, 4},     {LB_UINT4, "uint4", 0, 15, 4},
                          {LB_INT2, "int2", -2, 1, 2},     {LB_UINT2, "uint2", 0, 3, 2}};

// A positive finite scale: powers of two (x / scale exact, so ties are exact), ordinary values,
// subnormals, tiny normals, huge values.
float rand_scale() {
  switch (rand_below(8)) {
    case 0: case 1: case 2: return std::ldexp(1.0f, rand_int(-30, 10));
    case 3: case 4: return (float)std::pow(10.0, uniform(-4, 2));
    case 5: return float_of(1 + (uint32_t)rand_below(0x007FFFFF));  // subnormal
    case 6: return std::ldexp(1.0f + (float)uniform(0, 1), rand_int(-126, -100));
    default: return (float)std::pow(10.0, uniform(20, 38));
  }
}

const uint32_t kSpecial[] = {
    0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF,  // NaNs, signalling ones too
    0x7F800000, 0xFF800000, 0x7F7FFFFF, 0xFF7FFFFF,              // +-inf, +-FLT_MAX
    0x4F000000, 0xCF000000, 0x4EFFFFFF, 0xCEFFFFFF, 0x4F800000,  // +-2^31, just below, 2^32
    0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF, 0x00800000,  // subnormals, FLT_MIN
    0x00000000, 0x80000000, 0x3F000000, 0xBF000000, 0x3FC00000, 0xBFC00000, 0x40200000,
    0xC0200000, 0x7149F2CA, 0xF149F2CA};  // +-0, +-0.5, +-1.5, +-2.5, +-1e30

// One input for a quantizer with scale s and range width span: ordinary values around the
// range, exact ties (k + 0.5) * s, any magnitude 1e-40 .. 1e30, NaN / inf / huge / subnormal
// specials, random bit patterns, exact multiples.
float rand_x(float s, int32_t span) {
  const double w = 1.3 * (span + 2);
  switch (rand_below(10)) {
    case 0: case 1: case 2: return (float)uniform(-w, w) * s;
    case 3: case 4: return ((float)rand_int(-span - 3, span + 3) + 0.5f) * s;
    case 5: return (rand_below(2) ? -1.0f : 1.0f) * (float)std::pow(10.0, uniform(-40, 30));
    case 6: return float_of(kSpecial[rand_below(sizeof kSpecial / sizeof kSpecial[0])]);
    case 7: return float_of((uint32_t)rand_below(0x00800000) | (rand_below(2) ? 0x80000000u : 0u));
    case 8: return float_of((uint32_t)g_rng());
    default: return (float)rand_int(-span - 3, span + 3) * s;
  }
}

// A saturation range narrowed inside the dtype's (lb_quantize_linear_range): the symmetric one
// of a signed dtype ([-127, 127], [-7, 7], [-1, 1]) or any [a, b]; zero points stay anywhere
// in the dtype's range, so they may lie outside it.
void rand_narrow(const qdtype &d, int32_t *qmin, int32_t *qmax) {
  if (d.qmin < 0 && rand_below(3) == 0) {
    *qmin = -d.qmax, *qmax = d.qmax;
  } else {
    *qmin = rand_int(d.qmin, d.qmax);
    *qmax = rand_int(*qmin, d.qmax);
  }
}

int32_t rand_zp(int32_t qmin, int32_t qmax) {
  switch (rand_below(6)) {
    case 0: return qmin;
    case 1: return qmax;
    default: return rand_int(qmin, qmax);
  }
}

struct tally {
  int cases = 0, bad = 0;
  std::string first;
  void add(bool ok, const std::string &what) {
    ++cases;
    if (!ok && !bad++) first = what;
  }
};

std::string hex_float(float f) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.9g (0x%08x)", f, bits_of(f));
  return buf;
}

// The kernels of one ISA against quant_ref, on the same inputs, bit for bit, over the whole
// output buffer (so a write outside [0, n) shows too). Pointers offset by 0..3 elements.
void test_quant_kernels(const char *isa, const lb_quant_kernels &K) {
  const lb_quant_kernels &R = quant_ref;
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 100; ++n) lengths.push_back(n);
  for (size_t n : {255, 256, 1024, 3000 + (int)rand_below(100), 4099}) lengths.push_back(n);
  tally tq, tv, td, tdv, tm;
  char what[400];
  for (size_t n : lengths) {
    const size_t ox = rand_below(4), oq = rand_below(4), os = rand_below(4), oz = rand_below(4);
    std::vector<float> xs(n + 4), ss(n + 4);
    std::vector<int32_t> zs(n + 4);
    std::vector<uint8_t> qg(n + 8), qr(n + 8);
    struct qrange {
      const qdtype *d;
      int32_t qmin, qmax;
    };
    std::vector<qrange> ranges;  // each dtype's range, then a narrowed one of each
    for (const qdtype &d : kQTypes) ranges.push_back({&d, d.qmin, d.qmax});
    for (const qdtype &d : kQTypes) {
      ranges.push_back({&d, 0, 0});
      rand_narrow(d, &ranges.back().qmin, &ranges.back().qmax);
    }
    for (const qrange &rg : ranges) {
      const qdtype &d = *rg.d;
      const int32_t span = d.qmax - d.qmin, qmin = rg.qmin, qmax = rg.qmax;
      char range[48];
      std::snprintf(range, sizeof range, "%s[%d, %d]", d.name, qmin, qmax);
      // per tensor
      const float s = rand_scale();
      const int32_t zp = rand_zp(d.qmin, d.qmax);
      for (size_t i = 0; i < n; ++i) xs[ox + i] = rand_x(s, span);
      std::fill(qg.begin(), qg.end(), 0xA5);
      std::fill(qr.begin(), qr.end(), 0xA5);
      K.quantize(n, xs.data() + ox, s, zp, qmin, qmax, qg.data() + oq);
      R.quantize(n, xs.data() + ox, s, zp, qmin, qmax, qr.data() + oq);
      if (qg != qr && !tq.bad) {
        size_t i = 0;
        while (i + oq < qg.size() && qg[i + oq] == qr[i + oq]) ++i;
        std::snprintf(what, sizeof what,
                      "quantize[%s] %s n=%zu scale=%s zp=%d: q[%zu] = %d, quant_ref %d (x = %s)",
                      isa, range, n, hex_float(s).c_str(), zp, i, qg[i + oq], qr[i + oq],
                      i < n ? hex_float(xs[ox + i]).c_str() : "past the end");
        tq.add(false, what);
      } else {
        tq.add(qg == qr, "");
      }
      // one scale and zero point per element
      for (size_t i = 0; i < n; ++i) {
        ss[os + i] = rand_below(4) ? s : rand_scale();
        zs[oz + i] = rand_zp(d.qmin, d.qmax);
        xs[ox + i] = rand_x(ss[os + i], span);
      }
      std::fill(qg.begin(), qg.end(), 0xA5);
      std::fill(qr.begin(), qr.end(), 0xA5);
      K.quantize_vec(n, xs.data() + ox, ss.data() + os, zs.data() + oz, qmin, qmax,
                     qg.data() + oq);
      R.quantize_vec(n, xs.data() + ox, ss.data() + os, zs.data() + oz, qmin, qmax,
                     qr.data() + oq);
      if (qg != qr && !tv.bad) {
        size_t i = 0;
        while (i + oq < qg.size() && qg[i + oq] == qr[i + oq]) ++i;
        std::snprintf(what, sizeof what,
                      "quantize_vec[%s] %s n=%zu: q[%zu] = %d, quant_ref %d (x = %s, scale = %s, "
                      "zp = %d)",
                      isa, range, n, i, qg[i + oq], qr[i + oq],
                      i < n ? hex_float(xs[ox + i]).c_str() : "past the end",
                      i < n ? hex_float(ss[os + i]).c_str() : "-", i < n ? zs[oz + i] : 0);
        tv.add(false, what);
      } else {
        tv.add(qg == qr, "");
      }
    }
    // dequantize, both signednesses
    std::vector<uint8_t> qin(n + 4);
    std::vector<float> xg(n + 8), xr(n + 8);
    for (bool sgn : {true, false}) {
      const int32_t qmin = sgn ? -128 : 0, qmax = sgn ? 127 : 255;
      for (size_t i = 0; i < n; ++i) qin[oq + i] = (uint8_t)g_rng();
      const float s = rand_scale();
      const int32_t zp = rand_zp(qmin, qmax);
      std::fill(xg.begin(), xg.end(), -7.0f);
      std::fill(xr.begin(), xr.end(), -7.0f);
      K.dequantize(n, qin.data() + oq, sgn, s, zp, xg.data() + ox);
      R.dequantize(n, qin.data() + oq, sgn, s, zp, xr.data() + ox);
      bool same = std::memcmp(xg.data(), xr.data(), xg.size() * 4) == 0;
      std::snprintf(what, sizeof what, "dequantize[%s] %s n=%zu scale=%s zp=%d", isa,
                    sgn ? "signed" : "unsigned", n, hex_float(s).c_str(), zp);
      td.add(same, what);
      for (size_t i = 0; i < n; ++i) {
        ss[os + i] = rand_scale();
        zs[oz + i] = rand_zp(qmin, qmax);
      }
      std::fill(xg.begin(), xg.end(), -7.0f);
      std::fill(xr.begin(), xr.end(), -7.0f);
      K.dequantize_vec(n, qin.data() + oq, sgn, ss.data() + os, zs.data() + oz, xg.data() + ox);
      R.dequantize_vec(n, qin.data() + oq, sgn, ss.data() + os, zs.data() + oz, xr.data() + ox);
      same = std::memcmp(xg.data(), xr.data(), xg.size() * 4) == 0;
      std::snprintf(what, sizeof what, "dequantize_vec[%s] %s n=%zu", isa,
                    sgn ? "signed" : "unsigned", n);
      tdv.add(same, what);
    }
    // minmax: mixed values, NaN-first, all NaN, zeros of both signs at the extreme
    for (int pattern = 0; pattern < 6; ++pattern) {
      for (size_t i = 0; i < n; ++i) {
        const float zero = rand_below(2) ? 0.0f : -0.0f;
        const uint32_t nan_bits = 0x7FC00000u | (uint32_t)rand_below(1u << 22) |
                                  (rand_below(2) ? 0x80000000u : 0u);
        float v;
        switch (pattern) {
          case 0: v = rand_x(rand_scale(), 255); break;
          case 1: v = i == 0 || rand_below(3) == 0 ? NAN : (float)uniform(-100, 100); break;
          case 2: v = float_of(nan_bits); break;  // all NaN, any sign and payload
          case 3: v = rand_below(3) ? (float)uniform(0, 10) : zero; break;
          case 4: v = rand_below(3) ? (float)uniform(-10, 0) : zero; break;
          default: v = rand_below(2) ? zero : NAN; break;
        }
        xs[ox + i] = v;
      }
      float gmn = 1, gmx = 1, rmn = 2, rmx = 2;
      K.minmax(n, xs.data() + ox, &gmn, &gmx);
      R.minmax(n, xs.data() + ox, &rmn, &rmx);
      bool same = bits_of(gmn) == bits_of(rmn) && bits_of(gmx) == bits_of(rmx);
      std::snprintf(what, sizeof what, "minmax[%s] pattern %d n=%zu: %s / %s, quant_ref %s / %s",
                    isa, pattern, n, hex_float(gmn).c_str(), hex_float(gmx).c_str(),
                    hex_float(rmn).c_str(), hex_float(rmx).c_str());
      tm.add(same, what);
    }
  }
  const tally *all[] = {&tq, &tv, &td, &tdv, &tm};
  const char *names[] = {"quantize", "quantize_vec", "dequantize", "dequantize_vec", "minmax"};
  int cases = 0, bad = 0;
  for (int k = 0; k < 5; ++k) {
    check(all[k]->bad == 0, all[k]->first + " (" + std::to_string(all[k]->bad) + " of " +
                                std::to_string(all[k]->cases) + " " + names[k] + " cases differ)");
    cases += all[k]->cases;
    bad += all[k]->bad;
  }
  std::printf("  quant kernels[%s]: %d cases, %d differ from quant_ref\n", isa, cases, bad);
}

// The GEMM epilogue kernels of one ISA against epilogue_ref, bit for bit over the whole output
// buffer (a write outside [0, n) shows too): every case of to_s32 / to_f32 (zb or not, scale per
// column or not, bias or not) and byte_sum, lengths 0-70 and longer ones with vector tails,
// pointers offset by 0..3 elements, products random or at the int32 extremes.
void test_epilogue_kernels(const char *isa, const lb_epilogue_kernels &K) {
  const lb_epilogue_kernels &R = epilogue_ref;
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 70; ++n) lengths.push_back(n);
  for (size_t n : {240, 1008, 4096 + (int)rand_below(64)}) lengths.push_back(n);
  tally ts, tf, tb;
  char what[200];
  for (size_t n : lengths) {
    const size_t o = rand_below(4);
    std::vector<int32_t> c(n + 4), yg(n + 8), yr(n + 8);
    std::vector<uint32_t> zb(n + 4), cs(n + 4);
    std::vector<float> ws(n + 4), bias(n + 4), fg(n + 8), fr(n + 8);
    std::vector<uint8_t> bytes(n + 4);
    const bool extreme = rand_below(4) == 0;
    for (size_t j = 0; j < n + 4; ++j) {
      c[j] = extreme ? (j & 1 ? INT32_MAX : INT32_MIN) : (int32_t)g_rng();
      zb[j] = (uint32_t)g_rng();
      cs[j] = (uint32_t)g_rng();
      ws[j] = rand_scale();
      bias[j] = (float)((int32_t)g_rng()) * 1e-6f;
      bytes[j] = extreme ? (j & 1 ? 0x80 : 0x7F) : (uint8_t)g_rng();
    }
    const uint32_t t = (uint32_t)g_rng(), za = (uint32_t)g_rng();
    const float as = rand_scale();
    for (int with_zb = 0; with_zb < 2; ++with_zb) {
      const uint32_t *z = with_zb ? zb.data() + o : nullptr;
      std::fill(yg.begin(), yg.end(), 0x5A5A5A5A);
      std::fill(yr.begin(), yr.end(), 0x5A5A5A5A);
      K.to_s32(n, c.data() + o, z, t, za, cs.data() + o, yg.data() + o);
      R.to_s32(n, c.data() + o, z, t, za, cs.data() + o, yr.data() + o);
      std::snprintf(what, sizeof what, "to_s32[%s] n=%zu zb=%d offset=%zu", isa, n, with_zb, o);
      ts.add(yg == yr, what);
      for (int per_col = 0; per_col < 2; ++per_col)
        for (int with_bias = 0; with_bias < 2; ++with_bias) {
          std::fill(fg.begin(), fg.end(), -1.5f);
          std::fill(fr.begin(), fr.end(), -1.5f);
          const float *b = with_bias ? bias.data() + o : nullptr;
          K.to_f32(n, c.data() + o, z, t, za, cs.data() + o, as, ws.data() + o, per_col, b, fg.data() + o);
          R.to_f32(n, c.data() + o, z, t, za, cs.data() + o, as, ws.data() + o, per_col, b, fr.data() + o);
          std::snprintf(what, sizeof what, "to_f32[%s] n=%zu zb=%d per_col=%d bias=%d offset=%zu",
                        isa, n, with_zb, per_col, with_bias, o);
          tf.add(std::memcmp(fg.data(), fr.data(), fg.size() * sizeof(float)) == 0, what);
        }
    }
    for (bool is_signed : {false, true}) {
      uint32_t sum = 0;  // the definition, written here
      for (size_t k = 0; k < n; ++k) sum += is_signed ? (uint32_t)(int32_t)(int8_t)bytes[o + k] : bytes[o + k];
      std::snprintf(what, sizeof what, "byte_sum[%s] n=%zu signed=%d offset=%zu", isa, n, is_signed, o);
      tb.add(K.byte_sum(n, bytes.data() + o, is_signed) == sum &&
             R.byte_sum(n, bytes.data() + o, is_signed) == sum, what);
    }
  }
  const char *names[] = {"to_s32", "to_f32", "byte_sum"};
  const tally *all[] = {&ts, &tf, &tb};
  for (int i = 0; i < 3; ++i)
    check(all[i]->bad == 0, std::string("epilogue ") + names[i] + "[" + isa + "] vs epilogue_ref: " +
                                std::to_string(all[i]->bad) + " of " + std::to_string(all[i]->cases) +
                                " cases differ; first: " + all[i]->first);
  std::printf("  epilogue kernels[%s]: %d cases, %d differ from epilogue_ref\n", isa,
              ts.cases + tf.cases + tb.cases, ts.bad + tf.bad + tb.bad);
}

// The _blocks kernels of one ISA against quant_ref's, bit for bit over the whole output buffer;
// quant_ref's own against its per-run kernels called once per block. For each length, a random
// block size in 1..70 (shorter and longer than a vector, multiples of it or not) and one of 16,
// 32, 64, 128; each dtype's range and a narrowed one; pointers offset by 0..3 elements.
void test_quant_block_kernels(const char *isa, const lb_quant_kernels &K) {
  const lb_quant_kernels &R = quant_ref;
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (size_t n : {1024, 2048 + (int)rand_below(3000), 4099}) lengths.push_back(n);
  const size_t common[] = {16, 32, 64, 128};
  tally tq, tr, td;
  char what[400];
  for (size_t n : lengths) {
    for (size_t block : {1 + rand_below(70), common[rand_below(4)]}) {
      const size_t nb = (n + block - 1) / block;
      const size_t ox = rand_below(4), oq = rand_below(4), os = rand_below(4), oz = rand_below(4);
      std::vector<float> xs(n + 4), ss(nb + 4);
      std::vector<int32_t> zs(nb + 4);
      std::vector<uint8_t> qg(n + 8), qr(n + 8), qp(n + 8);
      struct qrange {
        const qdtype *d;
        int32_t qmin, qmax;
      };
      std::vector<qrange> ranges;  // each dtype's range, then a narrowed one of a random dtype
      for (const qdtype &d : kQTypes) ranges.push_back({&d, d.qmin, d.qmax});
      ranges.push_back({&kQTypes[rand_below(6)], 0, 0});
      rand_narrow(*ranges.back().d, &ranges.back().qmin, &ranges.back().qmax);
      for (const qrange &rg : ranges) {
        const qdtype &d = *rg.d;
        const int32_t span = d.qmax - d.qmin, qmin = rg.qmin, qmax = rg.qmax;
        const float s = rand_scale();
        for (size_t b = 0; b < nb; ++b) {
          ss[os + b] = rand_below(4) ? s : rand_scale();
          zs[oz + b] = rand_zp(d.qmin, d.qmax);
        }
        for (size_t i = 0; i < n; ++i) xs[ox + i] = rand_x(ss[os + i / block], span);
        std::fill(qg.begin(), qg.end(), 0xA5);
        std::fill(qr.begin(), qr.end(), 0xA5);
        std::fill(qp.begin(), qp.end(), 0xA5);
        K.quantize_blocks(n, xs.data() + ox, block, ss.data() + os, zs.data() + oz, qmin, qmax,
                          qg.data() + oq);
        R.quantize_blocks(n, xs.data() + ox, block, ss.data() + os, zs.data() + oz, qmin, qmax,
                          qr.data() + oq);
        for (size_t i = 0, b = 0; i < n; i += block, ++b)
          R.quantize(n - i < block ? n - i : block, xs.data() + ox + i, ss[os + b], zs[oz + b],
                     qmin, qmax, qp.data() + oq + i);
        if (qg != qr && !tq.bad) {
          size_t i = 0;
          while (i + oq < qg.size() && qg[i + oq] == qr[i + oq]) ++i;
          std::snprintf(what, sizeof what,
                        "quantize_blocks[%s] %s[%d, %d] n=%zu block=%zu: q[%zu] = %d, quant_ref "
                        "%d (x = %s, scale = %s, zp = %d)",
                        isa, d.name, qmin, qmax, n, block, i, qg[i + oq], qr[i + oq],
                        i < n ? hex_float(xs[ox + i]).c_str() : "past the end",
                        i < n ? hex_float(ss[os + i / block]).c_str() : "-",
                        i < n ? zs[oz + i / block] : 0);
          tq.add(false, what);
        } else {
          tq.add(qg == qr, "");
        }
        std::snprintf(what, sizeof what,
                      "quant_ref.quantize_blocks %s[%d, %d] n=%zu block=%zu differs from "
                      "quant_ref.quantize block by block",
                      d.name, qmin, qmax, n, block);
        tr.add(qr == qp, what);
      }
      // dequantize, both signednesses, random bytes
      std::vector<uint8_t> qin(n + 4);
      std::vector<float> xg(n + 8), xr(n + 8), xp(n + 8);
      for (bool sgn : {true, false}) {
        const int32_t qmin = sgn ? -128 : 0, qmax = sgn ? 127 : 255;
        for (size_t i = 0; i < n; ++i) qin[oq + i] = (uint8_t)g_rng();
        for (size_t b = 0; b < nb; ++b) {
          ss[os + b] = rand_scale();
          zs[oz + b] = rand_zp(qmin, qmax);
        }
        std::fill(xg.begin(), xg.end(), -7.0f);
        std::fill(xr.begin(), xr.end(), -7.0f);
        std::fill(xp.begin(), xp.end(), -7.0f);
        K.dequantize_blocks(n, qin.data() + oq, sgn, block, ss.data() + os, zs.data() + oz,
                            xg.data() + ox);
        R.dequantize_blocks(n, qin.data() + oq, sgn, block, ss.data() + os, zs.data() + oz,
                            xr.data() + ox);
        for (size_t i = 0, b = 0; i < n; i += block, ++b)
          R.dequantize(n - i < block ? n - i : block, qin.data() + oq + i, sgn, ss[os + b],
                       zs[oz + b], xp.data() + ox + i);
        std::snprintf(what, sizeof what, "dequantize_blocks[%s] %s n=%zu block=%zu", isa,
                      sgn ? "signed" : "unsigned", n, block);
        td.add(std::memcmp(xg.data(), xr.data(), xg.size() * 4) == 0, what);
        std::snprintf(what, sizeof what,
                      "quant_ref.dequantize_blocks %s n=%zu block=%zu differs from "
                      "quant_ref.dequantize block by block",
                      sgn ? "signed" : "unsigned", n, block);
        tr.add(std::memcmp(xr.data(), xp.data(), xr.size() * 4) == 0, what);
      }
    }
  }
  const tally *all[] = {&tq, &td, &tr};
  const char *names[] = {"quantize_blocks", "dequantize_blocks", "quant_ref blocks self-check"};
  int cases = 0, bad = 0;
  for (int k = 0; k < 3; ++k) {
    check(all[k]->bad == 0, all[k]->first + " (" + std::to_string(all[k]->bad) + " of " +
                                std::to_string(all[k]->cases) + " " + names[k] + " cases differ)");
    cases += all[k]->cases;
    bad += all[k]->bad;
  }
  std::printf("  quant block kernels[%s]: %d cases, %d differ from quant_ref\n", isa, cases, bad);
}

// ---- the C ABI, against a per-element reference written here ------------------------------

int32_t ref_quantize_one(float x, float s, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = x / s;
  if (std::isnan(v)) return zp;
  v = std::fmin(std::fmax(v, (float)(qmin - zp)), (float)(qmax - zp));
  return (int32_t)std::nearbyint(v) + zp;  // default rounding mode: ties to even
}

struct qcase {
  lb_qlayout l;
  size_t n_scales;
};

size_t scale_index(const qcase &c, size_t e) {
  const lb_qlayout &l = c.l;
  const size_t A = l.axis_len, I = l.inner, o = e / (A * I), d = e / I % A, in = e % I;
  if (l.block == 0) return c.n_scales == 1 ? 0 : d;
  const size_t nb = (A + l.block - 1) / l.block;
  return (o * nb + d / l.block) * I + in;
}

struct packing {
  size_t total, row, row_bytes, bytes;
  int per;
};
packing packing_of(const qcase &c, const qdtype &d) {
  packing p;
  p.total = c.l.outer * c.l.axis_len * c.l.inner;
  p.per = 8 / d.bits;
  p.row = d.bits == 8 ? 1 : c.l.row_len ? c.l.row_len : p.total;
  p.row_bytes = (p.row + p.per - 1) / p.per;
  p.bytes = d.bits == 8 ? p.total : p.row ? p.total / p.row * p.row_bytes : 0;
  return p;
}

std::vector<uint8_t> ref_quantize_linear(const qcase &c, const qdtype &d, int32_t qmin,
                                         int32_t qmax, const float *x, const float *scale,
                                         const int32_t *zp) {
  const packing p = packing_of(c, d);
  std::vector<uint8_t> out(p.bytes, 0);
  for (size_t e = 0; e < p.total; ++e) {
    const size_t s = scale_index(c, e);
    const int32_t q = ref_quantize_one(x[e], scale[s], zp ? zp[s] : 0, qmin, qmax);
    if (d.bits == 8) {
      out[e] = (uint8_t)q;
    } else {
      const size_t r = e / p.row, i = e % p.row;
      out[r * p.row_bytes + i / p.per] |=
          (uint8_t)((q & ((1 << d.bits) - 1)) << (i % p.per * d.bits));
    }
  }
  return out;
}

std::vector<float> ref_dequantize_linear(const qcase &c, const qdtype &d, const uint8_t *q,
                                         const float *scale, const int32_t *zp) {
  const packing p = packing_of(c, d);
  std::vector<float> out(p.total);
  for (size_t e = 0; e < p.total; ++e) {
    const size_t s = scale_index(c, e);
    int32_t v;
    if (d.bits == 8) {
      v = d.qmin < 0 ? (int32_t)(int8_t)q[e] : (int32_t)q[e];
    } else {
      const size_t r = e / p.row, i = e % p.row;
      v = (q[r * p.row_bytes + i / p.per] >> (i % p.per * d.bits)) & ((1 << d.bits) - 1);
      if (d.qmin < 0 && v >= (1 << (d.bits - 1))) v -= 1 << d.bits;
    }
    out[e] = (float)(v - (zp ? zp[s] : 0)) * scale[s];
  }
  return out;
}

// One layout and dtype: lb_quantize_linear (lb_quantize_linear_range when the range is narrowed)
// against the reference, then lb_dequantize_linear of those bytes and of random bytes; inputs
// offset by 0..3, guard bytes around the outputs.
bool run_qcase(const qcase &c, const qdtype &d, int32_t qmin, int32_t qmax, bool with_zp,
               std::string *why) {
  const packing p = packing_of(c, d);
  const size_t off = rand_below(4);
  std::vector<float> x(p.total + off), sc(c.n_scales + off);
  std::vector<int32_t> zp(c.n_scales + off);
  for (size_t i = 0; i < c.n_scales; ++i) {
    sc[off + i] = rand_below(8) ? (float)std::pow(10.0, uniform(-3, 1)) : rand_scale();
    zp[off + i] = rand_zp(d.qmin, d.qmax);
  }
  for (size_t e = 0; e < p.total; ++e)
    x[off + e] = rand_x(sc[off + scale_index(c, e)], d.qmax - d.qmin);
  const float *xs = x.data() + off, *ss = sc.data() + off;
  const int32_t *zs = with_zp ? zp.data() + off : nullptr;
  char buf[200];
  if (lb_quantized_bytes(d.t, c.l) != p.bytes) {
    std::snprintf(buf, sizeof buf, "lb_quantized_bytes %zu, expected %zu",
                  lb_quantized_bytes(d.t, c.l), p.bytes);
    *why = buf;
    return false;
  }
  const std::vector<uint8_t> want = ref_quantize_linear(c, d, qmin, qmax, xs, ss, zs);
  std::vector<uint8_t> got(p.bytes + off + 4, 0xA5);
  const bool narrowed = qmin != d.qmin || qmax != d.qmax;
  lb_status st =
      narrowed ? lb_quantize_linear_range(xs, c.l, ss, zs, c.n_scales, d.t, qmin, qmax,
                                          got.data() + off, p.bytes)
               : lb_quantize_linear(xs, c.l, ss, zs, c.n_scales, d.t, got.data() + off, p.bytes);
  if (st != LB_OK) {
    *why = std::string("lb_quantize_linear: ") + lb_status_string(st);
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const bool inside = i >= off && i < off + p.bytes;
    if (got[i] != (inside ? want[i - off] : 0xA5)) {
      std::snprintf(buf, sizeof buf, "quantized byte %zd = 0x%02x, expected 0x%02x",
                    (ptrdiff_t)i - (ptrdiff_t)off, got[i], inside ? want[i - off] : 0xA5);
      *why = buf;
      return false;
    }
  }
  for (int source = 0; source < 2; ++source) {
    std::vector<uint8_t> q(want);
    if (source == 1)
      for (uint8_t &b : q) b = (uint8_t)g_rng();  // padding bits set too: they are ignored
    std::vector<uint8_t> qbuf(q.size() + off);
    if (!q.empty()) std::memcpy(qbuf.data() + off, q.data(), q.size());
    const std::vector<float> xw = ref_dequantize_linear(c, d, q.data(), ss, zs);
    std::vector<float> xg(p.total + off + 4, -7.0f);
    st = lb_dequantize_linear(qbuf.data() + off, q.size(), c.l, ss, zs, c.n_scales, d.t,
                              xg.data() + off);
    if (st != LB_OK) {
      *why = std::string("lb_dequantize_linear: ") + lb_status_string(st);
      return false;
    }
    for (size_t i = 0; i < xg.size(); ++i) {
      const bool inside = i >= off && i < off + p.total;
      const float w = inside ? xw[i - off] : -7.0f;
      if (bits_of(xg[i]) != bits_of(w)) {
        std::snprintf(buf, sizeof buf, "dequantized x[%zd] = %s, expected %s (%s bytes)",
                      (ptrdiff_t)i - (ptrdiff_t)off, hex_float(xg[i]).c_str(),
                      hex_float(w).c_str(), source ? "random" : "quantized");
        *why = buf;
        return false;
      }
    }
  }
  return true;
}

void test_quantize_linear(const char *isa) {
  tally t;
  auto one = [&](const char *kind, lb_qlayout l, size_t n_scales) {
    for (const qdtype &d : kQTypes) {
      for (int mode = 0; mode < (d.bits < 8 ? 3 : 2); ++mode) {
        // mode 0: the dtype's range, row_len 0; 1: a narrowed range; 2: row_len = axis * inner
        qcase c{l, n_scales};
        c.l.row_len = mode == 2 ? l.axis_len * l.inner : 0;  // = axis_len when inner == 1
        int32_t qmin = d.qmin, qmax = d.qmax;
        if (mode == 1) rand_narrow(d, &qmin, &qmax);
        const bool with_zp = rand_below(4) != 0;
        std::string why;
        bool ok = run_qcase(c, d, qmin, qmax, with_zp, &why);
        char buf[400];
        std::snprintf(buf, sizeof buf,
                      "quantize_linear[%s] %s[%d, %d] %s outer=%zu axis=%zu inner=%zu block=%zu "
                      "row_len=%zu zp=%s: %s",
                      isa, d.name, qmin, qmax, kind, c.l.outer, c.l.axis_len, c.l.inner,
                      c.l.block, c.l.row_len, with_zp ? "yes" : "null", why.c_str());
        t.add(ok, buf);
      }
    }
  };
  auto R = [](size_t lo, size_t hi) { return lo + rand_below(hi - lo + 1); };
  for (int rep = 0; rep < 3; ++rep) {
    const size_t n = rep == 0 ? 77 : R(1, 300);
    one("per-tensor", {1, n, 1, 0, 0}, 1);
    one("per-tensor", {R(1, 4), R(1, 9), R(1, 9), 0, 0}, 1);
    size_t A = R(1, 70);
    one("per-axis inner=1", {R(1, 4), A, 1, 0, 0}, A);
    A = R(2, 9);
    one("per-axis inner>1", {R(1, 3), A, R(2, 20), 0, 0}, A);
    // the first round has short last blocks for sure: 70 = 32 + 32 + 6, 10 = 4 + 4 + 2
    const size_t blocks[] = {1, 4, 7, 16, 32, 64, R(1, 70)};
    size_t b = rep == 0 ? 32 : blocks[rand_below(7)], O = R(1, 4);
    A = rep == 0 ? 70 : R(1, 100);
    one("blocked inner=1", {O, A, 1, b, 0}, O * ((A + b - 1) / b));
    b = rep == 0 ? 4 : R(1, 6), O = R(1, 3), A = rep == 0 ? 10 : R(1, 20);
    const size_t I = R(2, 9);
    one("blocked inner>1", {O, A, I, b, 0}, O * ((A + b - 1) / b) * I);
  }
  // Tensors spanning many of the driver's 64K-element tasks and 4K-element stages, on several
  // threads: short odd rows packed separately (stages must restart at each row's first byte),
  // rows longer than a task, runs cut at task edges; blocks cut at task and stage edges (blocks
  // of 33, and blocks longer than a stage), so that a range starts inside a block.
  {
    const size_t saved = lb_get_threads();
    lb_set_threads(3);
    const struct { const char *kind; lb_qlayout l; size_t n_scales; } big[] = {
        {"big per-tensor", {1, 200003, 1, 0, 0}, 1},
        {"big blocked rows of 333", {613, 333, 1, 32, 333}, 613 * 11},
        {"big blocked rows of 70001", {2, 70001, 1, 64, 70001}, 2 * 1094},
        {"big per-axis inner>1", {1, 3, 70001, 0, 0}, 3},
        {"big blocked rows of 70001 (blocks of 33)", {2, 70001, 1, 33, 70001}, 2 * 2122},
        {"big blocked rows of 9000 (blocks of 5000)", {12, 9000, 1, 5000, 9000}, 12 * 2},
    };
    // Zero points given or not, alternately (blocked rows without them go 1024 blocks a call).
    int i = 0;
    for (const auto &b : big)
      for (const qdtype &d : {kQTypes[0], kQTypes[3], kQTypes[4]}) {
        std::string why;
        const bool with_zp = i++ % 2 != 0;
        const bool ok = run_qcase({b.l, b.n_scales}, d, d.qmin, d.qmax, with_zp, &why);
        t.add(ok, std::string("quantize_linear[") + isa + "] " + d.name + " " + b.kind +
                      (with_zp ? "" : " (zp null)") + ": " + why);
      }
    lb_set_threads(saved);
  }
  // zero-sized tensors: valid, nothing written
  int zero_bad = 0;
  const qcase zeros[] = {{{0, 5, 3, 0, 0}, 5}, {{2, 0, 3, 0, 0}, 1}, {{2, 0, 3, 4, 0}, 0},
                         {{4, 6, 0, 4, 0}, 0}, {{0, 0, 0, 0, 0}, 1}, {{3, 5, 0, 0, 5}, 5}};
  for (const qcase &c : zeros)
    for (const qdtype &d : kQTypes) {
      const float s[8] = {1, 1, 1, 1, 1, 1, 1, 1};  // n_scales of them (0, 1 or 5)
      float x = 1.0f, xo = -7.0f;
      uint8_t q = 0xA5;
      if (lb_quantized_bytes(d.t, c.l) != 0 ||
          lb_quantize_linear(&x, c.l, s, nullptr, c.n_scales, d.t, &q, 0) != LB_OK || q != 0xA5 ||
          lb_dequantize_linear(&q, 0, c.l, s, nullptr, c.n_scales, d.t, &xo) != LB_OK ||
          xo != -7.0f)
        ++zero_bad;
    }
  check(zero_bad == 0, std::string("quantize_linear[") + isa + "]: " + std::to_string(zero_bad) +
                           " zero-sized cases not accepted or wrote something");
  // lb_minmax_f32 on the active ISA: the reference's answer; +inf / -inf for none; bad pointers
  int mm_bad = 0;
  for (size_t n : {(size_t)0, (size_t)1, (size_t)37, (size_t)1000 + rand_below(100)}) {
    std::vector<float> x(n + 1);
    for (size_t i = 0; i < n; ++i) x[1 + i] = rand_below(5) ? rand_x(1.0f, 255) : NAN;
    float mn = 0, mx = 0, rmn = 0, rmx = 0;
    quant_ref.minmax(n, x.data() + 1, &rmn, &rmx);
    if (lb_minmax_f32(x.data() + 1, n, &mn, &mx) != LB_OK || bits_of(mn) != bits_of(rmn) ||
        bits_of(mx) != bits_of(rmx) || (n == 0 && !(mn == INFINITY && mx == -INFINITY)))
      ++mm_bad;
  }
  float mn, mx;
  if (lb_minmax_f32(nullptr, 3, &mn, &mx) != LB_ERR_INVALID_ARGUMENT ||
      lb_minmax_f32(&mn, 1, nullptr, &mx) != LB_ERR_INVALID_ARGUMENT)
    ++mm_bad;
  check(mm_bad == 0, std::string("lb_minmax_f32[") + isa + "]: " + std::to_string(mm_bad) +
                         " cases differ from quant_ref or bad pointers accepted");
  check(t.bad == 0, t.first + " (" + std::to_string(t.bad) + " of " + std::to_string(t.cases) +
                        " layouts differ)");
  std::printf("  quantize_linear[%s]: %d layouts, %d differ from the reference\n", isa, t.cases,
              t.bad);
}

// Bad arguments: LB_ERR_INVALID_ARGUMENT and not one byte written.
void test_quantize_linear_bad(const char *isa) {
  int bad = 0;
  std::string first;
  auto expect_invalid = [&](const char *what, const qdtype &d, lb_qlayout l,
                            std::vector<float> scale, std::vector<int32_t> zp, size_t n_scales,
                            size_t out_bytes) {
    const size_t total = l.outer * l.axis_len * l.inner;
    std::vector<float> x(total, 1.0f), xo(total + 4, -7.0f);
    std::vector<uint8_t> q(out_bytes + 16, 0xA5), qin(out_bytes + 16, 0x11);
    lb_status s1 = lb_quantize_linear(x.data(), l, scale.data(), zp.empty() ? nullptr : zp.data(),
                                      n_scales, d.t, q.data(), out_bytes);
    lb_status s2 = lb_dequantize_linear(qin.data(), out_bytes, l, scale.data(),
                                        zp.empty() ? nullptr : zp.data(), n_scales, d.t, xo.data());
    bool ok = s1 == LB_ERR_INVALID_ARGUMENT && s2 == LB_ERR_INVALID_ARGUMENT;
    for (uint8_t b : q) ok = ok && b == 0xA5;
    for (float v : xo) ok = ok && v == -7.0f;
    if (!ok && !bad++)
      first = std::string("quantize_linear[") + isa + "] " + d.name + " " + what +
              ": status " + lb_status_string(s1) + " / " + lb_status_string(s2) +
              " (or something written)";
  };
  for (const qdtype &d : kQTypes) {
    const lb_qlayout pt{1, 10, 1, 0, 0}, ax{2, 5, 3, 0, 0}, bl{2, 10, 1, 4, 0};
    const size_t bytes_pt = lb_quantized_bytes(d.t, pt), bytes_ax = lb_quantized_bytes(d.t, ax);
    const size_t bytes_bl = lb_quantized_bytes(d.t, bl);
    for (float s : {0.0f, -0.0f, -1.0f, NAN, INFINITY, -INFINITY})
      expect_invalid("bad scale", d, pt, {s}, {}, 1, bytes_pt);
    expect_invalid("bad last per-axis scale", d, ax, {1, 1, 1, 1, NAN}, {}, 5, bytes_ax);
    expect_invalid("zp above range", d, pt, {1}, {d.qmax + 1}, 1, bytes_pt);
    expect_invalid("zp below range", d, pt, {1}, {d.qmin - 1}, 1, bytes_pt);
    expect_invalid("last per-axis zp out of range", d, ax, {1, 1, 1, 1, 1},
                   {0, 0, 0, 0, d.qmax + 1}, 5, bytes_ax);
    expect_invalid("n_scales mismatch (per axis)", d, ax, {1, 1, 1, 1, 1, 1}, {}, 6, bytes_ax);
    expect_invalid("n_scales mismatch (blocked)", d, bl, std::vector<float>(5, 1.0f), {}, 5,
                   bytes_bl);  // 2 x ceil(10 / 4) = 6
    expect_invalid("out_bytes too small", d, pt, {1}, {}, 1, bytes_pt - 1);
    expect_invalid("out_bytes too small (blocked)", d, bl, std::vector<float>(6, 1.0f), {}, 6,
                   bytes_bl - 1);
    if (d.bits < 8)
      expect_invalid("row_len not dividing the tensor", d, {1, 10, 1, 0, 3}, {1}, {}, 1, 16);
    // lb_quantize_linear_range: a range reaching outside the dtype's, or empty
    const int32_t ranges[][2] = {{d.qmin - 1, d.qmax}, {d.qmin, d.qmax + 1}, {1, 0}};
    for (auto &r : ranges) {
      std::vector<uint8_t> q(bytes_pt + 8, 0xA5);
      const float x[10] = {0}, s = 1.0f;
      lb_status st =
          lb_quantize_linear_range(x, pt, &s, nullptr, 1, d.t, r[0], r[1], q.data(), bytes_pt);
      bool ok = st == LB_ERR_INVALID_ARGUMENT;
      for (uint8_t b : q) ok = ok && b == 0xA5;
      if (!ok && !bad++)
        first = std::string("quantize_linear_range[") + isa + "] " + d.name + " [" +
                std::to_string(r[0]) + ", " + std::to_string(r[1]) + "]: status " +
                lb_status_string(st) + " (or something written)";
    }
  }
  const qdtype bogus{(lb_dtype)7, "dtype-7", 0, 255, 8};
  expect_invalid("unknown dtype", bogus, {1, 10, 1, 0, 0}, {1}, {}, 1, 10);
  check(bad == 0, first);
}

// ---- the GEMM engine: kernel variants, blocks, threads, prepack, the linear layer -------

// Packs N x K 8-bit weights (rows K apart) with optional scales / zero points.
lb_packed_weights *pack8(const uint8_t *B, lb_dtype t, size_t N, size_t K, const float *scale,
                         size_t count, const int32_t *zp) {
  lb_weights_desc d{t, N, K, B, LB_LAYOUT_NK, K, 0, scale, LB_SCALE_F32, count, zp};
  lb_packed_weights *W = nullptr;
  return lb_prepack(&d, &W) == LB_OK ? W : nullptr;
}

int32_t value8(const uint8_t *p, lb_dtype t, size_t i) {
  return t == LB_INT8 ? (int32_t)(int8_t)p[i] : (int32_t)p[i];
}

// Exact sum of A' x B'^T modulo 2^32 for kernel-level tests (A' int8 or uint8, B' int8).
int32_t dot_ref(const uint8_t *a, bool a_signed, const int8_t *b, size_t K) {
  uint32_t acc = 0;
  for (size_t k = 0; k < K; ++k)
    acc += (uint32_t)((a_signed ? (int)(int8_t)a[k] : (int)a[k]) * (int)b[k]);
  return (int32_t)acc;
}

// Each raw kernel of the ISA (general, sign-trick, 7-bit unsigned) called directly on operands of the
// range it is specified for, extremes included, against dot_ref.
void test_gemm_variants(const char *isa, const lb_gemm_i8_kernel &kern) {
  struct variant {
    const char *name;
    lb_gemm_i8_fn fn;
    bool a_signed;
    int a_lo, a_hi, b_lo;
    bool a_tiles16;
    size_t m_align, max_rows;  // M = m_align x (1 .. max_rows)
  } vs[] = {{"general", kern.fn, kern.a_signed, kern.a_signed ? -128 : 0, kern.a_signed ? 127 : 255,
             -128, kern.a_tiles16, kern.m_align, 9},
            {"sym", kern.fn_sym, true, -128, 127, -127, kern.a_tiles16, kern.m_align, 9},
            {"u7", kern.fn_u7, false, 0, 127, -128, kern.a_tiles16, kern.m_align, 9},
            {"small", kern.fn_small, kern.a_signed, kern.a_signed ? -128 : 0,
             kern.a_signed ? 127 : 255, -128, false, 1, kern.small_m}};
  for (const variant &v : vs) {
    if (!v.fn) {
      std::printf("  gemm kernel %s[%s]: none (the general kernel serves)\n", v.name, isa);
      continue;
    }
    int cases = 0, bad = 0;
    std::string first;
    for (int it = 0; it < 60; ++it) {
      const size_t M = (1 + rand_below(v.max_rows)) * v.m_align, N = (1 + rand_below(9)) * kern.n_align;
      // K = 0 too: the driver passes Kp = 0 for an empty inner dimension.
      const size_t K = it % 10 == 9 ? 0 : 64 * (1 + rand_below(it < 50 ? 6 : 40));
      const int mode = it % 4;  // 0 random, 1 extremes, 2 constant, 3 zeros in A
      uint8_t *A = (uint8_t *)lb_aligned_alloc(M * K);
      int8_t *B = (int8_t *)lb_aligned_alloc(N * K), *Bp = (int8_t *)lb_aligned_alloc(N * K);
      const int c = rand_int(v.b_lo, 127), ca = rand_int(v.a_lo, v.a_hi);
      for (size_t i = 0; i < M * K; ++i) {
        int a = mode == 0 ? rand_int(v.a_lo, v.a_hi) : mode == 1 ? ((i & 1) ? v.a_lo : v.a_hi)
                : mode == 2 ? ca : 0;
        A[i] = (uint8_t)a;
      }
      for (size_t i = 0; i < N * K; ++i)
        B[i] = (int8_t)(mode == 0 ? rand_int(v.b_lo, 127) : mode == 1 ? ((i % 3) ? v.b_lo : 127) : c);
      if (kern.pack_b) kern.pack_b(N, K, B, Bp); else std::memcpy(Bp, B, N * K);
      uint8_t *At = (uint8_t *)lb_aligned_alloc(M * K);  // A in the kernel's layout
      if (v.a_tiles16)
        for (size_t g = 0; g < M / 16; ++g) lb_pack_a_tiles16(K, A + g * 16 * K, At + g * 16 * K);
      else
        std::memcpy(At, A, M * K);
      const size_t ldc = N + rand_below(3);
      std::vector<int32_t> C(M * ldc, 0x5A5A5A5A);
      v.fn(M, N, K, At, Bp, C.data(), ldc);
      for (size_t m = 0; m < M && !bad; ++m)
        for (size_t n = 0; n < N; ++n) {
          const int32_t want = dot_ref(A + m * K, v.a_signed, B + n * K, K);
          if (C[m * ldc + n] != want) {
            char buf[200];
            std::snprintf(buf, sizeof buf, "gemm %s[%s] M=%zu N=%zu K=%zu mode=%d: C[%zu,%zu]=%d, want %d",
                          v.name, isa, M, N, K, mode, m, n, C[m * ldc + n], want);
            first = buf;
            ++bad;
            break;
          }
        }
      ++cases;
      lb_aligned_free(A);
      lb_aligned_free(At);
      lb_aligned_free(B);
      lb_aligned_free(Bp);
    }
    check(bad == 0, first);
    std::printf("  gemm kernel %s[%s]: %d cases, %d differ\n", v.name, isa, cases, bad);
  }
}

// The engine through the C ABI with small blocks and 1 or 3 threads, so products cross block
// and thread boundaries: lb_matmul_integer and the packed form on operands that avoid -128
// (the narrow-range kernels) and that do not, against lb_matmul_integer_ref.
void test_gemm_engine(const char *isa) {
  const size_t saved = lb_get_threads();
  int cases = 0, bad = 0;
  std::string first;
  for (int it = 0; it < 40; ++it) {
    lb_set_threads(it % 2 ? 3 : 1);
    lb_gemm_set_block_override(48, 48);
    const size_t M = 1 + rand_below(it < 30 ? 120 : 3), N = 1 + rand_below(160),
                 K = 1 + rand_below(300);
    const lb_dtype at = rand_below(2) ? LB_INT8 : LB_UINT8, bt = rand_below(2) ? LB_INT8 : LB_UINT8;
    const bool narrow = it % 4 < 2;  // no -128 after the dtype shift: the sign-trick kernels
    auto fill = [&](std::vector<uint8_t> &v, lb_dtype t) {
      for (auto &x : v) {
        x = (uint8_t)g_rng();
        if (narrow && x == (t == LB_INT8 ? 0x80 : 0x00)) x ^= 1;
      }
    };
    std::vector<uint8_t> A(M * K), B(N * K), bzp(N);
    fill(A, at);
    fill(B, bt);
    fill(bzp, bt);
    const uint8_t azp = (uint8_t)g_rng();
    const bool with_zp = rand_below(2);
    std::vector<int32_t> got(M * N), packed(M * N), want(M * N);
    lb_status s1 = lb_matmul_integer(M, N, K, A.data(), at, K, B.data(), bt, LB_LAYOUT_NK, K,
                                     with_zp ? &azp : nullptr, 1, with_zp ? bzp.data() : nullptr,
                                     N, got.data(), N);
    std::vector<int32_t> bzp32(N);
    for (size_t n = 0; n < N; ++n) bzp32[n] = value8(bzp.data(), bt, n);
    lb_packed_weights *W = pack8(B.data(), bt, N, K, nullptr, N, with_zp ? bzp32.data() : nullptr);
    const lb_call_opts opts{8, LB_COMPUTE_INT8, it % 3 == 0 ? (size_t)2 : 0};
    lb_status s2 = W ? LB_OK : LB_ERR_INVALID_ARGUMENT;
    if (s2 == LB_OK)
      s2 = lb_matmul_integer_packed(M, A.data(), at, K, with_zp ? &azp : nullptr, 1, W, &opts,
                                    packed.data(), N);
    lb_packed_free(W);
    lb_matmul_integer_ref(M, N, K, A.data(), at, K, B.data(), bt, LB_LAYOUT_NK, K,
                          with_zp ? &azp : nullptr, 1, with_zp ? bzp.data() : nullptr, N,
                          want.data(), N);
    ++cases;
    if (s1 != LB_OK || s2 != LB_OK || got != want || packed != want) {
      if (!bad++) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "engine[%s] M=%zu N=%zu K=%zu %s x %s narrow=%d zp=%d threads=%zu: %s",
                      isa, M, N, K, dtype_name(at), dtype_name(bt), narrow, with_zp, lb_get_threads(),
                      s1 != LB_OK || s2 != LB_OK ? "status" : got != want ? "unpacked differs" : "packed differs");
        first = buf;
      }
    }
  }
  lb_gemm_set_block_override(0, 0);
  lb_set_threads(saved);
  check(bad == 0, first);
  std::printf("  gemm engine[%s]: %d cases (blocks of 48, 1 and 3 threads), %d differ\n", isa, cases, bad);
}

// lb_linear_f32 against the formula of lowbit.h computed here, on 1 and 3 threads (results
// must be identical bit for bit), with 8- and 7-bit activations, zero points and bias.
void test_linear(const char *isa) {
  const size_t saved = lb_get_threads();
  int cases = 0, bad = 0;
  std::string first;
  for (int it = 0; it < 30; ++it) {
    lb_gemm_set_block_override(it % 3 ? 48 : 0, it % 3 ? 48 : 0);
    const size_t M = rand_below(70), N = 1 + rand_below(130), K = rand_below(260);
    const int bits = it % 2 ? 7 : 8, qmax = bits == 8 ? 127 : 63;
    const lb_dtype wt = it % 5 == 4 ? LB_UINT8 : LB_INT8;
    std::vector<uint8_t> Wq(N * K), wzp(N);
    for (auto &x : Wq) x = (uint8_t)g_rng();
    if (it % 5 < 2 && wt == LB_INT8)  // symmetric weights: the sign-trick kernels
      for (auto &x : Wq) if (x == 0x80) x = 0x81;
    for (auto &x : wzp) x = (uint8_t)g_rng();
    const int zp_mode = it % 3;  // none, per tensor, per column
    std::vector<float> X(M * K + 1), ws(N), bias(N);
    const float range = std::ldexp(1.0f, rand_int(-20, 20));
    for (auto &x : X) x = std::uniform_real_distribution<float>(-range, range)(g_rng);
    if (M > 2 && K > 0) {
      X[K] = std::nanf("");  // a NaN quantizes to 0
      for (size_t k = 0; k < K; ++k) X[2 * K + k] = 0.0f;  // an all-zero row
    }
    for (auto &x : ws) x = std::uniform_real_distribution<float>(1e-3f, 1.0f)(g_rng);
    for (auto &x : bias) x = std::uniform_real_distribution<float>(-1.0f, 1.0f)(g_rng);
    const size_t ws_n = it % 4 ? N : 1;
    const float *b = it % 2 ? bias.data() : nullptr;

    std::vector<float> want(M * N);
    for (size_t m = 0; m < M; ++m) {
      float amax = 0.0f;
      for (size_t k = 0; k < K; ++k)
        if (!std::isnan(X[m * K + k])) amax = std::fmax(amax, std::fabs(X[m * K + k]));
      float s = amax / (float)qmax;
      if (!(s > 0.0f)) s = 1.0f;
      for (size_t n = 0; n < N; ++n) {
        const int zp = zp_mode == 0 ? 0 : (int)(wt == LB_INT8 ? (int8_t)wzp[zp_mode == 1 ? 0 : n] : wzp[zp_mode == 1 ? 0 : n]);
        int64_t acc = 0;
        for (size_t k = 0; k < K; ++k) {
          const int w = wt == LB_INT8 ? (int8_t)Wq[n * K + k] : Wq[n * K + k];
          acc += (int64_t)ref_quantize_one(X[m * K + k], s, 0, -qmax, qmax) * (w - zp);
        }
        float y = (float)(int32_t)acc * (s * ws[ws_n == 1 ? 0 : n]);
        if (b) y = y + b[n];
        want[m * N + n] = y;
      }
    }
    // The descriptor holds one zero point per scale: zero points per column with one scale
    // repeat the scale.
    const size_t nd = zp_mode == 2 ? N : ws_n;
    std::vector<float> wsd(nd);
    std::vector<int32_t> zp32(nd);
    for (size_t n = 0; n < nd; ++n) {
      wsd[n] = ws[ws_n == 1 ? 0 : n];
      zp32[n] = value8(wzp.data(), wt, zp_mode == 1 ? 0 : n);
    }
    lb_packed_weights *W = pack8(Wq.data(), wt, N, K, wsd.data(), nd, zp_mode ? zp32.data() : nullptr);
    bool ok = W != nullptr;
    const lb_call_opts opts{bits, LB_COMPUTE_INT8, 0};
    for (size_t threads : {(size_t)1, (size_t)3}) {
      lb_set_threads(threads);
      std::vector<float> got(M * N, -7.0f);
      ok = ok && W && lb_linear_f32(M, X.data(), K, W, b, &opts, got.data(), N) == LB_OK;
      ok = ok && same_floats(got.data(), want.data(), want.size());
    }
    // A row with an infinity: an error, and Y untouched.
    if (ok && M > 0 && K > 0) {
      std::vector<float> Xi(X), got(M * N, -7.0f);
      Xi[(M - 1) * K] = -INFINITY;
      ok = lb_linear_f32(M, Xi.data(), K, W, b, &opts, got.data(), N) == LB_ERR_INVALID_ARGUMENT &&
           std::all_of(got.begin(), got.end(), [](float v) { return v == -7.0f; });
    }
    lb_packed_free(W);
    ++cases;
    if (!ok && !bad++) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "linear[%s] M=%zu N=%zu K=%zu bits=%d %s zp=%d", isa, M, N, K,
                    bits, dtype_name(wt), zp_mode);
      first = buf;
    }
  }
  lb_gemm_set_block_override(0, 0);
  lb_set_threads(saved);
  check(bad == 0, first);
  std::printf("  linear[%s]: %d cases, %d differ from the formula\n", isa, cases, bad);
}

// ---- the grouped engine: every weight format x granularity, on each ISA's kernels ---------

struct wformat {
  lb_dtype t;
  int bits, qmin, qmax;
};
const wformat kWFormats[] = {{LB_INT8, 8, -128, 127}, {LB_UINT8, 8, 0, 255}, {LB_INT4, 4, -8, 7},
                             {LB_UINT4, 4, 0, 15},    {LB_INT2, 2, -2, 1},   {LB_UINT2, 2, 0, 3},
                             {LB_NF4, 4, 0, 15}};

// N x K values packed as SPEC §2 says: rows of row_bytes bytes, or (row_bytes 0) one stream;
// `skew` extra bytes in front, so the data is an unaligned view.
std::vector<uint8_t> pack_values(const std::vector<int> &q, int bits, size_t N, size_t K,
                                 size_t row_bytes, size_t skew) {
  const size_t per = 8 / bits;
  const size_t total = bits == 8 ? N * K : row_bytes ? N * row_bytes : (N * K + per - 1) / per;
  std::vector<uint8_t> out(skew + total + 1, 0);
  for (size_t n = 0; n < N; ++n)
    for (size_t k = 0; k < K; ++k) {
      const size_t i = bits == 8 ? n * K + k : row_bytes ? n * row_bytes * per + k : n * K + k;
      out[skew + i / per] |= (uint8_t)((q[n * K + k] & ((1 << bits) - 1)) << ((i % per) * bits));
    }
  return out;
}

// A binary16 value of the normal range near 2^e, independently of the library: its bits and value.
uint16_t rand_f16(int e, float *value) {
  const int exp = std::min(30, std::max(1, e + 15)), man = (int)rand_below(1024);
  *value = std::ldexp((1024.0f + man) / 1024.0f, exp - 15);
  return (uint16_t)(exp << 10 | man);
}

struct gcase {
  size_t M, N, K, G;  // G = 0: per channel
  int fmt;            // index in kWFormats
  int zp_mode;        // 0 none, 1 per group
  bool f16, bias, stream;
  int xmode;          // 0 random, 1 extremes, 2 zeros, 3 constant, 4 huge range,
                      // 5 every weight qmax and every activation the same positive value
};

// Runs one case through lb_prepack + lb_linear_f32 (int8 and float32 compute) and lb_linear_q8,
// on 1 and 3 threads, against the formula computed here. Returns "" or what differed.
std::string run_gcase(const gcase &c, const char **kernel) {
  const wformat &f = kWFormats[c.fmt];
  const bool nf4 = f.t == LB_NF4;
  const size_t M = c.M, N = c.N, K = c.K, G = c.G && c.G < K ? c.G : K;
  const size_t groups = K ? (K + G - 1) / G : 0, ns = c.G ? N * groups : N;
  std::vector<int> q(N * K);
  for (size_t i = 0; i < q.size(); ++i)
    q[i] = c.xmode == 5 ? f.qmax : c.xmode == 1 ? ((i % 3) ? f.qmin : f.qmax) : rand_int(f.qmin, f.qmax);
  // One spare entry each: an empty tensor still passes non-null scales (null means integer-only).
  std::vector<float> ws(ns + 1);
  std::vector<uint16_t> ws16(ns + 1);
  std::vector<int32_t> zp(ns + 1);
  for (size_t i = 0; i < ns; ++i) {
    if (c.f16)
      ws16[i] = rand_f16(rand_int(-12, 0), &ws[i]);
    else
      ws[i] = std::uniform_real_distribution<float>(1e-3f, 1.0f)(g_rng);
    zp[i] = c.zp_mode ? rand_int(f.qmin, f.qmax) : 0;
  }
  const bool flat = f.bits < 8 && c.G == 0;  // an unblocked tensor is one packed stream
  const size_t row_bytes = f.bits == 8 || flat ? 0 : (K * f.bits + 7) / 8 + rand_below(2), skew = rand_below(3);
  std::vector<uint8_t> data = pack_values(q, f.bits, N, K, row_bytes, skew);
  lb_weights_desc d{f.t, N, K, data.data() + skew, LB_LAYOUT_NK, f.bits == 8 ? K : row_bytes, c.G,
                    c.f16 ? (const void *)ws16.data() : (const void *)ws.data(),
                    c.f16 ? LB_SCALE_F16 : LB_SCALE_F32, ns, c.zp_mode ? zp.data() : nullptr};
  lb_packed_weights *W = nullptr;
  if (lb_status st = lb_prepack(&d, &W); st != LB_OK) return std::string("prepack: ") + lb_status_string(st);
  *kernel = lb_packed_kernel(W);
  const bool raw = std::strncmp(lb_packed_kernel(W), "ggemm", 5) != 0;  // RAW_I8: y = t, no 0 + t

  std::vector<float> X(M * K), bias(N);
  const float range = c.xmode == 4 ? std::ldexp(1.0f, rand_int(-30, 30)) : 4.0f;
  const float cst = std::uniform_real_distribution<float>(-range, range)(g_rng);
  for (size_t i = 0; i < X.size(); ++i)
    X[i] = c.xmode == 2 ? 0.0f : c.xmode == 3 ? cst : c.xmode == 5 ? range
           : c.xmode == 1 ? ((i & 1) ? range : -range)
                          : std::uniform_real_distribution<float>(-range, range)(g_rng);
  for (auto &b : bias) b = std::uniform_real_distribution<float>(-1.0f, 1.0f)(g_rng);
  const float *b = c.bias ? bias.data() : nullptr;
  auto weight = [&](size_t n, size_t k) {  // dequantize's value
    const size_t s = n * (groups ? groups : 1) + k / G;
    return nf4 ? lb_nf4_codebook[q[n * K + k]] * ws[s] : (float)(q[n * K + k] - zp[s]) * ws[s];
  };
  // The int8 formula on activations aq (row scale as[m], zero point az[m]).
  auto formula = [&](const std::vector<int> &aq, const std::vector<float> &as, const std::vector<int> &az) {
    std::vector<float> y(M * N);
    for (size_t m = 0; m < M; ++m)
      for (size_t n = 0; n < N; ++n) {
        float acc_y = 0.0f;
        for (size_t g = 0; g < groups; ++g) {
          const size_t s = n * groups + g;
          int64_t acc = 0;
          for (size_t k = g * G; k < K && k < (g + 1) * G; ++k)
            acc += (int64_t)(aq[m * K + k] - az[m]) * (q[n * K + k] - zp[s]);
          const float t = (float)(int32_t)(uint32_t)acc * (as[m] * ws[s]);
          acc_y = raw && g == 0 ? t : acc_y + t;
        }
        y[m * N + n] = b ? acc_y + b[n] : acc_y;
      }
    return y;
  };
  std::string err;
  const size_t saved = lb_get_threads();
  for (size_t threads : {(size_t)1, (size_t)3}) {
    lb_set_threads(threads);
    const lb_call_opts o8{8, LB_COMPUTE_INT8, 0}, of{8, LB_COMPUTE_FLOAT32, 0};
    if (!nf4) {  // float activations, int8 compute
      std::vector<int> aq(M * K), az(M, 0);
      std::vector<float> as(M);
      for (size_t m = 0; m < M; ++m) {
        float amax = 0.0f;
        for (size_t k = 0; k < K; ++k) amax = std::fmax(amax, std::fabs(X[m * K + k]));
        as[m] = amax / 127.0f > 0.0f ? amax / 127.0f : 1.0f;
        for (size_t k = 0; k < K; ++k) aq[m * K + k] = ref_quantize_one(X[m * K + k], as[m], 0, -127, 127);
      }
      const std::vector<float> want = formula(aq, as, az);
      std::vector<float> got(M * N + 1, -7.0f);
      if (lb_linear_f32(M, X.data(), K, W, b, &o8, got.data(), N) != LB_OK) err = "linear int8: status";
      else if (!same_floats(got.data(), want.data(), want.size()) || got[M * N] != -7.0f)
        err = "linear int8 differs";
      // A QTensor: int8 or uint8 activations with a zero point per row.
      const bool u8 = rand_below(2);
      std::vector<uint8_t> A(M * K);
      std::vector<int> a8(M * K), az8(M);
      std::vector<uint8_t> zp8(M);
      for (size_t m = 0; m < M; ++m) {
        az8[m] = u8 ? (rand_below(2) ? 128 : rand_int(0, 255)) : (rand_below(2) ? 0 : rand_int(-128, 127));
        zp8[m] = (uint8_t)az8[m];
        as[m] = std::uniform_real_distribution<float>(1e-3f, 1.0f)(g_rng);
      }
      for (size_t i = 0; i < A.size(); ++i) {
        a8[i] = c.xmode == 1 ? ((i & 1) ? (u8 ? 255 : 127) : (u8 ? 0 : -128)) : u8 ? rand_int(0, 255) : rand_int(-128, 127);
        A[i] = (uint8_t)a8[i];
      }
      const std::vector<float> want8 = formula(a8, as, az8);
      std::fill(got.begin(), got.end(), -7.0f);
      if (err.empty() && lb_linear_q8(M, A.data(), u8 ? LB_UINT8 : LB_INT8, K, as.data(), M, zp8.data(), M, W, b,
                                      &o8, got.data(), N) != LB_OK)
        err = "linear q8: status";
      else if (err.empty() && !same_floats(got.data(), want8.data(), want8.size()))
        err = "linear q8 differs";
    }
    // Weight-only, within SPEC §4's tolerance. Not for the 150k-long rows of equal terms: the
    // scalar float32 GEMM sums a row in order, and 150k equal terms drift past 1e-4 of their
    // sum (ARCHITECTURE, known limits).
    if (err.empty() && c.xmode != 5) {
      std::vector<float> got(M * N, -7.0f);
      if (lb_linear_f32(M, X.data(), K, W, b, &of, got.data(), N) != LB_OK) err = "linear float32: status";
      for (size_t m = 0; m < M && err.empty(); ++m)
        for (size_t n = 0; n < N && err.empty(); ++n) {
          double exact = b ? b[n] : 0.0, mag = b ? std::fabs(b[n]) : 0.0;
          for (size_t k = 0; k < K; ++k) {
            const double p = (double)X[m * K + k] * weight(n, k);
            exact += p;
            mag += std::fabs(p);
          }
          if (std::fabs(got[m * N + n] - exact) > 1e-4 * mag + 1e-6 * std::fabs(exact) + 1e-30) err = "linear float32 off";
        }
    }
    if (!err.empty()) break;
  }
  lb_set_threads(saved);
  lb_packed_free(W);
  return err;
}

void test_grouped(const char *isa) {
  std::vector<gcase> cases;
  // Systematic edges: k = G, 2G, K not a multiple of G, every m below the tiles' rows (up to 4
  // rows: 1, 2, 4; beyond, 4, 6 or 8 and their tails) and n around the panels' widths (4, 8, 16)
  // and the tiles' (48 and 64 columns).
  for (int fmt = 0; fmt < 7; ++fmt)
    for (size_t G : {(size_t)32, (size_t)64})
      for (size_t K : {G, 2 * G, 2 * G + 3, G - 1})
        for (size_t M : {(size_t)1, (size_t)2, (size_t)3, (size_t)4, (size_t)5, (size_t)6, (size_t)7, (size_t)8, (size_t)9, (size_t)13})
          for (size_t N : {(size_t)1, (size_t)15, (size_t)17, (size_t)49, (size_t)63, (size_t)65})
            if (rand_below(3) == 0)
              cases.push_back({M, N, K, G, fmt, fmt == 6 ? 0 : (int)rand_below(2), rand_below(2) == 0, true, false, 0});
  // AMX's tiles of 16 rows: 2 x 2 and 1 x 1 tiles, a row tail; K = Gp, several Gp and 64-deep steps.
  // 50 rows in blocks of 48 (every third case has no block override) leave a block of 2 rows,
  // which AMX still takes on signed panels.
  for (int fmt = 0; fmt < 7; ++fmt)
    for (size_t M : {(size_t)16, (size_t)33, (size_t)47, (size_t)50})
      for (size_t G : {(size_t)32, (size_t)36, (size_t)128})
        cases.push_back({M, M == 33 ? (size_t)49 : (size_t)64, M == 16 ? G : 3 * G - 5, G, fmt,
                         fmt == 6 ? 0 : (int)rand_below(2), rand_below(2) == 0, rand_below(2) == 0, false,
                         (int)rand_below(5)});
  // One row over 9 panels of 16 and two over 5: the AVX-512 GEMV's full 1 x 8 and 2 x 4 tiles
  // (groups of 32 unrolled whole) and their tails.
  for (int fmt = 0; fmt < 7; ++fmt)
    for (size_t M : {(size_t)1, (size_t)2})
      cases.push_back({M, M == 1 ? (size_t)145 : (size_t)79, 67, 32, fmt, fmt == 6 ? 0 : (int)rand_below(2), rand_below(2) == 0, true, false, 0});
  // Groups past the kernels' segment of 8192 chunks (2^16 4-bit values, 2^17 2-bit ones), where
  // the AVX-512 GEMV tiles fold their weight-16 sums in: per channel, sums that would overflow a
  // weight-16 accumulator kept over the whole group (K / 2 * 16 * qmax * 127 > 2^31).
  for (int fmt = 0; fmt < 7; ++fmt)
    for (size_t M : {(size_t)1, (size_t)2})
      cases.push_back({M, 17, kWFormats[fmt].bits == 2 ? (size_t)720001 : (size_t)150001, 0, fmt, 0, false, true, false, 5});
  // Random shapes and granularities (per channel, odd blocks, 32 .. 256), values at the extremes.
  for (int it = 0; it < 140; ++it) {
    const size_t Gs[] = {0, 32, 64, 128, 256, 5, 33, 1};
    const int fmt = (int)rand_below(7), xmode = (int)rand_below(5);
    const size_t M = it % 10 == 0 ? 0 : 1 + rand_below(it % 3 ? 12 : 40), N = it % 17 == 0 ? 0 : 1 + rand_below(70);
    const size_t K = it % 13 == 0 ? 0 : 1 + rand_below(300);
    cases.push_back({M, N, K, Gs[rand_below(8)], fmt, kWFormats[fmt].t == LB_NF4 ? 0 : (int)rand_below(2),
                     rand_below(3) == 0, rand_below(2) == 0, false, xmode});
  }
  int bad = 0;
  std::string first;
  std::vector<std::string> kernels;
  for (size_t i = 0; i < cases.size(); ++i) {
    const gcase &c = cases[i];
    lb_gemm_set_block_override(i % 3 ? 48 : 0, i % 3 ? 48 : 0);
    lb_ggemm_set_expand(i % 4 != 3);  // both paths beyond 4 rows: expanded blocks and direct tiles
    const char *kernel = "?";
    const std::string err = run_gcase(c, &kernel);
    if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end()) kernels.push_back(kernel);
    if (!err.empty() && !bad++) {
      char buf[300];
      std::snprintf(buf, sizeof buf, "grouped[%s] %s on %s: M=%zu N=%zu K=%zu G=%zu zp=%d f16=%d bias=%d x=%d: %s", isa,
                    kWFormats[c.fmt].t == LB_NF4 ? "nf4" : dtype_name(kWFormats[c.fmt].t), kernel, c.M, c.N, c.K,
                    c.G, c.zp_mode, c.f16, c.bias, c.xmode, err.c_str());
      first = buf;
    }
  }
  lb_gemm_set_block_override(0, 0);
  lb_ggemm_set_expand(true);
  check(bad == 0, first);
  std::string names;
  for (auto &k : kernels) names += (names.empty() ? "" : ", ") + k;
  std::printf("  grouped engine[%s]: %zu cases (int8 exact, q8 exact, float32 within tolerance), %d differ; kernels: %s\n",
              isa, cases.size(), bad, names.c_str());
}

// The layout packers in registers (AVX2 for AVX-VNNI, AVX-512) give the portable one's bytes
// (random rows, N and K multiples of 16 and 64 as the driver pads them), each where the CPU
// has its ISA.
void test_pack_vnni16() {
#if defined(__x86_64__)
  auto against_portable = [](const char *name, uint64_t needs, void (*pack)(size_t, size_t, const int8_t *, int8_t *)) {
    if ((lb_cpu_features() & needs) != needs) {
      ++g_skipped;
      std::printf("SKIP %s: this CPU lacks its ISA\n", name);
      return;
    }
    int bad = 0, cases = 0;
    for (int it = 0; it < 20; ++it) {
      const size_t N = 16 * (1 + rand_below(6)), K = 64 * (1 + rand_below(20));
      std::vector<int8_t> rows(N * K), a(N * K), b(N * K);
      for (auto &v : rows) v = (int8_t)g_rng();
      lb_pack_b_vnni16(N, K, rows.data(), a.data());
      pack(N, K, rows.data(), b.data());
      bad += a != b;
      ++cases;
    }
    check(bad == 0, std::string(name) + " differs from lb_pack_b_vnni16");
    std::printf("  %s: %d cases, %d differ from the portable packer\n", name, cases, bad);
  };
  against_portable("pack_b_vnni16_avx2", LB_CPU_AVX2, lb_pack_b_vnni16_avx2);
  against_portable("pack_b_vnni16_avx512", LB_CPU_AVX512F | LB_CPU_AVX512VNNI, lb_pack_b_vnni16_avx512);
  // K x N and N x K straight into the layout (pack_b_kn, pack_b_nk): against the rows
  // B'[n, k] = B ^ flip padded with zeros to Kp and 16-column blocks, packed by the portable
  // packer; the column sums and the -128 flag against plain loops. Partial strips (nn < nt), K
  // not a multiple of 4 or 64, values at the extremes, B misaligned and its rows padded.
  typedef bool (*direct_fn)(size_t, size_t, size_t, size_t, const uint8_t *, size_t, uint8_t, int8_t *, uint32_t *);
  // (vnni: the VNNI layout; else N x K rows, the AVX2 kernel's layout.)
  auto against_rows = [](const char *name, uint64_t needs, direct_fn pack, bool kn, bool vnni) {
    if ((lb_cpu_features() & needs) != needs) {
      ++g_skipped;
      std::printf("SKIP %s: this CPU lacks its ISA\n", name);
      return;
    }
    const fill fills[] = {fill::random, fill::max_magnitude, fill::zero, fill::constant, fill::alternating};
    int bad = 0, cases = 0;
    for (int it = 0; it < 60; ++it) {
      const size_t K = it % 4 ? 1 + rand_below(300) : 64 * (1 + rand_below(4)), Kp = (K + 63) / 64 * 64;
      const size_t nt = 16 * (1 + rand_below(it % 5 ? 16 : 64)), nn = it % 3 ? nt : 1 + rand_below(nt);
      const size_t ldb = (kn ? nn : K) + rand_below(5);
      const uint8_t flip = rand_below(2) ? 0x80 : 0;
      const size_t misalign = rand_below(4);
      std::vector<uint8_t> B((kn ? K : nn) * ldb + misalign + 64);
      fill_bytes(B.data(), B.size(), rand_below(2) ? LB_UINT8 : LB_INT8, fills[rand_below(5)]);
      const uint8_t *b = B.data() + misalign;
      std::vector<int8_t> rows(nt * Kp, 0), want(nt * Kp), out(nt * Kp + 64, 0x55);
      // out 64-byte aligned (as Bp is: streaming stores) or a byte past
      int8_t *gp = out.data() + (64 - (uintptr_t)out.data() % 64) % 64 + (it % 2);
      std::vector<int8_t> got;
      std::vector<uint32_t> sums(nn, 0), got_sums(nn + 1, 0x5A5A5A5A);
      bool low = false;
      for (size_t n = 0; n < nn; ++n)
        for (size_t k = 0; k < K; ++k) {
          const int8_t v = (int8_t)(b[kn ? k * ldb + n : n * ldb + k] ^ flip);
          rows[n * Kp + k] = v;
          sums[n] += (uint32_t)(int32_t)v;
          low |= v == -128;
        }
      if (vnni) lb_pack_b_vnni16(nt, Kp, rows.data(), want.data());
      else want = rows;
      const bool got_low = pack(K, Kp, nn, nt, b, ldb, flip, gp, got_sums.data());
      got.assign(gp, gp + nt * Kp);
      bad += got != want || !std::equal(sums.begin(), sums.end(), got_sums.begin()) || got_sums[nn] != 0x5A5A5A5A ||
             got_low != low;
      ++cases;
    }
    check(bad == 0, std::string(name) + " differs from the rows (packed by lb_pack_b_vnni16)");
    std::printf("  %s: %d cases, %d differ from the rows%s\n", name, cases, bad, vnni ? "' packing" : "");
  };
  const uint64_t avx512 = LB_CPU_AVX512F | LB_CPU_AVX512VNNI;
  against_rows("pack_b_vnni16_kn_avx512", avx512, lb_pack_b_vnni16_kn_avx512, true, true);
  against_rows("pack_b_vnni16_nk_avx512", avx512, lb_pack_b_vnni16_nk_avx512, false, true);
  against_rows("pack_b_vnni16_kn_avxvnni", LB_CPU_AVX2 | LB_CPU_AVXVNNI, lb_pack_b_vnni16_kn_avxvnni, true, true);
  against_rows("pack_rows_kn_avx2", LB_CPU_AVX2, lb_pack_rows_kn_avx2, true, false);
#endif
}

// The format tables (formats.h): every dtype has its row, and every block format of the
// ecosystem names an element dtype of the table, a group dividing its super-block, and a byte
// size that matches its element bits and scale encoding.
void test_format_tables() {
  for (lb_dtype t : {LB_INT8, LB_UINT8, LB_INT4, LB_UINT4, LB_INT2, LB_UINT2, LB_NF4}) {
    const lb_format *f = lb_format_of(t);
    check(f && f->per_byte * f->bits == 8 && f->qmax - f->qmin + 1 == (1 << f->bits), "format row");
  }
  check(lb_format_of((lb_dtype)99) == nullptr, "unknown dtype has no row");
  int rows = 0;
  for (int i = 0; i < lb_block_format_count(); ++i, ++rows) {
    const lb_block_format &b = *lb_block_format_at(i);
    const lb_format *e = lb_format_of(b.elem);
    const size_t values = b.super_group ? b.super_group : b.group;
    // Q4_K: two binary16 (d, dmin) and 12 bytes of six-bit scales and mins per super-block.
    const size_t scales = b.scale == LB_SCALE_ENC_U6_F16 ? 4 + 12 : b.scale == LB_SCALE_ENC_F16 ? 2 : 4;
    check(e && (!b.super_group || b.super_group % b.group == 0) &&
              b.block_bytes == values * e->bits / 8 + scales,
          std::string("block format ") + b.name);
  }
  check(lb_block_format_at(rows) == nullptr, "block format table end");
  std::printf("  format tables: 7 dtypes, %d block formats consistent with their structs\n", rows);
}

// The pool under churn: regions of 0-40 tasks back to back on thread counts changing between
// 1 and 5 (workers left out of a region while others join it), per-call limits, pauses long
// enough for the workers to stop polling and sleep, and a second thread starting regions at
// the same time (it runs its own serially). Every task must run exactly once per region.
void test_thread_pool() {
  const size_t saved = lb_get_threads();
  std::atomic<int> bad{0};
  auto churn = [&](unsigned salt, int rounds, bool change_threads) {
    std::mt19937 rng(salt);
    std::vector<std::atomic<int>> ran(40);
    for (int r = 0; r < rounds; ++r) {
      if (change_threads && r % 7 == 0) lb_set_threads(1 + rng() % 5);
      lb_set_local_threads(r % 5 == 0 ? 1 + rng() % 3 : 0);
      const size_t n = rng() % 41;
      for (auto &x : ran) x.store(0);
      lb_parallel(n, [&](size_t t) { ran[t].fetch_add(1); });
      for (size_t t = 0; t < 40; ++t)
        if (ran[t].load() != (t < n ? 1 : 0)) bad.fetch_add(1);
      if (r % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    lb_set_local_threads(0);
  };
  std::thread other([&] { churn(7, 1500, false); });
  churn((unsigned)rand_below(1u << 30), 3000, true);
  other.join();
  lb_set_threads(saved);
  check(bad.load() == 0, "thread pool: every task of every region ran once (" +
                             std::to_string(bad.load()) + " slots wrong)");
}

std::string missing_features(int isa_index) {
  // The ISA names are the feature names that gate them, except where one ISA needs two.
  (void)isa_index;
  std::string have;
  uint64_t f = lb_cpu_features();
  for (int bit = 0; bit < 64; ++bit)
    if ((f >> bit) & 1) {
      const char *n = lb_cpu_feature_name(1ull << bit);
      if (n) have += std::string(have.empty() ? "" : " ") + n;
    }
  return have.empty() ? "none" : have;
}

// Peak loops: every kind this CPU has runs and gives a positive finite rate (no speed is
// asserted: the machine may be shared); the others and bad arguments give their status.
void test_peaks() {
  const int n = lb_peak_count();
  check(n > 0 || std::strcmp(lb_cpu_arch(), "other") == 0, "lb_peak_count() lists kinds");
  check(lb_peak_name(-1) == nullptr && lb_peak_name(n) == nullptr && !lb_peak_usable(n),
        "lb_peak_name / lb_peak_usable outside the list");
  for (int i = 0; i < n; ++i) {
    const char *kind = lb_peak_name(i);
    double ops = -1;
    if (!lb_peak_usable(i)) {
      ++g_skipped;
      std::printf("SKIP peak %s: this CPU/OS lacks it (has: %s)\n", kind,
                  missing_features(0).c_str());
      check(lb_measure_peak(kind, 0.01, &ops) == LB_ERR_UNSUPPORTED_ISA && ops == -1,
            std::string("peak ") + kind + " on a CPU without it: LB_ERR_UNSUPPORTED_ISA");
      continue;
    }
    lb_status st = lb_measure_peak(kind, 0.01, &ops);
    std::printf("peak %s: %.1f G/s\n", kind, ops * 1e-9);
    check(st == LB_OK && std::isfinite(ops) && ops > 0,
          std::string("peak ") + kind + ": status " + lb_status_string(st) + ", " +
              std::to_string(ops) + " ops/s");
  }
  double ops = -1;
  const char *first = n > 0 ? lb_peak_name(0) : "avx2-vfmadd231ps";
  check(lb_measure_peak("no-such-kind", 0.01, &ops) == LB_ERR_INVALID_ARGUMENT &&
            lb_measure_peak(nullptr, 0.01, &ops) == LB_ERR_INVALID_ARGUMENT &&
            lb_measure_peak(first, 0.01, nullptr) == LB_ERR_INVALID_ARGUMENT &&
            lb_measure_peak(first, -1, &ops) == LB_ERR_INVALID_ARGUMENT &&
            lb_measure_peak(first, NAN, &ops) == LB_ERR_INVALID_ARGUMENT &&
            lb_measure_peak(first, 61, &ops) == LB_ERR_INVALID_ARGUMENT && ops == -1,
        "lb_measure_peak: unknown kind, NULL pointers, min_seconds out of [0, 60]");
}

}  // namespace

int main() {
  uint64_t seed = (uint64_t)std::chrono::high_resolution_clock::now().time_since_epoch().count();
  if (const char *s = std::getenv("LOWBIT_SEED")) seed = std::strtoull(s, nullptr, 10);
  g_rng.seed(seed);
  const char *only = std::getenv("LOWBIT_ISA");
  std::printf("lowbit_test: seed %llu (replay with LOWBIT_SEED=%llu), arch %s, CPU features: %s\n",
              (unsigned long long)seed, (unsigned long long)seed, lb_cpu_arch(),
              missing_features(0).c_str());

  test_bad_arguments();
  test_peaks();
  test_thread_pool();
  test_pack_vnni16();
  test_format_tables();
  for (int i = 0; i < lb_isa_count(); ++i) {
    const char *isa = lb_isa_name(i);
    if (only && std::strcmp(only, isa) != 0) continue;
    if (!lb_isa_usable(i)) {
      ++g_skipped;
      std::printf("SKIP %s: this CPU/OS lacks it (has: %s)\n", isa, missing_features(i).c_str());
      continue;
    }
    check(lb_set_isa(isa) == LB_OK && std::strcmp(lb_get_isa(), isa) == 0,
          std::string("select ISA ") + isa);
    std::printf("ISA %s\n", isa);
    test_matmul_integer(isa);
    test_wraparound(isa);
    test_sgemm(isa);
    for (int e = 0; e < lb_kernel_count(); ++e)
      if (lb_kernel_at(e)->isa == i && lb_kernel_at(e)->kind == LB_KERNEL_RAW_I8)
        test_gemm_variants(lb_kernel_at(e)->name, *lb_kernel_at(e)->raw);
    test_grouped(isa);
    test_small_m_threads(isa);
    if (const lb_gemv_u8_kernels *u8 = lb_isa_table()[i].gemv_u8; u8 && u8 != &gemv_u8_ref) test_gemv_u8(isa, *u8);
    if (lb_isa_table()[i].gemv_kn != gemv_kn_ref) test_gemv_kn(isa, lb_isa_table()[i].gemv_kn, lb_isa_table()[i].gemv_nk);
    test_gemm_engine(isa);
    test_linear(isa);
    test_quant_kernels(isa, *lb_isa_table()[i].quant);
    test_quant_block_kernels(isa, *lb_isa_table()[i].quant);
    test_epilogue_kernels(isa, *lb_isa_table()[i].epilogue);
    test_quantize_linear(isa);
    test_quantize_linear_bad(isa);
  }
  std::printf("lowbit_test: %d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
  return g_failed ? 1 : 0;
}
