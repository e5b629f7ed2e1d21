// Node-API binding: converts and checks arguments, calls the C ABI, turns status codes into
// exceptions. The TS layer (lib/) validates first and writes the user-facing messages; the
// checks here only make sure no input can crash the process.
#include <napi.h>

#include <string>
#include <vector>

#include "lowbit.h"

void lb_register_ggml_peer(Napi::Env env, Napi::Object exports);  // ggml_peer.cpp

namespace {

// A typed array's element type, length and data (already offset by its byteOffset; works
// for ArrayBuffer and SharedArrayBuffer alike).
struct view {
  napi_typedarray_type type;
  size_t length;
  void *data;
};

bool get_view(const Napi::Value &v, view *out) {
  if (!v.IsTypedArray()) return false;
  napi_value ab;
  size_t offset;
  return napi_get_typedarray_info(v.Env(), v, &out->type, &out->length, &out->data, &ab,
                                  &offset) == napi_ok;
}

Napi::Value throw_type(Napi::Env env, const std::string &msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value throw_range(Napi::Env env, const std::string &msg) {
  Napi::RangeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool get_size(const Napi::Value &v, size_t *out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(uint64_t)d) return false;
  *out = (size_t)d;
  return true;
}

lb_dtype dtype_of(napi_typedarray_type t) { return t == napi_int8_array ? LB_INT8 : LB_UINT8; }

bool is_8bit(napi_typedarray_type t) {
  return t == napi_int8_array || t == napi_uint8_array || t == napi_uint8_clamped_array;
}

Napi::Value status_error(Napi::Env env, const char *fn, lb_status st) {
  std::string msg = std::string(fn) + ": " + lb_status_string(st);
  if (st == LB_ERR_OUT_OF_MEMORY) {
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return throw_range(env, msg);
}

// cpuInfo() -> { arch, features: { name: bool }, isa, isas: [usable, best last] }
Napi::Value CpuInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("arch", lb_cpu_arch());
  Napi::Object features = Napi::Object::New(env);
  uint64_t have = lb_cpu_features();
  const bool x86 = std::string(lb_cpu_arch()) == "x86_64";
  const uint64_t arch_bits = x86 ? (LB_CPU_AVX2 | LB_CPU_AVXVNNI | LB_CPU_AVX512F |
                                    LB_CPU_AVX512VNNI | LB_CPU_AMX_INT8)
                                 : (LB_CPU_NEON | LB_CPU_NEON_DOTPROD | LB_CPU_NEON_I8MM);
  for (int bit = 0; bit < 64; ++bit) {
    uint64_t b = 1ull << bit;
    if ((arch_bits & b) && lb_cpu_feature_name(b)) features.Set(lb_cpu_feature_name(b), (have & b) != 0);
  }
  o.Set("features", features);
  o.Set("isa", lb_get_isa());
  Napi::Array isas = Napi::Array::New(env);
  uint32_t n = 0;
  for (int i = 0; i < lb_isa_count(); ++i)
    if (lb_isa_usable(i)) isas.Set(n++, lb_isa_name(i));
  o.Set("isas", isas);
  return o;
}

// setIsa(name) -> true, or false when the CPU lacks it (the TS layer words the error).
Napi::Value SetIsa(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return throw_type(env, "setIsa: name must be a string");
  return Napi::Boolean::New(env, lb_set_isa(info[0].As<Napi::String>().Utf8Value().c_str()) == LB_OK);
}

// matmulInteger(a, b, bLayoutNK, M, N, K, aZp | null, bZp | null, out, threads): 8-bit typed
// arrays, zero points of the same class as their tensor, out an Int32Array of M*N, threads for
// this call (0: the pool's).
Napi::Value MatmulInteger(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *fn = "matmulInteger";
  if (info.Length() != 10) return throw_type(env, "matmulInteger: expected 10 arguments");
  view a, b, out, azp{}, bzp{};
  size_t M, N, K;
  if (!get_view(info[0], &a) || !is_8bit(a.type)) return throw_type(env, "matmulInteger: a must be an Int8Array or Uint8Array");
  if (!get_view(info[1], &b) || !is_8bit(b.type)) return throw_type(env, "matmulInteger: b must be an Int8Array or Uint8Array");
  const bool nk = info[2].ToBoolean();
  if (!get_size(info[3], &M) || !get_size(info[4], &N) || !get_size(info[5], &K))
    return throw_range(env, "matmulInteger: M, N, K must be non-negative integers");
  const bool has_azp = !info[6].IsNull() && !info[6].IsUndefined();
  const bool has_bzp = !info[7].IsNull() && !info[7].IsUndefined();
  if (has_azp && (!get_view(info[6], &azp) || azp.type != a.type))
    return throw_type(env, "matmulInteger: aZeroPoint must be a typed array of a's class");
  if (has_bzp && (!get_view(info[7], &bzp) || bzp.type != b.type))
    return throw_type(env, "matmulInteger: bZeroPoint must be a typed array of b's class");
  if (!get_view(info[8], &out) || out.type != napi_int32_array)
    return throw_type(env, "matmulInteger: out must be an Int32Array");
  lb_call_opts opts{};
  if (!get_size(info[9], &opts.threads)) return throw_range(env, "matmulInteger: threads must be a non-negative integer");
  // Sizes, overflow-safe: M*K, K*N, M*N elements must be there.
  size_t mk, kn, mn;
  if (__builtin_mul_overflow(M, K, &mk) || __builtin_mul_overflow(K, N, &kn) ||
      __builtin_mul_overflow(M, N, &mn))
    return throw_range(env, "matmulInteger: M, N, K too large");
  if (a.length < mk) return throw_range(env, "matmulInteger: a holds fewer than M*K elements");
  if (b.length < kn) return throw_range(env, "matmulInteger: b holds fewer than K*N elements");
  if (out.length < mn) return throw_range(env, "matmulInteger: out holds fewer than M*N elements");
  if (has_azp && azp.length != 1 && azp.length != M)
    return throw_range(env, "matmulInteger: aZeroPoint must hold 1 or M values");
  if (has_bzp && bzp.length != 1 && bzp.length != N)
    return throw_range(env, "matmulInteger: bZeroPoint must hold 1 or N values");
  lb_status st = lb_matmul_integer_opts(M, N, K, a.data, dtype_of(a.type), K, b.data, dtype_of(b.type),
                                        nk ? LB_LAYOUT_NK : LB_LAYOUT_KN, nk ? K : N,
                                        has_azp ? azp.data : nullptr, has_azp ? azp.length : 0,
                                        has_bzp ? bzp.data : nullptr, has_bzp ? bzp.length : 0, &opts,
                                        (int32_t *)out.data, N);
  if (st != LB_OK) return status_error(env, fn, st);
  return env.Undefined();
}

// sgemmNT(a, b, M, N, K, out): Float32Arrays, Y = A * B^T (the benchmark's float32 baseline).
Napi::Value SgemmNT(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view a, b, out;
  size_t M, N, K, mk, nk, mn;
  if (info.Length() != 6 || !get_view(info[0], &a) || !get_view(info[1], &b) ||
      !get_view(info[5], &out) || a.type != napi_float32_array || b.type != napi_float32_array ||
      out.type != napi_float32_array)
    return throw_type(env, "sgemmNT(a, b, M, N, K, out) wants Float32Arrays");
  if (!get_size(info[2], &M) || !get_size(info[3], &N) || !get_size(info[4], &K) ||
      __builtin_mul_overflow(M, K, &mk) || __builtin_mul_overflow(N, K, &nk) ||
      __builtin_mul_overflow(M, N, &mn) || a.length < mk || b.length < nk || out.length < mn)
    return throw_range(env, "sgemmNT: sizes do not match the arrays");
  lb_status st = lb_sgemm_nt(M, N, K, (const float *)a.data, K, (const float *)b.data, K,
                             (float *)out.data, N);
  if (st != LB_OK) return status_error(env, "sgemmNT", st);
  return env.Undefined();
}

// The layout arguments shared by quantizeLinear / dequantizeLinear:
// (scale: Float32Array, zp: Int32Array | null, dtype code, outer, axisLen, inner, block, rowLen)
bool get_qargs(const Napi::CallbackInfo &info, size_t first, view *scale, view *zp, bool *has_zp,
               lb_dtype *dtype, lb_qlayout *l) {
  size_t code;
  if (!get_view(info[first], scale) || scale->type != napi_float32_array) return false;
  *has_zp = !info[first + 1].IsNull() && !info[first + 1].IsUndefined();
  if (*has_zp && (!get_view(info[first + 1], zp) || zp->type != napi_int32_array || zp->length != scale->length))
    return false;
  if (!get_size(info[first + 2], &code) || code < LB_INT8 || code > LB_UINT2) return false;
  *dtype = (lb_dtype)code;
  return get_size(info[first + 3], &l->outer) && get_size(info[first + 4], &l->axis_len) &&
         get_size(info[first + 5], &l->inner) && get_size(info[first + 6], &l->block) &&
         get_size(info[first + 7], &l->row_len);
}

// quantizeLinear(x: Float32Array, ...layout args, out: Int8Array | Uint8Array, qmin, qmax)
Napi::Value QuantizeLinear(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view x, scale, zp{}, out;
  bool has_zp;
  lb_dtype dtype;
  lb_qlayout l;
  if (info.Length() != 12 || !get_view(info[0], &x) || x.type != napi_float32_array ||
      !get_qargs(info, 1, &scale, &zp, &has_zp, &dtype, &l) || !get_view(info[9], &out) ||
      !is_8bit(out.type) || !info[10].IsNumber() || !info[11].IsNumber())
    return throw_type(env, "quantizeLinear: bad arguments to the native binding");
  const int32_t qmin = info[10].As<Napi::Number>().Int32Value(), qmax = info[11].As<Napi::Number>().Int32Value();
  size_t total;
  if (__builtin_mul_overflow(l.outer, l.axis_len, &total) || __builtin_mul_overflow(total, l.inner, &total) || total != x.length)
    return throw_range(env, "quantizeLinear: layout does not match x's length");
  lb_status st = lb_quantize_linear_range((const float *)x.data, l, (const float *)scale.data,
                                          has_zp ? (const int32_t *)zp.data : nullptr, scale.length,
                                          dtype, qmin, qmax, out.data, out.length);
  if (st != LB_OK) return status_error(env, "quantizeLinear", st);
  return env.Undefined();
}

// dequantizeLinear(q: Int8Array | Uint8Array, ...layout args, out: Float32Array)
Napi::Value DequantizeLinear(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view q, scale, zp{}, out;
  bool has_zp;
  lb_dtype dtype;
  lb_qlayout l;
  if (info.Length() != 10 || !get_view(info[0], &q) || !is_8bit(q.type) ||
      !get_qargs(info, 1, &scale, &zp, &has_zp, &dtype, &l) || !get_view(info[9], &out) ||
      out.type != napi_float32_array)
    return throw_type(env, "dequantizeLinear: bad arguments to the native binding");
  size_t total;
  if (__builtin_mul_overflow(l.outer, l.axis_len, &total) || __builtin_mul_overflow(total, l.inner, &total) || total != out.length)
    return throw_range(env, "dequantizeLinear: layout does not match out's length");
  lb_status st = lb_dequantize_linear(q.data, q.length, l, (const float *)scale.data,
                                      has_zp ? (const int32_t *)zp.data : nullptr, scale.length,
                                      dtype, (float *)out.data);
  if (st != LB_OK) return status_error(env, "dequantizeLinear", st);
  return env.Undefined();
}

// minmax(x: Float32Array) -> [min, max] over the non-NaN values (Infinity, -Infinity if none)
Napi::Value MinMax(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view x;
  if (info.Length() != 1 || !get_view(info[0], &x) || x.type != napi_float32_array)
    return throw_type(env, "minmax: x must be a Float32Array");
  float mn, mx;
  lb_status st = lb_minmax_f32((const float *)x.data, x.length, &mn, &mx);
  if (st != LB_OK) return status_error(env, "minmax", st);
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set((uint32_t)0, Napi::Number::New(env, mn));
  r.Set((uint32_t)1, Napi::Number::New(env, mx));
  return r;
}

// Packed weights live in an External whose finalizer frees them; free() may come first.
struct packed_holder {
  lb_packed_weights *w;
};

bool get_packed(const Napi::Value &v, lb_packed_weights **w) {
  if (!v.IsExternal()) return false;
  *w = v.As<Napi::External<packed_holder>>().Data()->w;
  return true;
}

// prepack(data: Int8Array | Uint8Array, dtypeCode, N, K, ld, group, scale: Float32Array |
//         Uint16Array (binary16 bits) | null, zeroPoint: Int32Array | null) -> External. ld:
// elements (8-bit) or bytes (sub-byte) between rows, 0 for one packed stream; scale null:
// integer-only weights.
Napi::Value Prepack(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view w, sc{}, zp{};
  size_t code, N, K, ld, group;
  const bool has_scale = info.Length() == 8 && !info[6].IsNull(), has_zp = info.Length() == 8 && !info[7].IsNull();
  if (info.Length() != 8 || !get_view(info[0], &w) || !is_8bit(w.type) || !get_size(info[1], &code) ||
      !get_size(info[2], &N) || !get_size(info[3], &K) || !get_size(info[4], &ld) || !get_size(info[5], &group) ||
      (has_scale && (!get_view(info[6], &sc) || (sc.type != napi_float32_array && sc.type != napi_uint16_array))) ||
      (has_zp && (!get_view(info[7], &zp) || zp.type != napi_int32_array)))
    return throw_type(env, "prepack: bad arguments to the native binding");
  // The sizes the descriptor implies must fit the arrays (lb_prepack trusts its pointers).
  const bool eight = code == LB_INT8 || code == LB_UINT8;
  const size_t bits = eight ? 8 : code == LB_INT2 || code == LB_UINT2 ? 2 : 4;
  size_t need = 0, t;
  if (N && K) {
    if (eight || ld) {
      if (__builtin_mul_overflow(N - 1, ld, &t) || __builtin_add_overflow(t, eight ? K : (K * bits + 7) / 8, &need))
        return throw_range(env, "prepack: sizes too large");
    } else if (__builtin_mul_overflow(N, K, &t) || __builtin_mul_overflow(t, bits, &t)) {
      return throw_range(env, "prepack: sizes too large");
    } else {
      need = (t + 7) / 8;
    }
  }
  const size_t count = has_scale ? sc.length : has_zp ? zp.length : 0;
  if (w.length < need || (has_zp && zp.length != count)) return throw_range(env, "prepack: sizes do not match the arrays");
  static const float kNoScale = 1.0f;  // an empty tensor's scales: non-null, never read
  lb_weights_desc d{(lb_dtype)code, N, K, w.data, LB_LAYOUT_NK, ld, group,
                    has_scale ? (sc.data ? sc.data : (const void *)&kNoScale) : nullptr,
                    has_scale && sc.type == napi_uint16_array && sc.data ? LB_SCALE_F16 : LB_SCALE_F32, count,
                    has_zp ? (const int32_t *)zp.data : nullptr};
  lb_packed_weights *p = nullptr;
  lb_status st = lb_prepack(&d, &p);
  if (st != LB_OK) return status_error(env, "prepack", st);
  return Napi::External<packed_holder>::New(env, new packed_holder{p}, [](Napi::Env, packed_holder *h) {
    lb_packed_free(h->w);
    delete h;
  });
}

// packedInfo(handle) -> { kernel, bytes }
Napi::Value PackedInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  lb_packed_weights *w;
  if (info.Length() != 1 || !get_packed(info[0], &w) || !w) return throw_type(env, "packedInfo: not live packed weights");
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", lb_packed_kernel(w));
  o.Set("bytes", Napi::Number::New(env, (double)lb_packed_bytes(w)));
  return o;
}

// packedFree(handle): frees now (the finalizer then has nothing left to do).
Napi::Value PackedFree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) return throw_type(env, "free: not packed weights");
  packed_holder *h = info[0].As<Napi::External<packed_holder>>().Data();
  lb_packed_free(h->w);
  h->w = nullptr;
  return env.Undefined();
}

