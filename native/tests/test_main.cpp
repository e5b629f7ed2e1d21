// lowbit native tests: every kernel family on every ISA this CPU has, against the scalar
// references, bit for bit (integer) or within a float tolerance (the float32 baseline).
//
// Fresh random seed each run (printed); LOWBIT_SEED=<n> replays one. LOWBIT_ISA=<name> limits
// the run to one ISA. ISAs the CPU lacks are skipped with the reason printed.
// Ends with "lowbit_test: N passed, N failed, N skipped"; exits non-zero on any failure.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lowbit.h"

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

const char *dtype_name(lb_dtype t) { return t == LB_INT8 ? "s8" : "u8"; }

struct shape {
  size_t M, N, K;
};

// One lb_matmul_integer call on the active ISA against the reference. Buffers are offset by
// `misalign` bytes and rows padded, so kernels never see the caller's alignment or strides.
bool run_case(shape s, lb_dtype at, lb_dtype bt, lb_layout layout, int zp_mode, fill fa, fill fb,
              size_t misalign, std::string *why) {
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
  lb_status st = lb_matmul_integer(s.M, s.N, s.K, A.data() + misalign, at, lda, B.data() + misalign,
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
                         {1, 300, 513}, {64, 64, 64}, {3, 4, 63},    {48, 48, 192}, {4, 19, 1000}};
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

void test_sgemm(const char *isa) {
  const shape shapes[] = {{1, 1, 1}, {3, 4, 8},    {5, 7, 9},     {17, 33, 65},   {1, 300, 513},
                          {2, 3, 0}, {31, 97, 1100}, {64, 64, 64}, {7, 101, 2049}};
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  int bad = 0;
  std::string first;
  for (shape s : shapes) {
    const size_t lda = s.K + 1, ldb = s.K + 3, ldy = s.N + 2;
    std::vector<float> A(s.M * lda + 1), B(s.N * ldb + 1), Y(s.M * ldy, NAN), R(s.M * ldy, NAN);
    for (float &v : A) v = gauss(g_rng);
    for (float &v : B) v = gauss(g_rng);
    lb_sgemm_nt(s.M, s.N, s.K, A.data() + 1, lda, B.data() + 1, ldb, Y.data(), ldy);
    for (size_t m = 0; m < s.M; ++m)
      for (size_t n = 0; n < s.N; ++n) {
        double exact = 0, mag = 0;
        for (size_t k = 0; k < s.K; ++k) {
          double p = (double)A[1 + m * lda + k] * B[1 + n * ldb + k];
          exact += p;
          mag += std::fabs(p);
        }
        // float32 summation error bound ~ K * eps * sum|p|; use a loose multiple of it.
        double tol = 1e-6 + 4.0 * (double)s.K * 6e-8 * mag;
        if (!(std::fabs(Y[m * ldy + n] - exact) <= tol) && !bad++) {
          char buf[200];
          std::snprintf(buf, sizeof buf, "sgemm[%s] M=%zu N=%zu K=%zu Y[%zu,%zu]=%g exact %g", isa,
                        s.M, s.N, s.K, m, n, Y[m * ldy + n], exact);
          first = buf;
        }
      }
  }
  check(bad == 0, first);
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
  }
  std::printf("lowbit_test: %d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
  return g_failed ? 1 : 0;
}
