/**
 * matmul / prepack (SPEC §4): the float-in, float-out quantized linear layer. Bit-identical on
 * every ISA and the TS fallback; close to float32; errors name the argument.
 */
import { errorStats, getBackend, matmul, matmulAsync, prepack, quantize, setBackend, type QTensor, type QuantizeOptions } from '../lib';
import { loaded } from '../lib/native';
import { makeRng } from './helpers/random';
import { describeTargets, targets, useTarget } from './helpers/targets';

const rng = makeRng('matmul.test');

function gaussian(n: number): Float32Array {
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

function float32Linear(x: Float32Array, w: Float32Array, M: number, N: number, K: number, bias?: Float32Array): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
      y[m * N + n] = s;
    }
  return y;
}

const WEIGHTS: QuantizeOptions[] = [
  { dtype: 'int8', axis: 0 }, { dtype: 'int8' }, { dtype: 'uint8', scheme: 'asymmetric', axis: 0 }, { dtype: 'int8', scheme: 'asymmetric' },
];

describeTargets('matmul', (it) => {
  it('is close to float32 (cosine >= 0.999) on Gaussian data, with bias, both activation widths', () => {
    const M = 9, N = 33, K = 130;
    const x = gaussian(M * K), wf = gaussian(N * K), bias = gaussian(N);
    for (const o of WEIGHTS)
      for (const activationBits of [8, 7] as const) {
        const y = matmul(x, quantize(wf, [N, K], o), { bias, activationBits });
        expect(errorStats(float32Linear(x, wf, M, N, K, bias), y).cosine).toBeGreaterThan(activationBits === 8 ? 0.999 : 0.995);
      }
  });

  it('takes prepacked weights and a caller buffer, and returns that buffer', () => {
    const M = 4, N = 5, K = 6;
    const x = gaussian(M * K), w = quantize(gaussian(N * K), [N, K], { dtype: 'int8', axis: 0 });
    const p = prepack(w), out = new Float32Array(M * N + 3).fill(7);
    expect(matmul(x, p, { out })).toBe(out);
    expect(Array.from(out.subarray(0, M * N))).toEqual(Array.from(matmul(x, w)));
    expect(Array.from(out.subarray(M * N))).toEqual([7, 7, 7]);
    p.free();
    expect(p.freed).toBe(true);
  });

  it('multiplies QTensor activations (static quantization), per tensor and per row', () => {
    const M = 6, N = 7, K = 50;
    const xf = gaussian(M * K), wf = gaussian(N * K);
    const w = quantize(wf, [N, K], { dtype: 'int8', axis: 0 });
    for (const o of [{ dtype: 'int8', axis: 0 }, { dtype: 'uint8', scheme: 'asymmetric' }] as QuantizeOptions[]) {
      const y = matmul(quantize(xf, [M, K], o), w);
      expect(errorStats(float32Linear(xf, wf, M, N, K), y).cosine).toBeGreaterThan(0.999);
    }
  });

  it('handles M = 0, K = 1, N = 1 and all-zero rows', () => {
    const w = quantize(gaussian(3 * 4), [3, 4], { dtype: 'int8', axis: 0 });
    expect(matmul(new Float32Array(0), w).length).toBe(0);
    expect(Array.from(matmul(new Float32Array(8), w))).toEqual(new Array(6).fill(0));
    const one = quantize(Float32Array.of(2), [1, 1], { dtype: 'int8' });
    expect(Array.from(matmul(Float32Array.of(3, -1.5), one))).toEqual([6, -3]);
  });
});

describe('matmul: every native ISA equals the TS fallback bit for bit', () => {
  const native = targets().filter((t) => t.backend === 'native' && !t.skip);
  const it = native.length ? test : test.skip;
  it('random odd shapes, weight kinds, bias, activation widths, NaN activations', () => {
    for (let iter = 0; iter < 24; iter++) {
      const M = rng.int(1, 17), N = rng.int(1, 40), K = rng.int(1, 300);
      const x = gaussian(M * K).map((v) => v * 10 ** rng.int(-3, 3));
      if (iter % 5 === 0) x[rng.int(0, M * K - 1)] = NaN;
      const wf = gaussian(N * K), bias = iter % 2 ? gaussian(N) : undefined;
      const o = WEIGHTS[iter % WEIGHTS.length]!, activationBits = iter % 3 === 0 ? 7 : 8;
      const w = quantize(wf, [N, K], o);
      const restoreTs = useTarget({ backend: 'ts', isa: 'scalar', skip: null });
      const want = matmul(x, w, { bias, activationBits });
      const wantQ = matmul(quantize(gaussian(M * K), [M, K], { dtype: 'int8', axis: 0 }), w);
      restoreTs();
      for (const t of native) {
        const restore = useTarget(t);
        const got = matmul(x, prepack(w), { bias, activationBits });
        restore();
        expect({ isa: t.isa, M, N, K, same: Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) }).toEqual({ isa: t.isa, M, N, K, same: true });
      }
      expect(wantQ.length).toBe(M * N);
    }
  });
});

