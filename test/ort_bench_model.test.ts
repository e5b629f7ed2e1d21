/**
 * @jest-environment ./test/helpers/shared-typed-arrays-env.js
 */
/**
 * The onnxruntime models of `npm run bench` (bench/ort.ts) compute what the bench says they do:
 * the int8 graph is DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(a_scale * w_scale),
 * fused by onnxruntime into DynamicQuantizeMatMul, on lowbit's own int8 weights; the float32
 * graph is x times the float weights. So the "vs ort" ratios compare like with like.
 */
import { dynamicQuantizeLinear, errorStats, matmul, matmulInteger, quantize, type QTensor, type QuantizeOptions } from '../lib';
import { createSession, feeds, fp32MatMulModel, int8DynamicModel, loadOrt, matMulNBitsModel, optimizedOpTypes, type Ort } from '../bench/ort';
import { makeRng } from './helpers/random';

const loadedOrt = loadOrt();
const ort: Ort | null = 'ort' in loadedOrt ? loadedOrt.ort : null;
if (!ort) console.log(`SKIP bench model tests: onnxruntime-node did not load (${'error' in loadedOrt ? loadedOrt.error : ''})`);
const it = ort ? test : test.skip;
const rng = makeRng('ort_bench_model.test');

function gaussian(n: number): Float32Array {
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

/** x [M, K] times w [N, K] transposed, in float64. */
function reference(x: Float32Array, w: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
      y[m * N + n] = s;
    }
  return y;
}

