/**
 * Low-bit weights through matmul (SPEC §4): int4 / uint4 / int2 / uint2 / nf4 and blocked int8,
 * per channel or in groups along K. compute 'int8': every native ISA equals the TS fallback bit
 * for bit, on 1, 2 and 3 threads, for float and QTensor activations, prepacked or not;
 * compute 'float32' is within SPEC §4's tolerance of float64 on the dequantized weights.
 */
import { dequantize, matmul, matmulAsync, prepack, quantize, type QuantizeOptions } from '../lib';
import { makeRng } from './helpers/random';
import { targets, useTarget } from './helpers/targets';

const rng = makeRng('lowbit_weights.test');

function gaussian(n: number): Float32Array {
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

const FORMATS: QuantizeOptions[] = [
  { dtype: 'int4', axis: 1, blockSize: 32 }, { dtype: 'int4', axis: 1, blockSize: 32, scaleDtype: 'float16' },
  { dtype: 'int4', axis: 0 }, { dtype: 'uint4', scheme: 'asymmetric', axis: 1, blockSize: 64 },
  { dtype: 'uint4', axis: 1, blockSize: 128 }, { dtype: 'int2', axis: 1, blockSize: 32 },
  { dtype: 'uint2', scheme: 'asymmetric', axis: 1, blockSize: 32 }, { dtype: 'int2', axis: 0 },
  { dtype: 'int8', axis: 1, blockSize: 32 }, { dtype: 'uint8', scheme: 'asymmetric', axis: 1, blockSize: 5 },
  { dtype: 'int4', axis: 1, blockSize: 33 }, { dtype: 'nf4', axis: 1, blockSize: 64 },
  { dtype: 'nf4', axis: 1, blockSize: 64, doubleQuant: true },
  // binary16 scales reach the native engine as 2-byte values: with zero points, and on the int8 engine
  { dtype: 'uint4', scheme: 'asymmetric', axis: 1, blockSize: 32, scaleDtype: 'float16' }, { dtype: 'int8', axis: 0, scaleDtype: 'float16' },
];
const label = (o: QuantizeOptions): string => `${o.dtype} ${o.blockSize ? `g${o.blockSize}` : 'per-channel'}${o.scheme === 'asymmetric' ? ' asym' : ''}${o.scaleDtype === 'float16' ? ' f16' : ''}${o.doubleQuant ? ' dq' : ''}`;
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** |y - y_exact| <= 1e-4 · Σ|x·w| (+ the float32 rounding of y_exact itself). */
function withinTolerance(x: Float32Array, w: Float32Array, y: Float32Array, M: number, N: number, K: number, bias?: Float32Array): boolean {
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let exact = bias ? bias[n]! : 0, mag = bias ? Math.abs(bias[n]!) : 0;
      for (let k = 0; k < K; k++) { const p = x[m * K + k]! * w[n * K + k]!; exact += p; mag += Math.abs(p); }
      if (Math.abs(y[m * N + n]! - exact) > 1e-4 * mag + Math.abs(Math.fround(exact) - exact) + 1e-30) return false;
    }
  return true;
}

const native = targets().filter((t) => t.backend === 'native' && !t.skip);
const ts = { backend: 'ts' as const, isa: 'scalar', skip: null };