// A product to run now or on a libuv worker thread (matmulAsync): raw pointers into the JS
// arrays, plus references that keep those arrays and the packed weights alive until it ends.
struct product_job {
  enum kind_t { LINEAR, LINEAR_Q8, INTEGER } kind = LINEAR;
  size_t M = 0;
  lb_packed_weights *w = nullptr;
  lb_call_opts opts{8, LB_COMPUTE_INT8, 0};
  view x{}, as{}, az{}, b{}, out{};
  bool has_az = false, has_bias = false;

  lb_status run() const {
    const size_t N = lb_packed_rows(w), K = lb_packed_cols(w);
    const float *bias = has_bias ? (const float *)b.data : nullptr;
    const lb_dtype at = x.type == napi_int8_array ? LB_INT8 : LB_UINT8;
    switch (kind) {
      case LINEAR: return lb_linear_f32(M, (const float *)x.data, K, w, bias, &opts, (float *)out.data, N);
      case LINEAR_Q8:
        return lb_linear_q8(M, x.data, at, K, (const float *)as.data, as.length, has_az ? az.data : nullptr,
                            has_az ? az.length : 0, w, bias, &opts, (float *)out.data, N);
      case INTEGER:
        return lb_matmul_integer_packed(M, x.data, at, K, has_az ? az.data : nullptr, has_az ? az.length : 0,
                                        w, &opts, (int32_t *)out.data, N);
    }
    return LB_ERR_INVALID_ARGUMENT;
  }
};