describe('matmul: threads and the engine\'s blocks do not change a bit', () => {
  const native = targets().filter((t) => t.backend === 'native' && !t.skip);
  const it = native.length ? test : test.skip;
  it('a product of several cache blocks on 1, 2 and 3 threads equals the TS fallback', () => {
    const M = 100, N = 500, K = 1100;  // rows and columns span more than one block on any L2 size
    const x = gaussian(M * K), w = quantize(gaussian(N * K), [N, K], { dtype: 'int8', axis: 0 }), bias = gaussian(N);
    const restoreTs = useTarget({ backend: 'ts', isa: 'scalar', skip: null });
    const want = matmul(x, w, { bias });
    restoreTs();
    for (const t of native) {
      const restore = useTarget(t);
      const p = prepack(w);
      for (const threads of [1, 2, 3]) {
        const got = matmul(x, p, { bias, threads });
        expect({ isa: t.isa, threads, same: Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) }).toEqual({ isa: t.isa, threads, same: true });
      }
      p.free();
      restore();
    }
  });
});

describeTargets('matmulAsync', (it) => {
  it('resolves to matmul\'s result, for float and QTensor activations, into out', async () => {
    const M = 7, N = 19, K = 77;
    const x = gaussian(M * K), w = quantize(gaussian(N * K), [N, K], { dtype: 'int8', axis: 0 }), bias = gaussian(N);
    const p = prepack(w);
    const want = matmul(x, p, { bias, activationBits: 7 });
    const out = new Float32Array(M * N);
    const got = await matmulAsync(x, p, { bias, activationBits: 7, out, threads: 2 });
    expect(got).toBe(out);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    const xq = quantize(x, [M, K], { dtype: 'int8', axis: 0 });
    expect(Array.from(await matmulAsync(xq, w))).toEqual(Array.from(matmul(xq, w)));
    p.free();
  });

  it('runs many products concurrently, and defers free() until they are done', async () => {
    const M = 3, N = 64, K = 256;
    const w = quantize(gaussian(N * K), [N, K], { dtype: 'int8', axis: 0 });
    const p = prepack(w);
    const xs = Array.from({ length: 8 }, () => gaussian(M * K));
    const pending = xs.map((x) => matmulAsync(x, p));
    p.free();
    expect(p.freed).toBe(true);
    const results = await Promise.all(pending);
    xs.forEach((x, i) => expect(Array.from(results[i]!)).toEqual(Array.from(matmul(x, w))));
    await expect(matmulAsync(xs[0]!, p)).rejects.toThrow(TypeError);
  });

  it('rejects with the errors matmul throws', async () => {
    const w = quantize(gaussian(2 * 3), [2, 3], { dtype: 'int8' });
    await expect(matmulAsync(Float32Array.of(1, Infinity, 0), w)).rejects.toThrow(/matmulAsync: x\[1\] \(row 0\) is Infinity/);
    await expect(matmulAsync(new Float32Array(4), w)).rejects.toThrow(RangeError);
    await expect(matmulAsync(new Float32Array(3), w, { threads: 0 })).rejects.toThrow(/opts\.threads/);
  });
});

describe('matmul on real trained weights (USE-lite)', () => {
  test('cosine >= 0.999 against float32 with int8 per-channel weights', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require('../bench/real_weights') as typeof import('../bench/real_weights');
    const t = real.realLayerWeights().find((r) => r.name.endsWith('L0.dense'))!; // [256, 512] = [in, out]
    const [K, N] = t.shape as [number, number];
    const wf = new Float32Array(N * K); // to [out, in]
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) wf[n * K + k] = t.data[k * N + n]!;
    const e = real.realEmbeddings(8); // real activations: 8 token embeddings of width 256 = K
    const y = matmul(e.data, quantize(wf, [N, K], { dtype: 'int8', axis: 0 }));
    expect(errorStats(float32Linear(e.data, wf, 8, N, K), y).cosine).toBeGreaterThan(0.999);
  });
});

