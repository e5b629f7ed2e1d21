/** quantize / dequantize: scheme, granularity, calibration, nf4 and double quantization, QTensor validation. */
import { bitsPerWeight, dequantize, errorStats, NF4_CODE, quantize, type QTensor, type QuantizeOptions } from '../lib';
import { makeRng } from './helpers/random';
import { describeTargets, targets, useTarget } from './helpers/targets';

const rng = makeRng('qtensor.test');

function gaussian(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return x;
}

/** Laplace (heavy-tailed) data, like many trained weights. */
function laplace(n: number): Float32Array {
  return new Float32Array(n).map(() => { const u = rng.next() - 0.5; return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u)); });
}

/** Gaussian data with 0.1% of the values multiplied by 50 (outliers). */
function withOutliers(n: number): Float32Array {
  const x = gaussian(n);
  for (let i = 0; i < n / 1000; i++) x[rng.int(0, n - 1)]! *= 50;
  return x;
}

const sqnr = (x: Float32Array, opts: QuantizeOptions, shape: number[] = [x.length]): number => errorStats(x, dequantize(quantize(x, shape, opts))).sqnrDb;

describeTargets('quantize / dequantize', (it) => {
  it('symmetric int8 / int4 / int2 never use -128 / -8 / -2, and put zero on the grid', () => {
    const x = Float32Array.of(-3, -1, 0, 1, 2, 3);
    for (const [dtype, qmax] of [['int8', 127], ['int4', 7], ['int2', 1]] as const) {
      const q = quantize(x, [6], { dtype });
      expect(q.scale[0]).toBe(Math.fround(3 / qmax));
      expect(q.zeroPoint).toBeUndefined();
      const y = dequantize(q);
      expect(y[0]).toBeCloseTo(-3, 5);
      expect(y[2]).toBe(0);
    }
    // Percentile clipping leaves values beyond the range: they still saturate at -127, not -128.
    const clipped = quantize(Float32Array.of(-100, ...new Array<number>(999).fill(0).map((_, i) => (i % 7) - 3)), [1000], { dtype: 'int8', calibration: 'percentile', percentile: 99 });
    expect(Math.min(...(clipped.data as Int8Array))).toBe(-127);
  });

  it('asymmetric: the range is widened to include 0, zero point = round(qmin - min / scale)', () => {
    const q = quantize(Float32Array.of(1, 2, 3, 4), [4], { dtype: 'uint8', scheme: 'asymmetric' });
    expect(q.scale[0]).toBe(Math.fround(4 / 255));
    expect(Array.from(q.zeroPoint!)).toEqual([0]);
    const n = quantize(Float32Array.of(-2, -1), [2], { dtype: 'int8', scheme: 'asymmetric' });
    expect(n.scale[0]).toBe(Math.fround(2 / 255));
    expect(Array.from(n.zeroPoint!)).toEqual([127]);
    const y = dequantize(n);
    expect(y[0]).toBeCloseTo(-2, 6);
    expect(Math.abs(y[1]! + 1)).toBeLessThanOrEqual(n.scale[0]! / 2);
  });

  it('an all-zero tensor gets scale 1 and dequantizes to zeros', () => {
    for (const opts of [{ dtype: 'int8' }, { dtype: 'uint4', scheme: 'asymmetric' }, { dtype: 'nf4' }, { dtype: 'int4', blockSize: 4 }] as QuantizeOptions[]) {
      const q = quantize(new Float32Array(8), [2, 4], opts);
      expect(Array.from(q.scale).every((s) => s === 1 || (opts.dtype === 'nf4' && s === 0) || s === 1)).toBe(true);
      expect(Array.from(dequantize(q))).toEqual(new Array(8).fill(0));
    }
  });

  it('per-axis and blocked scales follow SPEC shapes (axis replaced by ceil(dim / blockSize))', () => {
    const x = gaussian(6 * 70);
    expect(quantize(x, [6, 70], { dtype: 'int8', axis: 0 }).scale.length).toBe(6);
    expect(quantize(x, [6, 70], { dtype: 'int8', axis: -1 }).scale.length).toBe(70);
    const b = quantize(x, [6, 70], { dtype: 'int4', blockSize: 32 });
    expect({ axis: b.axis, n: b.scale.length, bytes: b.data.length }).toEqual({ axis: 1, n: 6 * 3, bytes: 6 * 35 });
    const b0 = quantize(x, [6, 70], { dtype: 'int4', axis: 0, blockSize: 4 });
    expect(b0.scale.length).toBe(2 * 70);
    for (const q of [b, b0]) expect(errorStats(x, dequantize(q)).cosine).toBeGreaterThan(0.99);
  });

  it('nf4: code values times absmax decode exactly; 4.5 bits per weight, 4.127 with double quantization', () => {
    const absmax = 2.5;
    const x = new Float32Array(64).map((_, i) => Math.fround(NF4_CODE[i % 16]! * absmax));
    x[0] = -absmax;
    const q = quantize(x, [64], { dtype: 'nf4' });
    expect(Array.from(q.scale)).toEqual([absmax]);
    expect(Array.from(dequantize(q))).toEqual(Array.from(x));
    const w = gaussian(64 * 256 * 2);
    const plain = quantize(w, [128, 256], { dtype: 'nf4' }), dq = quantize(w, [128, 256], { dtype: 'nf4', doubleQuant: true });
    expect(bitsPerWeight(plain)).toBe(4.5);
    expect(bitsPerWeight(dq)).toBeCloseTo(4 + 8 / 64 + 32 / (64 * 256) + 32 / w.length, 10);
    expect(errorStats(w, dequantize(dq)).sqnrDb).toBeGreaterThan(errorStats(w, dequantize(plain)).sqnrDb - 0.2);
  });

  it('accuracy on Gaussian data: int8 per channel loses almost nothing; int4 needs blocks', () => {
    const x = gaussian(64 * 512);
    expect(sqnr(x, { dtype: 'int8', axis: 0 }, [64, 512])).toBeGreaterThan(38);
    const int4Tensor = sqnr(x, { dtype: 'int4' }), int4Block = sqnr(x, { dtype: 'int4', blockSize: 32 }, [64, 512]);
    expect(int4Block).toBeGreaterThan(int4Tensor + 3);
  });

  it('on heavy-tailed data, percentile and mse calibration beat minmax; mse is never worse', () => {
    const x = laplace(20_000);
    const minmax = sqnr(x, { dtype: 'int4' }), pct = sqnr(x, { dtype: 'int4', calibration: 'percentile', percentile: 99.5 }), mse = sqnr(x, { dtype: 'int4', calibration: 'mse' });
    expect(pct).toBeGreaterThan(minmax + 1);
    expect(mse).toBeGreaterThan(minmax + 1);
    // mse tries the full range too, so it cannot lose to minmax, outliers or not.
    const o = withOutliers(20_000);
    expect(sqnr(o, { dtype: 'int8', calibration: 'mse' })).toBeGreaterThanOrEqual(sqnr(o, { dtype: 'int8' }));
  });

  it('zero-sized tensors quantize and dequantize to empty results', () => {
    for (const opts of [{ dtype: 'int8' }, { dtype: 'int4', blockSize: 8 }, { dtype: 'nf4' }] as QuantizeOptions[]) {
      const q = quantize(new Float32Array(0), [0, 16], opts);
      expect(dequantize(q).length).toBe(0);
    }
  });
});