// The sizes every product checks: x holds M x K, out M x N, bias N.
std::string check_sizes(product_job *job) {
  if (!job->w) return "matmul: the packed weights were freed";
  const size_t N = lb_packed_rows(job->w), K = lb_packed_cols(job->w);
  size_t mk, mn;
  if (__builtin_mul_overflow(job->M, K, &mk) || __builtin_mul_overflow(job->M, N, &mn) ||
      job->x.length < mk || job->out.length < mn || (job->has_bias && job->b.length < N))
    return "matmul: sizes do not match the arrays";
  return "";
}

bool get_opt_view(const Napi::Value &v, view *out, bool *has, bool (*ok)(napi_typedarray_type)) {
  *has = !v.IsNull();
  return !*has || (get_view(v, out) && ok(out->type));
}
bool is_f32(napi_typedarray_type t) { return t == napi_float32_array; }

// linear(x: Float32Array, M, handle, bias: Float32Array | null, activationBits, compute (0 int8,
//        1 float32), out: Float32Array, threads)
std::string parse_linear(const Napi::CallbackInfo &info, product_job *job) {
  job->kind = product_job::LINEAR;
  size_t bits = 0, compute = 0;
  if (info.Length() != 8 || !get_view(info[0], &job->x) || job->x.type != napi_float32_array ||
      !get_size(info[1], &job->M) || !get_packed(info[2], &job->w) ||
      !get_opt_view(info[3], &job->b, &job->has_bias, is_f32) || !get_size(info[4], &bits) ||
      !get_size(info[5], &compute) || compute > 1 || !get_view(info[6], &job->out) ||
      job->out.type != napi_float32_array || !get_size(info[7], &job->opts.threads))
    return "matmul: bad arguments to the native binding";
  job->opts.activation_bits = (int)bits;
  job->opts.compute = (lb_compute)compute;
  return check_sizes(job);
}

