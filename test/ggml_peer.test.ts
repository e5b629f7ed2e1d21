/**
 * The bench's ggml peer loader (native/binding/ggml_peer.cpp): a missing library is a reason,
 * not a crash; calls before loading and on freed handles throw. With the library built
 * (node scripts/ggml-peer.mjs; `npm run bench` builds it, CI does not), ggml's Q4_0 product is
 * checked against float64 sums, as the bench checks it before timing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loaded, type GgmlPeerHandle, type NativeBinding } from '../lib/native';

const n = loaded.binding as NativeBinding | null;
const native = n ? test : test.skip;
if (!n) console.log(`SKIP ggml peer loader: the native addon did not load (${loaded.error})`);
const lib = path.resolve(__dirname, '..', 'build', 'ggml', 'libggml_peer.so');
const built = n && fs.existsSync(lib);
if (n && !built) console.log(`SKIP ggml peer product: ${lib} is not built (node scripts/ggml-peer.mjs builds it)`);

native('calls before a load throw, and a missing library is a reason', () => {
  expect(() => n!.ggmlPeerCreate!('q4_0', true, new Float32Array(32), new Float32Array(32), 1, 1, 32)).toThrow(/ggmlPeerCreate: the ggml peer is not loaded/);
  expect(() => n!.ggmlPeerRun!({} as GgmlPeerHandle, 1)).toThrow(/ggmlPeerRun: the ggml peer is not loaded/);
  expect(n!.ggmlPeerLoad!('/nonexistent/libggml_peer.so')).toMatch(/^dlopen failed: .*nonexistent/);
  expect(() => n!.ggmlPeerLoad!(3 as unknown as string)).toThrow(/ggmlPeerLoad\(path\): path must be a string/);
});

(built ? test : test.skip)('ggml Q4_0 and Q4_K products match float64 sums; handles are checked', () => {
  expect(n!.ggmlPeerLoad!(lib)).toBeNull();
  expect(n!.ggmlPeerSource!()).toMatch(/node-llama-cpp/);
  const M = 3, N = 40, K = 512;
  const x = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37) * 2);
  const w = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11 + 0.5));
  for (const type of ['q4_0', 'q4_K']) for (const repack of [false, true]) {
    const h = n!.ggmlPeerCreate!(type, repack, w, x, M, N, K);
    expect(n!.ggmlPeerWeightBytes!(h)).toBe(N * K * 4.5 / 8);
    n!.ggmlPeerRun!(h, 2);
    const y = new Float32Array(M * N);
    n!.ggmlPeerOutput!(h, y);
    expect(() => n!.ggmlPeerOutput!(h, new Float32Array(M * N - 1))).toThrow(/M \* N outputs/);
    for (let m = 0; m < M; m++) for (let c = 0; c < N; c++) {
      let ref = 0, mag = 0;
      for (let k = 0; k < K; k++) { ref += x[m * K + k]! * w[c * K + k]!; mag += Math.abs(x[m * K + k]! * w[c * K + k]!); }
      // 4-bit weights: a few percent of sum |x w| at most; unrelated outputs would be ~1 / sqrt(K).
      expect(Math.abs(y[m * N + c]! - ref)).toBeLessThan(0.02 * mag);
    }
    n!.ggmlPeerFree!(h);
    expect(() => n!.ggmlPeerRun!(h, 1)).toThrow(/the handle was freed/);
  }
  expect(() => n!.ggmlPeerCreate!('q5_1', true, w, x, M, N, K)).toThrow(/unknown type/);
  expect(() => n!.ggmlPeerCreate!('q4_K', true, w.subarray(0, N * 100), x.subarray(0, M * 100), M, N, 100)).toThrow(/multiple of the type's block/);
  expect(() => n!.ggmlPeerCreate!('q4_0', true, w, x, M, N + 1, K)).toThrow(/W must hold N \* K floats/);
  expect(() => n!.ggmlPeerCreate!('q4_0', true, w.subarray(0, 0), x.subarray(0, 0), M, N, 0)).toThrow(/M, N and K must be at least 1/);
});