describe('QTensor as data', () => {
  const opts: QuantizeOptions[] = [
    { dtype: 'int8', axis: 0 }, { dtype: 'uint4', scheme: 'asymmetric', blockSize: 16 }, { dtype: 'nf4', doubleQuant: true }, { dtype: 'int2', blockSize: 8, calibration: 'mse' },
  ];
  test.each(opts)('survives structuredClone and JSON with typed arrays: %o', (o) => {
    const x = gaussian(16 * 48);
    const q = quantize(x, [16, 48], o);
    expect(Array.from(dequantize(structuredClone(q)))).toEqual(Array.from(dequantize(q)));
    const replacer = (_k: string, v: unknown): unknown => (ArrayBuffer.isView(v) ? { $typed: v.constructor.name, values: Array.from(v as unknown as ArrayLike<number>) } : v);
    const ctors: Record<string, new (v: number[]) => ArrayBufferView> = { Int8Array, Uint8Array, Float32Array };
    const reviver = (_k: string, v: unknown): unknown => {
      const t = v as { $typed?: string; values?: number[] } | null;
      return t && typeof t === 'object' && t.$typed ? new ctors[t.$typed]!(t.values!) : v;
    };
    const back = JSON.parse(JSON.stringify(q, replacer), reviver) as QTensor;
    expect(Array.from(dequantize(back))).toEqual(Array.from(dequantize(q)));
  });

  test('native and TS backends make identical QTensors', () => {
    const native = targets().filter((t) => t.backend === 'native' && !t.skip);
    if (!native.length) return console.log('SKIP: no native backend');
    for (const o of opts) {
      const x = withOutliers(32 * 64);
      const restoreTs = useTarget({ backend: 'ts', isa: 'scalar', skip: null });
      const want = quantize(x, [32, 64], o);
      restoreTs();
      for (const t of native) {
        const restore = useTarget(t);
        const got = quantize(x, [32, 64], o);
        const y = dequantize(got);
        restore();
        expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
        expect(Array.from(got.scale)).toEqual(Array.from(want.scale));
        expect(Array.from(y)).toEqual(Array.from(dequantize(want)));
      }
    }
  });
});