describe('matmul bad input names the argument; nothing is written on error', () => {
  const w = quantize(gaussian(4 * 3), [4, 3], { dtype: 'int8', axis: 0 });
  test.each([
    ['x of the wrong length', () => matmul(new Float32Array(5), w), RangeError, /matmul: x has 5 values, not a whole number of rows of K = 3/],
    ['x not float or QTensor', () => matmul([1, 2, 3] as never, w), TypeError, /matmul: x must be a Float32Array or a QTensor/],
    ['w not a QTensor', () => matmul(new Float32Array(3), {} as never), TypeError, /w.dtype must be one of/],
    ['int4 weights per tensor', () => matmul(new Float32Array(2), quantize(gaussian(8), [4, 2], { dtype: 'int4' })), RangeError, /w \(int4\) must be per output channel \(axis 0\) or blocked along K/],
    ['bias length', () => matmul(new Float32Array(3), w, { bias: new Float32Array(3) }), TypeError, /opts.bias must be a Float32Array of 4 values/],
    ['activationBits', () => matmul(new Float32Array(3), w, { activationBits: 4 as never }), RangeError, /opts.activationBits must be 8 or 7, got 4/],
    ['threads', () => matmul(new Float32Array(3), w, { threads: 0 }), RangeError, /opts.threads must be an integer in \[1, 1024\], got 0/],
    ['out too small', () => matmul(new Float32Array(6), w, { out: new Float32Array(7) }), TypeError, /opts.out must be a Float32Array of at least 8 values/],
    ['Infinity in x', () => matmul(Float32Array.of(1, 2, 3, 4, -Infinity, 6), w), RangeError, /matmul: x\[4\] \(row 1\) is -Infinity: that row has no finite scale/],
  ])('%s', (_n, call, ErrorClass, message) => {
    expect(call).toThrow(ErrorClass);
    expect(call).toThrow(message);
  });

  test('out is untouched when the call throws', () => {
    const out = new Float32Array(8).fill(3);
    expect(() => matmul(Float32Array.of(1, 2, 3, Infinity, 5, 6), w, { out })).toThrow(RangeError);
    expect(Array.from(out)).toEqual(new Array(8).fill(3));
  });

  test('freed weights, and weights packed on the other backend, are refused', () => {
    const p = prepack(w);
    p.free();
    expect(() => matmul(new Float32Array(3), p)).toThrow(/w must be live packed weights/);
    if (!loaded.binding) return;
    const q = prepack(w);
    setBackend('ts');
    try {
      expect(() => matmul(new Float32Array(3), q)).toThrow(/w was packed on the native backend but the ts backend is in use/);
    } finally {
      setBackend('native');
      q.free();
    }
  });

  test('non-finite activations behave alike on both backends', () => {
    const K = 40, N = 5;
    const q = quantize(gaussian(N * K), [N, K], { dtype: 'int4', blockSize: 32 });
    const x = gaussian(2 * K);
    x[K + 7] = NaN;  // row 1
    const int8Results: Float32Array[] = [];
    const before = getBackend();
    for (const backend of loaded.binding ? (['native', 'ts'] as const) : (['ts'] as const)) {
      setBackend(backend);
      try {
        const p = prepack(q);
        const inf = Float32Array.from(x);
        inf[K + 3] = -Infinity;
        for (const compute of ['int8', 'float32'] as const)
          expect(() => matmul(inf, p, { compute })).toThrow(/matmul: x\[43\] \(row 1\) is -Infinity: that row has no finite scale/);
        const y8 = matmul(x, p), y32 = matmul(x, p, { compute: 'float32' });
        expect(Array.from(y8).every(Number.isFinite)).toBe(true);  // NaN quantizes to 0
        expect(Array.from(y32.subarray(0, N)).every(Number.isFinite)).toBe(true);
        expect(Array.from(y32.subarray(N)).every(Number.isNaN)).toBe(true);
        int8Results.push(y8);
        p.free();
      } finally {
        setBackend(before);
      }
    }
    if (int8Results.length === 2) expect(Array.from(int8Results[1]!)).toEqual(Array.from(int8Results[0]!));  // the same bits
  });

  test('a QTensor x must match K', () => {
    const x: QTensor = quantize(gaussian(10), [2, 5], { dtype: 'int8' });
    expect(() => matmul(x, w)).toThrow(/x as a QTensor must be int8 \/ uint8 of shape \[M, 3\]/);
  });
});
