# onnxruntime's int8 dynamic path on the issue's shapes, for machines without Node (the lent Xeon):
# the graph bench/ort.ts builds, X -> DynamicQuantizeLinear -> MatMulInteger(Xq, W int8 [K, N], Xzp)
# -> Cast -> Mul(X_scale * W_scale [N]). Prints GOPS (2 M N K / median time) per shape and thread
# count: python3 bench/ort_int8.py [threads...] [MxNxK...] (default 1 16, the issue's six shapes).
# Needs numpy and onnxruntime.
import sys, time
import numpy as np
import onnxruntime as ort

# A hand-written protobuf encoder for the one model below (the onnx package may be missing).
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)
def fint(f, v): return varint(f << 3) + varint(v)
def fmsg(f, body): return varint((f << 3) | 2) + varint(len(body)) + body
def fstr(f, s): return fmsg(f, s.encode())
def vinfo(name, elem, shape):
    dims = b"".join(fmsg(1, fint(1, d)) for d in shape)
    return fstr(1, name) + fmsg(2, fmsg(1, fint(1, elem) + fmsg(2, dims)))
def node(i, op, ins, outs, attrs={}):
    a = b"".join(fmsg(5, fstr(1, k) + fint(3, v) + fint(20, 2)) for k, v in attrs.items())
    return b"".join(fstr(1, x) for x in ins) + b"".join(fstr(2, x) for x in outs) + fstr(3, f"{op}_{i}") + fstr(4, op) + a
def tensor(name, elem, arr):
    return b"".join(fint(1, d) for d in arr.shape) + fint(2, elem) + fstr(8, name) + fmsg(9, arr.tobytes())
FLOAT, INT8 = 1, 3

args = sys.argv[1:]
shapes = [tuple(int(d) for d in a.split("x")) for a in args if "x" in a] or [
    (1, 4096, 4096), (8, 4096, 4096), (64, 4096, 4096), (512, 4096, 4096), (1, 11008, 4096), (1024, 1024, 1024)]
threads = [int(t) for t in args if "x" not in t] or [1, 16]
rng = np.random.default_rng(1)

def model(M, N, K):
    W = rng.integers(-127, 128, size=(K, N), dtype=np.int8)
    ws = (rng.random(N, dtype=np.float32) * 0.01 + 0.001).astype(np.float32)
    nodes = [
        node(0, "DynamicQuantizeLinear", ["X"], ["Xq", "X_scale", "Xzp"]),
        node(1, "MatMulInteger", ["Xq", "W", "Xzp"], ["Yi"]),
        node(2, "Cast", ["Yi"], ["Yf"], {"to": FLOAT}),
        node(3, "Mul", ["X_scale", "W_scale"], ["S"]),
        node(4, "Mul", ["Yf", "S"], ["Y"]),
    ]
    g = (b"".join(fmsg(1, n) for n in nodes) + fstr(2, "g") + fmsg(5, tensor("W", INT8, W))
         + fmsg(5, tensor("W_scale", FLOAT, ws)) + fmsg(11, vinfo("X", FLOAT, [M, K]))
         + fmsg(12, vinfo("Y", FLOAT, [M, N])))
    return fint(1, 8) + fstr(2, "lowbit") + fmsg(7, g) + fmsg(8, fstr(1, "") + fint(2, 21))

print("onnxruntime", ort.__version__)
for (M, N, K) in shapes:
    m = model(M, N, K)
    x = rng.standard_normal((M, K), dtype=np.float32)
    for t in threads:
        so = ort.SessionOptions()
        so.intra_op_num_threads = t
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        s = ort.InferenceSession(m, so, providers=["CPUExecutionProvider"])
        s.run(None, {"X": x})
        ts, start = [], time.perf_counter()
        while len(ts) < 5 or (time.perf_counter() - start < 0.5 and len(ts) < 1000):
            t0 = time.perf_counter(); s.run(None, {"X": x}); ts.append(time.perf_counter() - t0)
        ts.sort()
        med = ts[len(ts) // 2]
        print(f"ort_int8 {M}x{N}x{K} threads {t} median_ms {med*1e3:.3f} GOPS {2*M*N*K/med*1e-9:.1f} best {2*M*N*K/ts[0]*1e-9:.1f}", flush=True)
