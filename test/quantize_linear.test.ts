/**
 * @jest-environment ./test/helpers/shared-typed-arrays-env.js
 *
 * quantizeLinear / dequantizeLinear / dynamicQuantizeLinear: SPEC §3's edge values, and parity
 * with onnxruntime-node (QuantizeLinear / DequantizeLinear opset 21, DynamicQuantizeLinear) on
 * random and edge inputs, per tensor, per axis and blocked. int4 / uint4 tensors cannot cross
 * onnxruntime-node's JS boundary, so the test models cast them to and from int8 inside.
 */
import { dequantizeLinear, dynamicQuantizeLinear, quantizeLinear, unpackInt4, unpackUint4, type IntDType } from '../lib';
import { graphModel, type OnnxType } from '../bench/onnx_model';
import { makeRng } from './helpers/random';
import { describeTargets, targets, useTarget } from './helpers/targets';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | null = null;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ort = require('onnxruntime-node') as Ort;
} catch (e) {
  console.log(`SKIP onnxruntime parity: onnxruntime-node did not load (${(e as Error).message.split('\n')[0]})`);
}
const rng = makeRng('quantize_linear.test');
const f32 = (...v: number[]): Float32Array => Float32Array.from(v);

describeTargets('SPEC §3 edge values', (it) => {
  it('round half to even on exact ties, both signs', () => {
    const x = f32(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -3.5, 3.5, 2.4999998);
    expect(Array.from(quantizeLinear(x, 1, 0, { dtype: 'int8' }))).toEqual([0, 2, 2, 0, -2, -2, -4, 4, 2]);
  });
  it('the division is an IEEE float32 division, not a multiplication by the reciprocal', () => {
    // 0.3 / 0.1 in float32 is 3.0000002 (rounds to 3); x * (1 / 0.1) differs for some inputs: check one tie-adjacent value.
    const s = Math.fround(0.1);
    const x = new Float32Array(2000).map((_, i) => Math.fround((i - 1000) * 0.05 + 0.025));
    const q = quantizeLinear(x, s, 0, { dtype: 'int8' });
    for (let i = 0; i < x.length; i++) {
      const v = Math.fround(x[i]! / s);
      const f = Math.floor(v), d = v - f;
      const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
      expect(q[i]).toBe(Math.max(-128, Math.min(127, r)));
    }
  });
  it.each<[IntDType, number, number]>([['int8', -128, 127], ['uint8', 0, 255], ['int4', -8, 7], ['uint4', 0, 15], ['int2', -2, 1], ['uint2', 0, 3]])(
    '%s: ±Inf and huge values saturate by sign, NaN gives the zero point', (dtype, qmin, qmax) => {
      const zp = dtype.startsWith('u') ? 1 : 0;
      const x = f32(Infinity, -Infinity, 3e38, -3e38, 1e10, -1e10, NaN, -NaN);
      const q = quantizeLinear(x, 1e-3, zp, { dtype, shape: [8] });
      const values = dtype === 'int8' || dtype === 'uint8' ? Array.from(q) : dequantizeLinear(q, 1, 0, { dtype, shape: [8] });
      expect(Array.from(values)).toEqual([qmax, qmin, qmax, qmin, qmax, qmin, zp, zp]);
    });
  it('subnormal inputs and scales are honoured (no flush to zero)', () => {
    const tiny = 1.4e-45; // the smallest float32 subnormal
    expect(Array.from(quantizeLinear(f32(tiny * 3, -tiny * 5, tiny), tiny, 0, { dtype: 'int8' }))).toEqual([3, -5, 1]);
    const back = dequantizeLinear(Int8Array.of(3, -5), tiny, 0, { dtype: 'int8' });
    expect(Array.from(back)).toEqual([Math.fround(tiny * 3), Math.fround(-tiny * 5)]);
    expect(back[0]).not.toBe(0);
  });
  it('dequantize subtracts the zero point first, then multiplies in float32', () => {
    const s = Math.fround(0.1);
    const q = Uint8Array.of(0, 1, 200, 255);
    expect(Array.from(dequantizeLinear(q, s, 137, { dtype: 'uint8' }))).toEqual([0, 1, 200, 255].map((v) => Math.fround((v - 137) * s)));
  });
  it('blocked scales with a short last block, along the last axis (rows packed separately)', () => {
    const x = f32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10); // shape [2, 5], blocks of 2 along axis 1: 3 blocks per row
    const scale = f32(1, 2, 4, 1, 2, 4);
    const q = quantizeLinear(x, scale, 0, { dtype: 'int4', shape: [2, 5], axis: 1, blockSize: 2 });
    expect(q.length).toBe(6); // each row of 5 int4 takes 3 bytes
    expect(Array.from(unpackInt4(q.subarray(0, 3), 5))).toEqual([1, 2, 2, 2, 1]);
    expect(Array.from(dequantizeLinear(q, scale, 0, { dtype: 'int4', shape: [2, 5], axis: 1, blockSize: 2 }))).toEqual([1, 2, 4, 4, 4, 6, 7, 8, 8, 8]);
  });
  it('dequantizeLinear writes into opts.out and returns it; a short or wrong out, or a bad call, leaves it alone', () => {
    const q = Int8Array.of(-3, 0, 5, 127), out = new Float32Array(6).fill(9);
    expect(dequantizeLinear(q, 0.5, 1, { dtype: 'int8', out })).toBe(out);
    expect(Array.from(out)).toEqual([-2, -0.5, 2, 63, 9, 9]);
    const packed = quantizeLinear(f32(1, -2, 3), 1, 0, { dtype: 'int4' }), o4 = new Float32Array(3);
    expect(Array.from(dequantizeLinear(packed, 1, 0, { dtype: 'int4', shape: [3], out: o4 }))).toEqual([1, -2, 3]);
    const keep = new Float32Array(4).fill(7);
    expect(() => dequantizeLinear(q, 0.5, 0, { dtype: 'int8', out: new Float32Array(3) })).toThrow(/opts\.out/);
    expect(() => dequantizeLinear(q, 0.5, 0, { dtype: 'int8', out: new Float64Array(4) as unknown as Float32Array })).toThrow(TypeError);
    expect(() => dequantizeLinear(q, 0, 0, { dtype: 'int8', out: keep })).toThrow(/scale/);
    expect(Array.from(keep)).toEqual([7, 7, 7, 7]);
  });
  it('zero-sized tensors give empty results', () => {
    expect(quantizeLinear(new Float32Array(0), 1, 0, { dtype: 'uint4', shape: [0, 3] }).length).toBe(0);
    expect(dequantizeLinear(new Uint8Array(0), 1, 0, { dtype: 'int4', shape: [3, 0] }).length).toBe(0);
    expect(dynamicQuantizeLinear(new Float32Array(0))).toEqual({ y: new Uint8Array(0), scale: 1, zeroPoint: 0 });
  });
  it('dynamicQuantizeLinear: all-zero range gives scale 1, zero point 0; NaN quantizes to the zero point', () => {
    expect(dynamicQuantizeLinear(new Float32Array(4))).toEqual({ y: new Uint8Array(4), scale: 1, zeroPoint: 0 });
    const r = dynamicQuantizeLinear(f32(-1, NaN, 3));
    expect(r.y[1]).toBe(r.zeroPoint);
    expect(r.scale).toBe(Math.fround(Math.fround(4) / 255));
  });
});