// linearQ8(a: Int8Array | Uint8Array, M, aScale: Float32Array, aZp: same class as a | null,
//          handle, bias | null, out: Float32Array, threads)
std::string parse_linear_q8(const Napi::CallbackInfo &info, product_job *job) {
  job->kind = product_job::LINEAR_Q8;
  if (info.Length() != 8 || !get_view(info[0], &job->x) || !is_8bit(job->x.type) || !get_size(info[1], &job->M) ||
      !get_view(info[2], &job->as) || job->as.type != napi_float32_array ||
      !get_opt_view(info[3], &job->az, &job->has_az, is_8bit) || (job->has_az && job->az.type != job->x.type) ||
      !get_packed(info[4], &job->w) || !get_opt_view(info[5], &job->b, &job->has_bias, is_f32) ||
      !get_view(info[6], &job->out) || job->out.type != napi_float32_array || !get_size(info[7], &job->opts.threads))
    return "matmul: bad arguments to the native binding";
  std::string err = check_sizes(job);
  if (err.empty() && (job->as.length != 1 && job->as.length != job->M)) err = "matmul: sizes do not match the arrays";
  if (err.empty() && job->has_az && job->az.length != 1 && job->az.length != job->M) err = "matmul: sizes do not match the arrays";
  return err;
}