describe('low-bit weights: every native ISA equals the TS fallback', () => {
  const it = native.length ? test : test.skip;
  it.each(FORMATS.map((o) => [label(o), o] as const))('%s: float and QTensor activations, odd shapes, 1-3 threads', (_name, o) => {
    // 37 rows: AMX's grouped tiles (from 32 rows) and their last strip of 5.
    for (let iter = 0; iter < 5; iter++) {
      const M = [1, 3, 5, 17, 37][iter]!, N = rng.int(1, 70), K = rng.int(1, 300);
      const x = gaussian(M * K).map((v) => v * 10 ** rng.int(-3, 3));
      const wf = gaussian(N * K), bias = iter % 2 ? gaussian(N) : undefined;
      const w = quantize(wf, [N, K], o);
      const nf4 = o.dtype === 'nf4';
      const xq = quantize(gaussian(M * K), [M, K], iter % 2 ? { dtype: 'uint8', scheme: 'asymmetric', axis: 0 } : { dtype: 'int8', axis: 0 });
      // An unaligned view of the activations.
      const xv = new Float32Array(new ArrayBuffer((M * K + 1) * 4), 4, M * K);
      xv.set(x);
      const restoreTs = useTarget(ts);
      const want = nf4 ? null : matmul(x, w, { bias });
      const wantQ = nf4 ? null : matmul(xq, w, { bias });
      const wantF = matmul(x, w, { bias, compute: 'float32' });
      restoreTs();
      expect(withinTolerance(x, dequantize(w), wantF, M, N, K, bias)).toBe(true);
      for (const t of native) {
        const restore = useTarget(t);
        const p = prepack(w);
        for (const threads of [1, 2, 3]) {
          const tag = { isa: t.isa, kernel: p.kernel, M, N, K, threads };
          if (want) expect({ ...tag, same: same(matmul(xv, p, { bias, threads }), want) }).toEqual({ ...tag, same: true });
          if (wantQ) expect({ ...tag, q: same(matmul(xq, p, { bias, threads }), wantQ) }).toEqual({ ...tag, q: true });
          const f = matmul(x, p, { bias, threads, compute: 'float32' });
          expect({ ...tag, f32: withinTolerance(x, dequantize(w), f, M, N, K, bias) }).toEqual({ ...tag, f32: true });
        }
        p.free();
        restore();
      }
    }
  });

  it('extremes: weights at qmin / qmax, activations ±max, all-zero and constant rows', () => {
    const M = 4, N = 33, K = 96;
    for (const o of FORMATS.filter((f) => f.dtype !== 'nf4')) {
      const wf = new Float32Array(N * K).map((_, i) => (i % 3 === 0 ? -1 : i % 3 === 1 ? 1 : 0.5) * (1 + (i % 7)));
      const w = quantize(wf, [N, K], o);
      const x = new Float32Array(M * K).map((_, i) => (i < K ? (i % 2 ? 1e30 : -1e30) : i < 2 * K ? 0 : i < 3 * K ? 0.25 : (i % 2 ? 1 : -1) * 2 ** -120));
      const restoreTs = useTarget(ts);
      const want = matmul(x, w);
      restoreTs();
      for (const t of native) {
        const restore = useTarget(t);
        expect({ f: label(o), isa: t.isa, same: same(matmul(x, w), want) }).toEqual({ f: label(o), isa: t.isa, same: true });
        restore();
      }
    }
  });
});

describe('low-bit weights: API', () => {
  it('int4 g32 is close to float32 and reports its kernel; matmulAsync gives the same bits', async () => {
    const M = 8, N = 64, K = 256;
    const x = gaussian(M * K), wf = gaussian(N * K);
    const w = quantize(wf, [N, K], { dtype: 'int4', axis: 1, blockSize: 32, scaleDtype: 'float16' });
    const p = prepack(w);
    expect(p.dtype).toBe('int4');
    expect(p.groupSize).toBe(32);
    expect(typeof p.kernel).toBe('string');
    const y = matmul(x, p);
    expect(same(await matmulAsync(x, p), y)).toBe(true);
    // int4 g32 on Gaussian weights: SQNR about 20 dB (docs/ACCURACY.md), cosine > 0.99.
    let dot = 0, n1 = 0, n2 = 0;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let e = 0;
        for (let k = 0; k < K; k++) e += x[m * K + k]! * wf[n * K + k]!;
        const v = y[m * N + n]!;
        dot += e * v; n1 += e * e; n2 += v * v;
      }
    expect(dot / Math.sqrt(n1 * n2)).toBeGreaterThan(0.99);
    p.free();
  });

  it('rejects what it cannot multiply, naming the argument', () => {
    const wf = gaussian(4 * 64);
    const nf4 = quantize(wf, [4, 64], { dtype: 'nf4', axis: 1, blockSize: 64 });
    expect(() => matmul(new Float32Array(64), nf4, { compute: 'int8' })).toThrow(/nf4 weights compute in float32 only/);
    expect(() => matmul(new Float32Array(64), quantize(wf, [4, 64], { dtype: 'int4' }))).toThrow(/w \(int4\) must be per output channel/);
    expect(() => matmul(new Float32Array(64), quantize(wf, [4, 64], { dtype: 'int4', axis: 0, blockSize: 32 }))).toThrow(/blocked along K \(axis 1\)/);
    expect(() => matmul(new Float32Array(64), nf4, { compute: 'fp16' as 'int8' })).toThrow(TypeError);
    const xq = quantize(gaussian(64), [1, 64], { dtype: 'int8', axis: 0 });
    expect(() => matmul(xq, nf4)).toThrow(/x as a QTensor needs opts.compute 'int8'/);
  });

  it('handles zero-sized dimensions', () => {
    for (const [N, K] of [[0, 64], [5, 0], [0, 0]] as const) {
      const w = quantize(new Float32Array(N * K), [N, K], { dtype: 'int4', axis: 1, blockSize: 32 });
      expect(matmul(new Float32Array(K * 2), w).length).toBe(K ? 2 * N : 0);
    }
  });
});