describe('bad input names the argument', () => {
  test.each([
    ['x not a Float32Array', () => quantizeLinear([1, 2] as never, 1, 0, { dtype: 'int8' }), TypeError, /quantizeLinear: x must be a Float32Array, got Array\(2\)/],
    ['unknown dtype', () => quantizeLinear(f32(1), 1, 0, { dtype: 'int3' as never }), TypeError, /opts.dtype must be one of int8, uint8, int4, uint4, int2, uint2, got "int3"/],
    ['zero scale', () => quantizeLinear(f32(1), 0, 0, { dtype: 'int8' }), RangeError, /scale must be finite and > 0 \(as float32\), got 0/],
    ['scale underflowing float32', () => quantizeLinear(f32(1), 1e-50, 0, { dtype: 'int8' }), RangeError, /scale must be finite and > 0/],
    ['NaN scale in an array', () => quantizeLinear(f32(1, 2), f32(1, NaN), 0, { dtype: 'int8', shape: [1, 2] }), RangeError, /scale\[1\] must be finite and > 0 \(as float32\), got NaN/],
    ['zero point out of range', () => quantizeLinear(f32(1), 1, 8, { dtype: 'int4' }), RangeError, /zeroPoint must be an integer in the int4 range \[-8, 7\], got 8/],
    ['zero point class', () => quantizeLinear(f32(1), 1, Int8Array.of(1), { dtype: 'uint8' }), TypeError, /zeroPoint must be an unpacked Uint8Array for dtype uint8/],
    ['zero point count', () => quantizeLinear(f32(1, 2), f32(1, 2), [0], { dtype: 'int8', shape: [1, 2] }), RangeError, /zeroPoint has 1 values but there are 2 scales/],
    ['shape mismatch', () => quantizeLinear(f32(1, 2, 3), 1, 0, { dtype: 'int8', shape: [2, 2] }), RangeError, /opts.shape \[2, 2\] holds 4 elements but the data has 3/],
    ['axis out of range', () => quantizeLinear(f32(1, 2), f32(1, 2), 0, { dtype: 'int8', shape: [1, 2], axis: 2 }), RangeError, /opts.axis must be an integer in \[-2, 1\]/],
    ['per-axis scale count', () => quantizeLinear(f32(1, 2, 3, 4), f32(1, 2, 3), 0, { dtype: 'int8', shape: [2, 2] }), RangeError, /per-axis scales need one per index of axis 1 \(2\)/],
    ['block size < 1', () => quantizeLinear(f32(1, 2), f32(1), 0, { dtype: 'int8', blockSize: 0 }), RangeError, /opts.blockSize must be an integer >= 1, got 0/],
    ['blocked scale count', () => quantizeLinear(f32(1, 2, 3), f32(1), 0, { dtype: 'int8', axis: 0, blockSize: 2 }), RangeError, /blocks of 2 along axis 0 of shape \[3\] need 2/],
    ['packed q without shape', () => dequantizeLinear(new Uint8Array(2), 1, 0, { dtype: 'int4' }), TypeError, /opts.shape must be the tensor's shape/],
    ['packed q of the wrong length', () => dequantizeLinear(new Uint8Array(2), 1, 0, { dtype: 'int4', shape: [5] }), RangeError, /q has 2 bytes but 5 packed int4 values of shape \[5\] take 3/],
    ['q class', () => dequantizeLinear(new Uint8Array(2), 1, 0, { dtype: 'int8' }), TypeError, /dequantizeLinear: q must be an Int8Array for dtype "int8"/],
    ['Inf in dynamic input', () => dynamicQuantizeLinear(f32(1, -Infinity)), RangeError, /dynamicQuantizeLinear: x\[1\] is -Infinity/],
  ])('%s', (_n, call, ErrorClass, message) => {
    expect(call).toThrow(ErrorClass);
    expect(call).toThrow(message);
  });
});

// ---- onnxruntime parity -------------------------------------------------------------------

const ONNX_ELEM: Record<string, number> = { int8: 3, uint8: 2, int4: 22, uint4: 21 };

/** Random data of `size` values at several magnitudes, with ties, zeros and saturating values. */
function testData(size: number): Float32Array {
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const k = rng.int(0, 9);
    x[i] = k === 0 ? 0 : k === 1 ? rng.int(-300, 300) + 0.5 : k === 2 ? (rng.next() - 0.5) * 1e4 : (rng.next() - 0.5) * 20;
  }
  return x;
}