async function runModel(model: Uint8Array, x: Float32Array, M: number, K: number): Promise<Float32Array> {
  const session = await createSession(ort!, model, 1);
  try {
    return (await session.run(feeds(ort!, x, M, K))).Y!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/**
 * What the unfused int8 graph computes, step by step, with lowbit's ops: DynamicQuantizeLinear
 * (bit-exact with onnxruntime's, see quantize_linear.test.ts), the exact integer product, then
 * float(acc) * float(x_scale * w_scale[n]).
 */
function int8GraphByHand(x: Float32Array, w: QTensor, M: number, N: number, K: number): Float32Array {
  const dq = dynamicQuantizeLinear(x);
  // matmulInteger wants B as [K, N]: the transpose of w's [N, K] rows, as the model holds it.
  const wt = w.data instanceof Int8Array ? new Int8Array(K * N) : new Uint8Array(K * N);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wt[k * N + n] = w.data[n * K + k]!;
  const exact = matmulInteger(dq.y, [M, K], wt, [K, N], dq.zeroPoint, w.zeroPoint ?? 0);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      const s = Math.fround(dq.scale * w.scale[w.scale.length === 1 ? 0 : n]!);
      y[m * N + n] = Math.fround(exact[m * N + n]! * s);
    }
  return y;
}

describe('bench/ort.ts models', () => {
  it('onnxruntime fuses the int8 graph into DynamicQuantizeMatMul and keeps MatMul for float32', async () => {
    const N = 16, K = 32;
    const w = quantize(gaussian(N * K), [N, K], { dtype: 'int8', axis: 0 });
    expect(await optimizedOpTypes(ort!, int8DynamicModel(w, 2))).toEqual(['com.microsoft.DynamicQuantizeMatMul']);
    expect(await optimizedOpTypes(ort!, fp32MatMulModel(gaussian(N * K), 2, N, K))).toEqual(['MatMul']);
  });

  // Weights in [-64, 64]: u8 x s8 pair sums stay inside int16, so no x86 kernel can saturate
  // and onnxruntime must give the graph's exact answer (up to the epilogue's float rounding).
  it('the int8 model is DynamicQuantizeLinear -> MatMulInteger -> scale, on weights that cannot saturate', async () => {
    for (const [M, N, K, perChannel, withZp] of [[3, 40, 100, true, false], [7, 33, 64, false, false], [1, 17, 257, true, true]] as const) {
      const data = new Int8Array(N * K).map(() => rng.int(-64, 64));
      const scale = perChannel ? new Float32Array(N).map(() => Math.fround(0.001 + rng.next() * 0.02)) : Float32Array.of(0.0123);
      const w: QTensor = { dtype: 'int8', shape: [N, K], data, scale, scheme: withZp ? 'asymmetric' : 'symmetric', ...(perChannel ? { axis: 0 } : {}) };
      if (withZp) w.zeroPoint = new Int8Array(N).map(() => rng.int(-3, 3));
      const x = gaussian(M * K);
      const theirs = await runModel(int8DynamicModel(w, M), x, M, K);
      const byHand = int8GraphByHand(x, w, M, N, K);
      for (let i = 0; i < M * N; i++) expect(Math.abs(theirs[i]! - byHand[i]!)).toBeLessThanOrEqual(1e-6 * Math.abs(byHand[i]!) + 1e-30);
    }
  });

  it('on the bench weights (lowbit per-channel int8) both engines are close to float32 and to each other', async () => {
    const M = 8, N = 64, K = 512;
    const cases: QuantizeOptions[] = [{ dtype: 'int8', axis: 0 }, { dtype: 'int8' }, { dtype: 'uint8', scheme: 'asymmetric', axis: 0 }];
    for (const o of cases) {
      const wf = gaussian(N * K), x = gaussian(M * K);
      const w = quantize(wf, [N, K], o);
      const ref = reference(x, wf, M, N, K);
      const theirs = await runModel(int8DynamicModel(w, M), x, M, K);
      const ours = matmul(x, w);
      const byHand = int8GraphByHand(x, w, M, N, K);
      // Elements where onnxruntime's kernel left the exact graph: int16 saturation of u8 x s8 pair sums (vpmaddubsw on AVX2).
      let saturated = 0;
      for (let i = 0; i < M * N; i++) if (Math.abs(theirs[i]! - byHand[i]!) > 1e-5 * Math.abs(byHand[i]!) + 1e-6) saturated++;
      const cosOrt = errorStats(ref, theirs).cosine, cosLowbit = errorStats(ref, ours).cosine;
      console.log(`${o.dtype} ${o.scheme ?? 'symmetric'} ${o.axis === undefined ? 'per tensor' : 'per channel'}: cosine vs float32 ort ${cosOrt.toFixed(6)}, lowbit ${cosLowbit.toFixed(6)}; ort off the exact graph in ${saturated} of ${M * N} outputs`);
      expect(cosLowbit).toBeGreaterThan(0.999);
      // onnxruntime's saturated sums cost it accuracy now and then (seen down to 0.9996 at this size).
      expect(cosOrt).toBeGreaterThan(0.998);
      expect(errorStats(ours, theirs).cosine).toBeGreaterThan(0.998);
    }
  });

  it('the float32 model is x times the weights', async () => {
    const M = 5, N = 24, K = 96;
    const wf = gaussian(N * K), x = gaussian(M * K);
    const ref = reference(x, wf, M, N, K);
    const theirs = await runModel(fp32MatMulModel(wf, M, N, K), x, M, K);
    for (let i = 0; i < M * N; i++) expect(Math.abs(theirs[i]! - ref[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(ref[i]!)));
  });
});

describe('the MatMulNBits model (the bench\'s 4-bit peer)', () => {
  it('multiplies by the same int4 weights as lowbit: accuracy_level 0 equals lowbit weight-only within float32 rounding', async () => {
    const M = 3, N = 40, K = 128;
    const x = gaussian(M * K), w4 = quantize(gaussian(N * K), [N, K], { dtype: 'int4', axis: 1, blockSize: 32, scaleDtype: 'float16' });
    const want = matmul(x, w4, { compute: 'float32' });
    const got0 = await runModel(matMulNBitsModel(w4, M, 0), x, M, K);
    const got4 = await runModel(matMulNBitsModel(w4, M, 4), x, M, K);
    let mag = 0;
    for (const v of want) mag = Math.max(mag, Math.abs(v));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got0[i]! - want[i]!)).toBeLessThan(1e-5 * mag + 1e-6);
    // accuracy_level 4 quantizes the activations to int8 as lowbit's compute 'int8' does: close, not equal.
    expect(errorStats(want, got4).cosine).toBeGreaterThan(0.999);
    expect(errorStats(want, matmul(x, w4)).cosine).toBeGreaterThan(0.999);
  });

  it('refuses weights it cannot express', () => {
    expect(() => matMulNBitsModel(quantize(gaussian(4 * 64), [4, 64], { dtype: 'int4', axis: 0 }), 1, 4)).toThrow(/blocked along axis 1/);
  });
});
