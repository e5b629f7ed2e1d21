// ggml's CPU matrix product as a peer for `npm run bench`: what llama.cpp runs for a 4-bit
// linear layer. scripts/ggml-peer.mjs builds this file against a pinned llama.cpp into a shared
// library; the addon loads it at run time (native/binding/ggml_peer.cpp), so lowbit has no build
// or link dependency on ggml. The weights are quantized by ggml's own quantizer and placed as
// llama.cpp places them: in the CPU backend's repacking buffer (Q4_0 -> its 8 x 8 interleaved
// blocks, Q4_K likewise) when `repack` is set, else in a plain buffer.
#include <cstdio>
#include <cstring>
#include <new>

#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml.h"

#ifndef LBG_SOURCE
#define LBG_SOURCE "ggml"
#endif

namespace {

struct peer {
  ggml_backend_t backend = nullptr;
  ggml_context *weights_ctx = nullptr, *graph_ctx = nullptr;
  ggml_backend_buffer_t weights_buf = nullptr, graph_buf = nullptr;
  ggml_cgraph *graph = nullptr;
  ggml_tensor *y = nullptr;
  size_t weight_bytes = 0;

  ~peer() {
    if (weights_buf) ggml_backend_buffer_free(weights_buf);
    if (graph_buf) ggml_backend_buffer_free(graph_buf);
    if (weights_ctx) ggml_free(weights_ctx);
    if (graph_ctx) ggml_free(graph_ctx);
    if (backend) ggml_backend_free(backend);
  }
};

// The CPU backend's repacking buffer type ("CPU_REPACK"), found through its registry as
// llama.cpp finds it, or null.
ggml_backend_buffer_type_t repack_buffer_type() {
  ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (!dev) return nullptr;
  auto extra = (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(
      ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts");
  for (ggml_backend_buffer_type_t *t = extra ? extra(dev) : nullptr; t && *t; ++t)
    if (std::strstr(ggml_backend_buft_name(*t), "REPACK")) return *t;
  return nullptr;
}

// ggml logs each repacked tensor at INFO level: keep its warnings and errors only.
void log_warnings(ggml_log_level level, const char *text, void *) {
  if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

void say(char *why, size_t len, const char *what) {
  if (why && len) std::snprintf(why, len, "%s", what);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) const char *lbg_source(void) { return LBG_SOURCE; }

// W: N x K floats (row n = output n's weights), X: M x K floats. Returns null and a reason in
// `why` on failure.
__attribute__((visibility("default"))) void *lbg_create(const char *type_name, int repack, size_t M, size_t N,
                                                        size_t K, const float *W, const float *X, char *why,
                                                        size_t why_len) {
  ggml_log_set(log_warnings, nullptr);
  ggml_type type;
  if (!std::strcmp(type_name, "q4_0")) type = GGML_TYPE_Q4_0;
  else if (!std::strcmp(type_name, "q4_K")) type = GGML_TYPE_Q4_K;
  else if (!std::strcmp(type_name, "q8_0")) type = GGML_TYPE_Q8_0;
  else return say(why, why_len, "unknown type (q4_0, q4_K, q8_0)"), nullptr;
  if (K % ggml_blck_size(type)) return say(why, why_len, "K is not a multiple of the type's block"), nullptr;
  peer *p = new (std::nothrow) peer;
  if (!p) return say(why, why_len, "out of memory"), nullptr;
  ggml_backend_buffer_type_t wbt = repack ? repack_buffer_type() : ggml_backend_cpu_buffer_type();
  if (!wbt) return delete p, say(why, why_len, "this ggml has no CPU_REPACK buffer type"), nullptr;
  p->backend = ggml_backend_cpu_init();
  const ggml_init_params ip = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
  p->weights_ctx = ggml_init(ip);
  p->graph_ctx = ggml_init(ip);
  if (!p->backend || !p->weights_ctx || !p->graph_ctx) return delete p, say(why, why_len, "ggml_init failed"), nullptr;
  ggml_tensor *w = ggml_new_tensor_2d(p->weights_ctx, type, (int64_t)K, (int64_t)N);
  ggml_tensor *x = ggml_new_tensor_2d(p->graph_ctx, GGML_TYPE_F32, (int64_t)K, (int64_t)M);
  p->y = ggml_mul_mat(p->graph_ctx, w, x);
  p->graph = ggml_new_graph(p->graph_ctx);
  ggml_build_forward_expand(p->graph, p->y);
  p->weights_buf = ggml_backend_alloc_ctx_tensors_from_buft(p->weights_ctx, wbt);
  p->graph_buf = ggml_backend_alloc_ctx_tensors_from_buft(p->graph_ctx, ggml_backend_cpu_buffer_type());
  if (!p->weights_buf || !p->graph_buf) return delete p, say(why, why_len, "ggml could not allocate the tensors"), nullptr;
  ggml_backend_buffer_set_usage(p->weights_buf, GGML_BACKEND_BUFFER_USAGE_WEIGHTS);
  p->weight_bytes = ggml_row_size(type, (int64_t)K) * N;
  void *q = ::operator new(p->weight_bytes, std::nothrow);
  if (!q) return delete p, say(why, why_len, "out of memory"), nullptr;
  ggml_quantize_init(type);
  ggml_quantize_chunk(type, W, q, 0, (int64_t)N, (int64_t)K, nullptr);
  ggml_backend_tensor_set(w, q, 0, p->weight_bytes);  // the repacking buffer repacks here
  ::operator delete(q);
  ggml_backend_tensor_set(x, X, 0, M * K * sizeof(float));
  if (repack && !w->extra) return delete p, say(why, why_len, "the CPU_REPACK buffer kept the plain layout"), nullptr;
  return p;
}

__attribute__((visibility("default"))) int lbg_run(void *h, int threads) {
  peer *p = (peer *)h;
  ggml_backend_cpu_set_n_threads(p->backend, threads);
  return ggml_backend_graph_compute(p->backend, p->graph) == GGML_STATUS_SUCCESS ? 0 : -1;
}

// The last run's M x N outputs.
__attribute__((visibility("default"))) void lbg_output(void *h, float *Y) {
  peer *p = (peer *)h;
  ggml_backend_tensor_get(p->y, Y, 0, ggml_nbytes(p->y));
}

// Bytes of the quantized weights (ggml's own row size: Q4_0 4.5 bits a weight, Q4_K 4.5).
__attribute__((visibility("default"))) size_t lbg_weight_bytes(void *h) { return ((peer *)h)->weight_bytes; }

__attribute__((visibility("default"))) void lbg_free(void *h) { delete (peer *)h; }

}  // extern "C"