interface Case { dtype: 'int8' | 'uint8' | 'int4' | 'uint4'; shape: number[]; axis?: number; blockSize?: number }

/**
 * Runs QuantizeLinear (input x: float) or DequantizeLinear (input q) in onnxruntime. int4 / uint4
 * travel as int8 / uint8 and are cast inside the model, both ways.
 */
async function ortQuantOp(op: 'QuantizeLinear' | 'DequantizeLinear', c: Case, input: Float32Array | Int8Array | Uint8Array, scale: Float32Array, zp: Int8Array | Uint8Array, scaleShape: number[]): Promise<Float32Array | Int8Array | Uint8Array> {
  const sub = c.dtype === 'int4' || c.dtype === 'uint4';
  const carrier: OnnxType = c.dtype === 'int4' || c.dtype === 'int8' ? 'int8' : 'uint8';
  const quant = op === 'QuantizeLinear';
  const attrs: Record<string, number> = {};
  if (c.axis !== undefined) attrs.axis = c.axis;
  if (c.blockSize !== undefined) attrs.block_size = c.blockSize;
  const to4 = (from: string, name: string) => ({ op: 'Cast', inputs: [from], outputs: [name], attributes: { to: ONNX_ELEM[c.dtype]! } });
  const nodes = !sub ? [{ op, inputs: ['in', 's', 'zp'], outputs: ['y'], attributes: attrs }]
    : quant ? [to4('zp', 'zp4'), { op, inputs: ['in', 's', 'zp4'], outputs: ['y4'], attributes: attrs }, { op: 'Cast', inputs: ['y4'], outputs: ['y'], attributes: { to: ONNX_ELEM[carrier]! } }]
    : [to4('zp', 'zp4'), to4('in', 'in4'), { op, inputs: ['in4', 's', 'zp4'], outputs: ['y'], attributes: attrs }];
  const inType: OnnxType = quant ? 'float' : carrier, outType: OnnxType = quant ? carrier : 'float';
  const model = graphModel(nodes, [{ name: 'in', type: inType, shape: c.shape }, { name: 's', type: 'float', shape: scaleShape }, { name: 'zp', type: carrier, shape: scaleShape }],
    [{ name: 'y', type: outType, shape: c.shape }]);
  const session = await ort!.InferenceSession.create(model);
  const out = await session.run({ in: new ort!.Tensor(quant ? 'float32' : carrier, input, c.shape), s: new ort!.Tensor('float32', scale, scaleShape), zp: new ort!.Tensor(carrier, zp, scaleShape) });
  await session.release();
  return out.y!.data as Float32Array | Int8Array | Uint8Array;
}
const ortQuantize = (c: Case, x: Float32Array, scale: Float32Array, zp: Int8Array | Uint8Array, scaleShape: number[]) =>
  ortQuantOp('QuantizeLinear', c, x, scale, zp, scaleShape) as Promise<Int8Array | Uint8Array>;