// matmulIntegerPacked(a, M, aZp | null, handle, out: Int32Array, threads)
std::string parse_integer(const Napi::CallbackInfo &info, product_job *job) {
  job->kind = product_job::INTEGER;
  if (info.Length() != 6 || !get_view(info[0], &job->x) || !is_8bit(job->x.type) || !get_size(info[1], &job->M) ||
      !get_opt_view(info[2], &job->az, &job->has_az, is_8bit) || (job->has_az && job->az.type != job->x.type) ||
      !get_packed(info[3], &job->w) || !get_view(info[4], &job->out) || job->out.type != napi_int32_array ||
      !get_size(info[5], &job->opts.threads))
    return "matmul: bad arguments to the native binding";
  std::string err = check_sizes(job);
  if (err.empty() && job->has_az && job->az.length != 1 && job->az.length != job->M) err = "matmul: sizes do not match the arrays";
  return err;
}

template <std::string (*Parse)(const Napi::CallbackInfo &, product_job *)>
Napi::Value RunNow(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  product_job job;
  std::string err = Parse(info, &job);
  if (!err.empty()) return err.find("sizes") != std::string::npos ? throw_range(env, err) : throw_type(env, err);
  lb_status st = job.run();
  if (st != LB_OK) return status_error(env, "matmul", st);
  return env.Undefined();
}

