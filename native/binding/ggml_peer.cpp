// The bench's ggml peer (native/bench/ggml_peer.cpp, built by scripts/ggml-peer.mjs), loaded at
// run time with dlopen: lowbit neither builds nor links ggml. Handles are checked against the
// live set, so a freed or foreign handle throws instead of crashing.
#include <napi.h>

#include <map>
#include <string>

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace {

struct shim {
  const char *(*source)(void) = nullptr;
  void *(*create)(const char *, int, size_t, size_t, size_t, const float *, const float *, char *, size_t) = nullptr;
  int (*run)(void *, int) = nullptr;
  void (*output)(void *, float *) = nullptr;
  size_t (*weight_bytes)(void *) = nullptr;
  void (*free)(void *) = nullptr;
};
shim g_shim;
bool g_loaded = false;
std::map<void *, size_t> g_live;  // handle -> its M * N outputs

Napi::Value fail(Napi::Env env, const std::string &msg, bool type = false) {
  if (type) Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  else Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool get_count(const Napi::Value &v, size_t *out) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 1e15) || d != (double)(size_t)d) return false;
  *out = (size_t)d;
  return true;
}

// The live handle in info[0], or null (an exception is pending).
void *handle_of(const Napi::CallbackInfo &info, const char *fn) {
  if (!g_loaded) return fail(info.Env(), std::string(fn) + ": the ggml peer is not loaded"), nullptr;
  if (info.Length() < 1 || !info[0].IsExternal()) return fail(info.Env(), std::string(fn) + ": expected a ggml peer handle", true), nullptr;
  void *h = info[0].As<Napi::External<void>>().Data();
  if (!g_live.count(h)) return fail(info.Env(), std::string(fn) + ": the handle was freed"), nullptr;
  return h;
}

// ggmlPeerLoad(path) -> null when loaded, else why not.
Napi::Value Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) return fail(env, "ggmlPeerLoad(path): path must be a string", true);
  if (g_loaded) return env.Null();
#if defined(_WIN32)
  return Napi::String::New(env, "the ggml peer is built on Linux and macOS only");
#else
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) return Napi::String::New(env, std::string("dlopen failed: ") + dlerror());
  shim s;
  s.source = (const char *(*)(void))dlsym(lib, "lbg_source");
  s.create = (decltype(s.create))dlsym(lib, "lbg_create");
  s.run = (decltype(s.run))dlsym(lib, "lbg_run");
  s.output = (decltype(s.output))dlsym(lib, "lbg_output");
  s.weight_bytes = (decltype(s.weight_bytes))dlsym(lib, "lbg_weight_bytes");
  s.free = (decltype(s.free))dlsym(lib, "lbg_free");
  if (!s.source || !s.create || !s.run || !s.output || !s.weight_bytes || !s.free) {
    dlclose(lib);
    return Napi::String::New(env, path + " lacks the lbg_* functions (rebuild: node scripts/ggml-peer.mjs)");
  }
  g_shim = s;
  g_loaded = true;
  return env.Null();
#endif
}

// ggmlPeerSource() -> what the loaded library was built from.
Napi::Value Source(const Napi::CallbackInfo &info) {
  if (!g_loaded) return fail(info.Env(), "ggmlPeerSource: the ggml peer is not loaded");
  return Napi::String::New(info.Env(), g_shim.source());
}