const ortDequantize = (c: Case, q: Int8Array | Uint8Array, scale: Float32Array, zp: Int8Array | Uint8Array, scaleShape: number[]) =>
  ortQuantOp('DequantizeLinear', c, q, scale, zp, scaleShape) as Promise<Float32Array>;

const CASES: Case[] = [];
for (const dtype of ['int8', 'uint8', 'int4', 'uint4'] as const) {
  CASES.push({ dtype, shape: [37] });
  CASES.push({ dtype, shape: [3, 17], axis: 1 });
  CASES.push({ dtype, shape: [5, 4, 3], axis: 0 });
  CASES.push({ dtype, shape: [4, 21], axis: 1, blockSize: 8 });
  CASES.push({ dtype, shape: [9, 5], axis: 0, blockSize: 4 });
}

describeTargets('parity with onnxruntime (opset 21)', (it) => {
  const withOrt = ort ? it : test.skip;
  withOrt.each(CASES.map((c) => [`${c.dtype} shape [${c.shape}]${c.axis === undefined ? ' per tensor' : c.blockSize ? ` blocks of ${c.blockSize} on axis ${c.axis}` : ` per axis ${c.axis}`}`, c] as const))(
    'QuantizeLinear and DequantizeLinear: %s', async (_name, c) => {
      const size = c.shape.reduce((p, d) => p * d, 1);
      const scaleShape = c.axis === undefined ? [] : c.blockSize ? c.shape.map((d, i) => (i === c.axis ? Math.ceil(d / c.blockSize!) : d)) : [c.shape[c.axis]!];
      const nScale = scaleShape.reduce((p, d) => p * d, 1);
      const scale = new Float32Array(nScale).map(() => Math.fround(0.01 + rng.next() * 3));
      const { min, max } = { int8: { min: -128, max: 127 }, uint8: { min: 0, max: 255 }, int4: { min: -8, max: 7 }, uint4: { min: 0, max: 15 } }[c.dtype];
      const zp = (c.dtype.startsWith('u') ? new Uint8Array(nScale) : new Int8Array(nScale)).map(() => rng.int(min, max));
      const x = testData(size);
      const opts = { dtype: c.dtype, shape: c.shape, axis: c.axis, blockSize: c.blockSize };
      const ours = quantizeLinear(x, scale, zp, opts);
      const theirs = await ortQuantize(c, x, scale, zp, scaleShape);
      const rowLength = c.blockSize !== undefined && c.axis === c.shape.length - 1 && c.shape.length >= 2 ? c.shape[c.axis]! : size;
      const unpackRows = (bytes: Uint8Array, unpack: (b: Uint8Array, n: number) => Int8Array | Uint8Array): number[] => {
        const out: number[] = [], rowBytes = Math.ceil(rowLength / 2);
        for (let r = 0; r < size / rowLength; r++) out.push(...unpack(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), rowLength));
        return out;
      };
      const oursValues = c.dtype === 'int4' ? unpackRows(ours as Uint8Array, unpackInt4) : c.dtype === 'uint4' ? unpackRows(ours as Uint8Array, unpackUint4) : Array.from(ours);
      expect(oursValues).toEqual(Array.from(theirs));
      const back = dequantizeLinear(ours, scale, zp, opts);
      const theirsBack = await ortDequantize(c, theirs, scale, zp, scaleShape);
      expect(Array.from(back)).toEqual(Array.from(theirsBack));
    });

  withOrt('documented difference: NaN gives the zero point (onnxruntime gives qmin); huge values saturate by sign', async () => {
    const c: Case = { dtype: 'int4', shape: [3] };
    const x = f32(NaN, 3e10, -3e10);
    const ours = Array.from(unpackInt4(quantizeLinear(x, 1, 0, { dtype: 'int4' }), 3));
    const theirs = Array.from(await ortQuantize(c, x, f32(1), Int8Array.of(0), []));
    expect(ours).toEqual([0, 7, -8]);
    console.log(`int4 of [NaN, 3e10, -3e10]: lowbit ${JSON.stringify(ours)}, onnxruntime ${JSON.stringify(theirs)} (SPEC §3: NaN -> zero point, saturate by sign)`);
  });

  withOrt('DynamicQuantizeLinear on random data of several ranges', async () => {
    for (let iter = 0; iter < 12; iter++) {
      const n = rng.int(1, 300);
      const lo = iter % 3 === 0 ? 0 : -rng.next() * 10 ** rng.int(-3, 3), hi = iter % 4 === 1 ? 0 : rng.next() * 10 ** rng.int(-3, 3);
      const x = new Float32Array(n).map(() => lo + rng.next() * (hi - lo));
      const model = graphModel([{ op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 's', 'z'] }],
        [{ name: 'x', type: 'float', shape: [n] }], [{ name: 'y', type: 'uint8', shape: [n] }, { name: 's', type: 'float', shape: [] }, { name: 'z', type: 'uint8', shape: [] }], 11);
      const session = await ort!.InferenceSession.create(model);
      const out = await session.run({ x: new ort!.Tensor('float32', x, [n]) });
      await session.release();
      const ours = dynamicQuantizeLinear(x);
      expect({ scale: ours.scale, zeroPoint: ours.zeroPoint }).toEqual({ scale: (out.s!.data as Float32Array)[0], zeroPoint: (out.z!.data as Uint8Array)[0] });
      expect(Array.from(ours.y)).toEqual(Array.from(out.y!.data as Uint8Array));
    }
  });
});