class product_worker : public Napi::AsyncWorker {
 public:
  product_worker(const Napi::CallbackInfo &info, const product_job &job)
      : Napi::AsyncWorker(info.Env(), "lowbit.matmulAsync"), job_(job),
        deferred_(Napi::Promise::Deferred::New(info.Env())) {
    for (size_t i = 0; i < info.Length(); ++i)
      if (info[i].IsObject()) keep_.push_back(Napi::Persistent(info[i].As<Napi::Object>()));
  }
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = job_.run(); }
  void OnOK() override {
    Napi::Env env = Env();
    if (status_ == LB_OK) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    std::string msg = std::string("matmul: ") + lb_status_string(status_);
    deferred_.Reject(status_ == LB_ERR_OUT_OF_MEMORY ? Napi::Error::New(env, msg).Value()
                                                     : Napi::RangeError::New(env, msg).Value());
  }

 private:
  product_job job_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> keep_;  // x, out, scales, the External, ... stay alive
  lb_status status_ = LB_OK;
};

// The same arguments; returns a Promise<void> settled when the product has run off the main
// thread. The caller must not free the weights or detach the arrays until then (lib/ sees to
// the weights).
template <std::string (*Parse)(const Napi::CallbackInfo &, product_job *)>
Napi::Value RunAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  product_job job;
  std::string err = Parse(info, &job);
  if (!err.empty()) return err.find("sizes") != std::string::npos ? throw_range(env, err) : throw_type(env, err);
  auto *worker = new product_worker(info, job);
  Napi::Promise p = worker->promise();
  worker->Queue();  // the worker deletes itself when done
  return p;
}

// threads() -> the thread count; threads(n) sets it (0 = the hardware threads) and returns it.
Napi::Value Threads(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0) {
    size_t n;
    if (!get_size(info[0], &n) || lb_set_threads(n) != LB_OK)
      return throw_range(env, "setThreads: n must be an integer in [0, 1024]");
  }
  return Napi::Number::New(env, (double)lb_get_threads());
}

// peakKinds() -> the peak-loop kinds usable on this CPU, in the library's order.
Napi::Value PeakKinds(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array kinds = Napi::Array::New(env);
  uint32_t n = 0;
  for (int i = 0; i < lb_peak_count(); ++i)
    if (lb_peak_usable(i)) kinds.Set(n++, lb_peak_name(i));
  return kinds;
}

// measurePeak(kind, minSeconds) -> operations per second (2 per multiply-add). Runs on the
// calling thread for about minSeconds: the TS layer words the user-facing errors.
Napi::Value MeasurePeak(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsNumber())
    return throw_type(env, "measurePeak(kind: string, minSeconds: number)");
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  double ops = 0;
  lb_status st = lb_measure_peak(kind.c_str(), info[1].As<Napi::Number>().DoubleValue(), &ops);
  if (st == LB_ERR_UNSUPPORTED_ISA) return throw_range(env, "measurePeak: kind " + kind + " is not usable on this CPU");
  if (st != LB_OK) return throw_range(env, "measurePeak: unknown kind " + kind + ", or minSeconds not in [0, 60]");
  return Napi::Number::New(env, ops);
}

// readBandwidth(bytes, threads, minSeconds) -> bytes per second of the best plain-read pass.
Napi::Value ReadBandwidth(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t bytes, threads;
  if (info.Length() != 3 || !get_size(info[0], &bytes) || !get_size(info[1], &threads) || !info[2].IsNumber())
    return throw_type(env, "readBandwidth(bytes: number, threads: number, minSeconds: number)");
  double bps = 0;
  lb_status st = lb_measure_read_bandwidth(bytes, threads, info[2].As<Napi::Number>().DoubleValue(), &bps);
  if (st != LB_OK) return status_error(env, "readBandwidth", st);
  return Napi::Number::New(env, bps);
}