describe('bad input names the argument', () => {
  const good = quantize(Float32Array.of(1, 2, 3, 4), [2, 2], { dtype: 'int8', axis: 0 });
  test.each([
    ['NaN in the data', () => quantize(Float32Array.of(1, NaN, 3), [3], { dtype: 'int8' }), RangeError, /quantize: x\[1\] is NaN: quantize derives its scales from the data/],
    ['Infinity in the data', () => quantize(Float32Array.of(1, 2, -Infinity), [3], { dtype: 'int8' }), RangeError, /x\[2\] is -Infinity/],
    ['bad dtype', () => quantize(new Float32Array(2), [2], { dtype: 'fp8' as never }), TypeError, /opts.dtype must be one of int8, uint8, int4, uint4, int2, uint2, nf4, got "fp8"/],
    ['bad scheme', () => quantize(new Float32Array(2), [2], { dtype: 'int8', scheme: 'sym' as never }), TypeError, /opts.scheme must be 'symmetric' or 'asymmetric', got "sym"/],
    ['bad calibration', () => quantize(new Float32Array(2), [2], { dtype: 'int8', calibration: 'kl' as never }), TypeError, /opts.calibration must be/],
    ['bad percentile', () => quantize(new Float32Array(2), [2], { dtype: 'int8', calibration: 'percentile', percentile: 0 }), RangeError, /opts.percentile must be a number in \(0, 100\], got 0/],
    ['nf4 asymmetric', () => quantize(new Float32Array(2), [2], { dtype: 'nf4', scheme: 'asymmetric' }), RangeError, /nf4 is symmetric absmax scaling/],
    ['doubleQuant on int4', () => quantize(new Float32Array(2), [2], { dtype: 'int4', doubleQuant: true }), RangeError, /opts.doubleQuant is a boolean for dtype nf4 only/],
    ['shape mismatch', () => quantize(new Float32Array(3), [2, 2], { dtype: 'int8' }), RangeError, /shape \[2, 2\] holds 4 elements but x has 3/],
    ['axis out of range', () => quantize(new Float32Array(4), [2, 2], { dtype: 'int8', axis: 2 }), RangeError, /opts.axis must be an integer in \[-2, 1\]/],
    ['not a QTensor', () => dequantize(null as never), TypeError, /dequantize: q must be a QTensor object, got null/],
    ['data too short', () => dequantize({ ...good, data: new Int8Array(3) }), RangeError, /q.data has 3 bytes but shape \[2, 2\] of int8 takes 4/],
    ['data of the wrong class', () => dequantize({ ...good, data: new Uint8Array(4) }), TypeError, /q.data must be an Int8Array for dtype int8/],
    ['scale count', () => dequantize({ ...good, scale: new Float32Array(3).fill(1) }), RangeError, /q.scale has 3 values but the granularity of q needs 2/],
    ['scale zero', () => dequantize({ ...good, scale: Float32Array.of(1, 0) }), RangeError, /q.scale\[1\] must be finite and > 0, got 0/],
    ['zero point out of range', () => dequantize({ ...good, dtype: 'int4', data: new Uint8Array(2), zeroPoint: Int8Array.of(9, 0) }), RangeError, /q.zeroPoint\[0\] must be an integer in the int4 range \[-8, 7\], got 9/],
    ['zero point class', () => dequantize({ ...good, zeroPoint: Uint8Array.of(1, 0) }), TypeError, /q.zeroPoint must be an Int8Array for dtype int8/],
  ])('%s', (_n, call, ErrorClass, message) => {
    expect(call).toThrow(ErrorClass);
    expect(call).toThrow(message);
  });
});

describe('accuracy on real trained float32 weights and embeddings (USE-lite, docs/ACCURACY.md)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require('../bench/real_weights') as typeof import('../bench/real_weights');
  test('int8 per-channel loses almost nothing; int4 needs blocks; nf4 matches int4 blocks', () => {
    const w = real.realLayerWeights().find((t) => t.name.endsWith('L1.ffn.conv2'))!; // [1536, 512], the widest range
    const s = (o: QuantizeOptions): ReturnType<typeof errorStats> => errorStats(w.data, dequantize(quantize(w.data, w.shape, o)));
    const int8 = s({ dtype: 'int8', axis: 1 });
    expect(int8.sqnrDb).toBeGreaterThan(38);
    expect(int8.cosine).toBeGreaterThan(0.9999);
    const tensor4 = s({ dtype: 'int4' }), block4 = s({ dtype: 'int4', axis: 0, blockSize: 64 }), nf4 = s({ dtype: 'nf4', axis: 0, blockSize: 64 });
    expect(block4.sqnrDb).toBeGreaterThan(tensor4.sqnrDb + 6);
    expect(nf4.sqnrDb).toBeGreaterThan(block4.sqnrDb - 1);
    expect(s({ dtype: 'int4', calibration: 'mse' }).sqnrDb).toBeGreaterThan(tensor4.sqnrDb);
  });
  test('real embeddings: int8 per token keeps cosine > 0.9999', () => {
    const e = real.realEmbeddings(2000);
    const y = dequantize(quantize(e.data, e.shape, { dtype: 'int8', axis: 0 }));
    expect(errorStats(e.data, y).cosine).toBeGreaterThan(0.9999);
  });
});