// ggmlPeerCreate(type, repack, W (N x K), X (M x K), M, N, K) -> handle.
Napi::Value Create(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!g_loaded) return fail(env, "ggmlPeerCreate: the ggml peer is not loaded");
  size_t M, N, K;
  if (info.Length() != 7 || !info[0].IsString() || !info[1].IsBoolean() || !info[2].IsTypedArray() ||
      !info[3].IsTypedArray() || !get_count(info[4], &M) || !get_count(info[5], &N) || !get_count(info[6], &K))
    return fail(env, "ggmlPeerCreate(type, repack, W, X, M, N, K): wrong arguments", true);
  Napi::TypedArray w = info[2].As<Napi::TypedArray>(), x = info[3].As<Napi::TypedArray>();
  if (w.TypedArrayType() != napi_float32_array || x.TypedArrayType() != napi_float32_array)
    return fail(env, "ggmlPeerCreate: W and X must be Float32Arrays", true);
  if (!M || !N || !K) return fail(env, "ggmlPeerCreate: M, N and K must be at least 1");
  if (w.ElementLength() != N * K || x.ElementLength() != M * K)
    return fail(env, "ggmlPeerCreate: W must hold N * K floats and X M * K");
  const std::string type = info[0].As<Napi::String>().Utf8Value();
  char why[256] = "";
  void *h = g_shim.create(type.c_str(), info[1].As<Napi::Boolean>().Value() ? 1 : 0, M, N, K,
                          w.As<Napi::Float32Array>().Data(), x.As<Napi::Float32Array>().Data(), why, sizeof why);
  if (!h) return fail(env, std::string("ggmlPeerCreate: ") + why);
  g_live[h] = M * N;
  return Napi::External<void>::New(env, h);
}

// ggmlPeerRun(handle, threads)
Napi::Value Run(const Napi::CallbackInfo &info) {
  void *h = handle_of(info, "ggmlPeerRun");
  size_t threads;
  if (!h) return info.Env().Undefined();
  if (info.Length() != 2 || !get_count(info[1], &threads) || threads < 1 || threads > 1024)
    return fail(info.Env(), "ggmlPeerRun(handle, threads): threads must be an integer in 1..1024", true);
  if (g_shim.run(h, (int)threads) != 0) return fail(info.Env(), "ggmlPeerRun: ggml_backend_graph_compute failed");
  return info.Env().Undefined();
}

// ggmlPeerOutput(handle, Y (M x N floats))
Napi::Value Output(const Napi::CallbackInfo &info) {
  void *h = handle_of(info, "ggmlPeerOutput");
  if (!h) return info.Env().Undefined();
  if (info.Length() != 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    return fail(info.Env(), "ggmlPeerOutput(handle, Y): Y must be a Float32Array", true);
  if (info[1].As<Napi::TypedArray>().ElementLength() != g_live[h])
    return fail(info.Env(), "ggmlPeerOutput: Y must hold the M * N outputs");
  g_shim.output(h, info[1].As<Napi::Float32Array>().Data());
  return info.Env().Undefined();
}

Napi::Value WeightBytes(const Napi::CallbackInfo &info) {
  void *h = handle_of(info, "ggmlPeerWeightBytes");
  if (!h) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), (double)g_shim.weight_bytes(h));
}

Napi::Value Free(const Napi::CallbackInfo &info) {
  void *h = handle_of(info, "ggmlPeerFree");
  if (!h) return info.Env().Undefined();
  g_live.erase(h);
  g_shim.free(h);
  return info.Env().Undefined();
}

}  // namespace

void lb_register_ggml_peer(Napi::Env env, Napi::Object exports) {
  exports.Set("ggmlPeerLoad", Napi::Function::New(env, Load, "ggmlPeerLoad"));
  exports.Set("ggmlPeerSource", Napi::Function::New(env, Source, "ggmlPeerSource"));
  exports.Set("ggmlPeerCreate", Napi::Function::New(env, Create, "ggmlPeerCreate"));
  exports.Set("ggmlPeerRun", Napi::Function::New(env, Run, "ggmlPeerRun"));
  exports.Set("ggmlPeerOutput", Napi::Function::New(env, Output, "ggmlPeerOutput"));
  exports.Set("ggmlPeerWeightBytes", Napi::Function::New(env, WeightBytes, "ggmlPeerWeightBytes"));
  exports.Set("ggmlPeerFree", Napi::Function::New(env, Free, "ggmlPeerFree"));
}