// openblasMissing() -> why OpenBLAS cannot be used, or null when it can.
Napi::Value OpenblasMissing(const Napi::CallbackInfo &info) {
  const char *why = lb_openblas_missing();
  return why ? Napi::String::New(info.Env(), why) : info.Env().Null();
}

// openblasSgemmNT(a, b, M, N, K, out, threads): OpenBLAS's cblas_sgemm as sgemmNT computes it.
Napi::Value OpenblasSgemmNT(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  view a, b, out;
  size_t M, N, K, threads, mk, nk, mn;
  if (info.Length() != 7 || !get_view(info[0], &a) || !get_view(info[1], &b) ||
      !get_view(info[5], &out) || a.type != napi_float32_array || b.type != napi_float32_array ||
      out.type != napi_float32_array || !get_size(info[6], &threads))
    return throw_type(env, "openblasSgemmNT(a, b, M, N, K, out, threads) wants Float32Arrays");
  if (!get_size(info[2], &M) || !get_size(info[3], &N) || !get_size(info[4], &K) ||
      __builtin_mul_overflow(M, K, &mk) || __builtin_mul_overflow(N, K, &nk) ||
      __builtin_mul_overflow(M, N, &mn) || a.length < mk || b.length < nk || out.length < mn)
    return throw_range(env, "openblasSgemmNT: sizes do not match the arrays");
  lb_status st = lb_openblas_sgemm_nt(M, N, K, (const float *)a.data, K, (const float *)b.data, K,
                                      (float *)out.data, N, threads);
  if (st == LB_ERR_UNSUPPORTED_ISA) return throw_range(env, std::string("openblasSgemmNT: ") + lb_openblas_missing());
  if (st != LB_OK) return status_error(env, "openblasSgemmNT", st);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, lb_abi_version()));
  exports.Set("version", Napi::String::New(env, lb_version_string()));
  Napi::Array names = Napi::Array::New(env);
  for (int i = 0; i < lb_isa_count(); ++i) names.Set((uint32_t)i, lb_isa_name(i));
  exports.Set("isaNames", names);  // every ISA this build knows, usable or not
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("matmulInteger", Napi::Function::New(env, MatmulInteger, "matmulInteger"));
  exports.Set("sgemmNT", Napi::Function::New(env, SgemmNT, "sgemmNT"));
  exports.Set("quantizeLinear", Napi::Function::New(env, QuantizeLinear, "quantizeLinear"));
  exports.Set("dequantizeLinear", Napi::Function::New(env, DequantizeLinear, "dequantizeLinear"));
  exports.Set("minmax", Napi::Function::New(env, MinMax, "minmax"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("prepack", Napi::Function::New(env, Prepack, "prepack"));
  exports.Set("packedFree", Napi::Function::New(env, PackedFree, "packedFree"));
  exports.Set("packedInfo", Napi::Function::New(env, PackedInfo, "packedInfo"));
  exports.Set("linearQ8", Napi::Function::New(env, RunNow<parse_linear_q8>, "linearQ8"));
  exports.Set("linearQ8Async", Napi::Function::New(env, RunAsync<parse_linear_q8>, "linearQ8Async"));
  exports.Set("linear", Napi::Function::New(env, RunNow<parse_linear>, "linear"));
  exports.Set("linearAsync", Napi::Function::New(env, RunAsync<parse_linear>, "linearAsync"));
  exports.Set("matmulIntegerPacked",
              Napi::Function::New(env, RunNow<parse_integer>, "matmulIntegerPacked"));
  exports.Set("matmulIntegerPackedAsync",
              Napi::Function::New(env, RunAsync<parse_integer>, "matmulIntegerPackedAsync"));
  exports.Set("peakKinds", Napi::Function::New(env, PeakKinds, "peakKinds"));
  exports.Set("measurePeak", Napi::Function::New(env, MeasurePeak, "measurePeak"));
  exports.Set("readBandwidth", Napi::Function::New(env, ReadBandwidth, "readBandwidth"));
  exports.Set("openblasMissing", Napi::Function::New(env, OpenblasMissing, "openblasMissing"));
  exports.Set("openblasSgemmNT", Napi::Function::New(env, OpenblasSgemmNT, "openblasSgemmNT"));
  lb_register_ggml_peer(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lowbit, Init)