describe('native ISAs against the TS fallback on larger random tensors', () => {
  const native = targets().filter((t) => t.backend === 'native' && !t.skip);
  const it = native.length ? test : test.skip;
  it('every dtype x granularity, bit for bit', () => {
    const layouts = [
      { shape: [1000] }, { shape: [13, 77], axis: 1 }, { shape: [77, 13], axis: 0 }, { shape: [6, 5, 33], axis: 1 },
      { shape: [9, 100], axis: 1, blockSize: 32 }, { shape: [100, 9], axis: 0, blockSize: 16 }, { shape: [4, 3, 50], axis: 2, blockSize: 7 },
    ];
    for (const dtype of ['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint2'] as const) {
      const { min, max } = { int8: { min: -128, max: 127 }, uint8: { min: 0, max: 255 }, int4: { min: -8, max: 7 }, uint4: { min: 0, max: 15 }, int2: { min: -2, max: 1 }, uint2: { min: 0, max: 3 } }[dtype];
      for (const l of layouts) {
        const size = l.shape.reduce((p, d) => p * d, 1);
        const axis = l.axis ?? 0;
        const nScale = l.axis === undefined ? 1 : l.blockSize ? size / l.shape[axis]! * Math.ceil(l.shape[axis]! / l.blockSize) : l.shape[axis]!;
        const scale = new Float32Array(nScale).map(() => Math.fround(10 ** (rng.next() * 6 - 4)));
        const zp = Array.from({ length: nScale }, () => rng.int(min, max));
        const x = testData(size);
        x[rng.int(0, size - 1)] = NaN; x[rng.int(0, size - 1)] = Infinity; x[rng.int(0, size - 1)] = 1.4e-45;
        const opts = { dtype, shape: l.shape, axis: l.axis, blockSize: l.blockSize };
        const restoreTs = useTarget({ backend: 'ts', isa: 'scalar', skip: null });
        const wantQ = quantizeLinear(x, scale, zp, opts), wantX = dequantizeLinear(wantQ, scale, zp, opts);
        restoreTs();
        for (const t of native) {
          const restore = useTarget(t);
          const gotQ = quantizeLinear(x, scale, zp, opts), gotX = dequantizeLinear(wantQ, scale, zp, opts);
          restore();
          expect({ isa: t.isa, dtype, ...l, q: Buffer.from(gotQ.buffer).equals(Buffer.from(wantQ.buffer)), x: Buffer.from(gotX.buffer).equals(Buffer.from(wantX.buffer)) })
            .toEqual({ isa: t.isa, dtype, ...l, q: true, x: true });
        }
      }
    }
  });
});
