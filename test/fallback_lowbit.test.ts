/**
 * TS fallback of the blocked low-bit linear layer (lib/fallback/lowbit_linear, SPEC §4):
 * compute 'int8' bit-exact against an independent BigInt reference that reads the packed
 * QTensor itself; compute 'float32' within SPEC's tolerance of float64 math on dequantize(w).
 */
import { DTYPES, dequantize, quantize, type IntDType, type QDType, type QTensor, type QuantizeOptions } from '../lib';
import { epilogueTs, linearAccTs, quantizeRowsTs } from '../lib/fallback/linear';
import { groupedWeightsFromQTensor, linearGroupedF32Ts, linearGroupedInt8Ts, type GroupedWeightsTs } from '../lib/fallback/lowbit_linear';
import { packBits, unpackBits } from '../lib/fallback/quantize';
import { checkQTensor } from '../lib/qtensor';
import { makeRng } from './helpers/random';

const rng = makeRng('fallback_lowbit.test');
const fr = Math.fround;

function gaussian(n: number, s = 1): Float32Array {
  return new Float32Array(n).map(() => s * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

/** Bit patterns of a float32 array, so that comparisons see -0 and every NaN. */
const bits = (y: Float32Array): number[] => Array.from(new Uint32Array(y.buffer, y.byteOffset, y.length));

/** Weight (n, k) of a validated [N, K] QTensor, read from its bytes (SPEC §2 packing). */
function weightAt(w: QTensor, n: number, k: number): number {
  const [N, K] = w.shape as [number, number];
  if (w.dtype === 'int8' || w.dtype === 'uint8') return w.data[n * K + k]!;
  const b = w.dtype === 'nf4' ? 4 : DTYPES[w.dtype].bits;
  // Blocked along K: every row starts on a byte boundary; otherwise one stream for the tensor.
  const rowLength = w.blockSize !== undefined ? K : N * K;
  const e = n * K + k, row = Math.floor(e / rowLength), i = e % rowLength;
  const bitPos = i * b, byte = w.data[row * Math.ceil((rowLength * b) / 8) + Math.floor(bitPos / 8)]!;
  const v = (byte >> (bitPos % 8)) & ((1 << b) - 1);
  return w.dtype !== 'nf4' && DTYPES[w.dtype].signed && v >= 1 << (b - 1) ? v - (1 << b) : v;
}

/** Index of the scale (and zero point) of weight (n, k). */
function scaleIndex(w: QTensor, n: number, k: number): number {
  const K = w.shape[1]!;
  if (w.blockSize !== undefined) return n * Math.ceil(K / w.blockSize) + Math.floor(k / w.blockSize);
  return w.scale.length === 1 ? 0 : n;
}

/** SPEC §4 blocked epilogue, straight from the text: BigInt sums, int32 wrap, float32 steps. */
function refInt8(aq: Int8Array | Uint8Array, M: number, aZp: ArrayLike<number> | null, aScale: Float32Array, w: QTensor, bias: Float32Array | null): Float32Array {
  const [N, K] = w.shape as [number, number];
  const G = w.blockSize ?? K;
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      const za = aZp ? aZp[aZp.length === 1 ? 0 : m]! : 0;
      const as = aScale[aScale.length === 1 ? 0 : m]!;
      let acc = 0;
      for (let k0 = 0; k0 < K; k0 += G) {
        const s = scaleIndex(w, n, k0), zw = w.zeroPoint ? w.zeroPoint[s]! : 0;
        let sum = 0n;
        for (let k = k0; k < Math.min(K, k0 + G); k++) sum += BigInt(aq[m * K + k]! - za) * BigInt(weightAt(w, n, k) - zw);
        const acc32 = Number(BigInt.asIntN(32, sum));
        acc = fr(acc + fr(fr(acc32) * fr(as * w.scale[s]!)));
      }
      y[m * N + n] = bias ? fr(acc + bias[n]!) : acc;
    }
  return y;
}

interface Activations { name: string; q: Int8Array | Uint8Array; zp: Int8Array | Uint8Array | null; scale: Float32Array }

/** The activation forms matmul feeds the int8 path: dynamic per row (qmax 127 / 63), and QTensor activations. */
function activations(M: number, K: number): Activations[] {
  const x = gaussian(M * K);
  const list: Activations[] = [];
  for (const qmax of [127, 63]) {
    const r = quantizeRowsTs(x, M, K, qmax);
    if ('badRow' in r) throw new Error('unexpected bad row');
    list.push({ name: `dynamic qmax ${qmax}`, q: r.q, zp: null, scale: r.scale });
  }
  const shift = x.map((v) => v + 0.8);
  for (const o of [{ dtype: 'int8', scheme: 'asymmetric', axis: 0 }, { dtype: 'uint8' }, { dtype: 'uint8', scheme: 'asymmetric' }] as QuantizeOptions[]) {
    const t = quantize(shift, [M, K], o);
    list.push({ name: `QTensor ${JSON.stringify(o)}`, q: t.data, zp: t.zeroPoint ?? null, scale: t.scale });
  }
  return list;
}

const SHAPES: [number, number][] = [[7, 37], [3, 100], [5, 3], [4, 0], [0, 9], [1, 1]];
const INT_DTYPES = Object.keys(DTYPES) as IntDType[];

/** Granularities for [N, K] weights: per tensor (8-bit only), per channel, blocks of 32, 64 and 5 along K. */
function granularities(dtype: QDType): { name: string; opts: Partial<QuantizeOptions> }[] {
  const g: { name: string; opts: Partial<QuantizeOptions> }[] = [{ name: 'blocks of 32', opts: { axis: 1, blockSize: 32 } }, { name: 'blocks of 64', opts: { blockSize: 64 } }, { name: 'blocks of 5', opts: { axis: 1, blockSize: 5 } }];
  if (dtype === 'nf4') return g; // nf4 per channel is hand-built below: quantize gives nf4 blocks by default
  g.push({ name: 'per channel', opts: { axis: 0 } });
  if (dtype === 'int8' || dtype === 'uint8') g.push({ name: 'per tensor', opts: {} });
  return g;
}

/** nf4 per channel (one packed stream, no blocks), made from the same values as blocks of K. */
function nf4PerChannel(wf: Float32Array, N: number, K: number): QTensor {
  const b = quantize(wf, [N, K], { dtype: 'nf4', axis: 1, blockSize: Math.max(1, K) });
  const idx = unpackBits(b.data as Uint8Array, 'uint4', K, N * K);
  // K = 0: no blocks, but per channel still has one (zero) absmax per row.
  const t: QTensor = { dtype: 'nf4', shape: [N, K], data: packBits(idx, 'uint4', N * K), scale: K ? b.scale : new Float32Array(N), scheme: 'symmetric', axis: 0 };
  checkQTensor('test', t, 'w');
  expect(bits(dequantize(t))).toEqual(bits(dequantize(b)));
  return t;
}

function grouped(w: QTensor): GroupedWeightsTs {
  return groupedWeightsFromQTensor(checkQTensor('test', w, 'w').t);
}

describe('groupedWeightsFromQTensor', () => {
  test('unpacks every dtype and granularity: q, scales and zero points per (n, group)', () => {
    for (const dtype of [...INT_DTYPES, 'nf4'] as QDType[])
      for (const { opts } of granularities(dtype))
        for (const scheme of dtype === 'nf4' ? (['symmetric'] as const) : (['symmetric', 'asymmetric'] as const))
          for (const [N, K] of SHAPES) {
            const w = quantize(gaussian(N * K), [N, K], { ...opts, dtype, scheme });
            const g = grouped(w);
            const G = w.blockSize ?? (K === 0 ? 1 : K);
            expect({ N: g.N, K: g.K, G: g.G, groups: g.groups, dtype: g.dtype }).toEqual({ N, K, G, groups: Math.ceil(K / G), dtype });
            expect(g.q.length).toBe(N * K);
            expect(g.q instanceof Int8Array).toBe(dtype !== 'nf4' && DTYPES[dtype].signed);
            expect(g.scale.length).toBe(N * g.groups);
            expect(g.zeroPoint === null).toBe(w.zeroPoint === undefined);
            for (let n = 0; n < N; n++)
              for (let k = 0; k < K; k++) {
                const s = scaleIndex(w, n, k), gi = n * g.groups + Math.floor(k / g.G);
                if (g.q[n * K + k] !== weightAt(w, n, k) || g.scale[gi] !== w.scale[s] || (g.zeroPoint && g.zeroPoint[gi] !== w.zeroPoint![s]))
                  throw new Error(`${dtype} ${JSON.stringify(opts)} ${scheme} [${N}, ${K}]: mismatch at (${n}, ${k})`);
              }
          }
  });

  test('copies: the result keeps no reference to the QTensor', () => {
    const w = quantize(gaussian(4 * 8), [4, 8], { dtype: 'int8', axis: 0, scheme: 'asymmetric' });
    const g = grouped(w), before = Array.from(g.q);
    w.data.fill(0); w.scale.fill(1); w.zeroPoint!.fill(0);
    expect(Array.from(g.q)).toEqual(before);
    expect(g.scale.every((s) => s !== 1)).toBe(true);
  });

  test.each([
    ['per-tensor int4', { dtype: 'int4' }, /groupedWeightsFromQTensor: w is int4 per tensor; sub-byte weights must be per channel \(axis 0\) or blocked along K \(axis 1\)/],
    ['per-tensor nf4', null, /w is nf4 per tensor/],
    ['int8 per axis 1', { dtype: 'int8', axis: 1 }, /w is int8 per axis 1 without blocks/],
    ['int4 blocked along axis 0', { dtype: 'int4', axis: 0, blockSize: 2 }, /w is int4 blocked along axis 0; matmul takes blocks along K \(axis 1\) only/],
  ] as [string, QuantizeOptions | null, RegExp][])('rejects %s naming w', (_n, o, message) => {
    const x = gaussian(4 * 6);
    const w = o ? quantize(x, [4, 6], o) : { dtype: 'nf4', shape: [4, 6], data: new Uint8Array(12), scale: Float32Array.of(1), scheme: 'symmetric' } as QTensor;
    expect(() => grouped(w)).toThrow(RangeError);
    expect(() => grouped(w)).toThrow(message);
  });

  test('rejects a weight that is not 2-D', () => {
    expect(() => grouped(quantize(gaussian(24), [2, 3, 4], { dtype: 'int8', axis: 0 }))).toThrow(/groupedWeightsFromQTensor: w must have shape \[N, K\], got \[2, 3, 4\]/);
  });
});

describe("linearGroupedInt8Ts (compute 'int8')", () => {
  test('matches the BigInt reference bit for bit: every dtype x granularity x scheme, odd shapes, M = 0, with and without bias', () => {
    let cases = 0;
    for (const dtype of INT_DTYPES)
      for (const { name, opts } of granularities(dtype))
        for (const scheme of ['symmetric', 'asymmetric'] as const)
          for (const [N, K] of SHAPES)
            for (const M of [3, 0]) {
              const w = quantize(gaussian(N * K).map((v) => v + (scheme === 'asymmetric' ? 0.5 : 0)), [N, K], { ...opts, dtype, scheme });
              const g = grouped(w);
              for (const [ai, a] of activations(M, K).entries()) {
                const bias = ai % 2 ? gaussian(N) : null;
                const out = new Float32Array(M * N + 2).fill(7);
                linearGroupedInt8Ts(a.q, M, a.zp, a.scale, g, bias, out);
                const want = refInt8(a.q, M, a.zp, a.scale, w, bias);
                if (bits(out.subarray(0, M * N)).join() !== bits(want).join())
                  throw new Error(`${dtype} ${name} ${scheme} M=${M} N=${N} K=${K}, ${a.name}: got ${Array.from(out.subarray(0, M * N))}, want ${Array.from(want)}`);
                expect(Array.from(out.subarray(M * N))).toEqual([7, 7]);
                cases++;
              }
            }
    console.log(`${cases} int8-compute cases checked`);
  });

  test('one group: identical to the per-channel epilogue (linearAccTs + epilogueTs) for int8 / uint8 per channel, per tensor, and one block covering K', () => {
    const M = 5, N = 9, K = 70;
    const wf = gaussian(N * K).map((v) => v + 0.3);
    for (const o of [{ dtype: 'int8', axis: 0 }, { dtype: 'int8', axis: 0, scheme: 'asymmetric' }, { dtype: 'uint8', axis: 0 }, { dtype: 'uint8', scheme: 'asymmetric' },
      { dtype: 'int8' }, { dtype: 'int8', blockSize: 128 }, { dtype: 'uint8', scheme: 'asymmetric', blockSize: 70 }] as QuantizeOptions[]) {
      const w = quantize(wf, [N, K], o), g = grouped(w);
      expect(g.groups).toBe(1);
      for (const a of activations(M, K))
        for (const bias of [null, gaussian(N)]) {
          const want = new Float32Array(M * N), got = new Float32Array(M * N);
          epilogueTs(linearAccTs(a.q, M, K, a.zp, w.data, N, w.zeroPoint ?? null), M, N, a.scale, w.scale, bias, want);
          linearGroupedInt8Ts(a.q, M, a.zp, a.scale, g, bias, got);
          expect(bits(got)).toEqual(bits(want));
        }
    }
  });

  test('the one difference from the per-channel formula: y starts at +0, so a -0 product (underflowed scale product) gives +0', () => {
    // aScale * wScale = 2^-200 underflows to 0 in float32; float(acc) * 0 is -0 for acc < 0.
    const w: QTensor = { dtype: 'int8', shape: [1, 2], data: Int8Array.of(-3, -4), scale: Float32Array.of(2 ** -100), scheme: 'symmetric', axis: 0 };
    const a = Int8Array.of(5, 6), aScale = Float32Array.of(2 ** -100);
    const perChannel = new Float32Array(1), got = new Float32Array(1);
    epilogueTs(linearAccTs(a, 1, 2, null, w.data, 1, null), 1, 1, aScale, w.scale, null, perChannel);
    linearGroupedInt8Ts(a, 1, null, aScale, grouped(w), null, got);
    expect(Object.is(perChannel[0], -0)).toBe(true);
    expect(Object.is(got[0], 0)).toBe(true);
  });

  test('extremes: int4 -8 / 7 and uint4 0 / 15 against opposite zero points, int2 / uint2, activations -128 / 127 with zero points, uint8 activations with zp 128', () => {
    const M = 3, K = 69, N = 4;
    // Activations: int8 QTensor rows of -128 / 127 with zero points 127 / -128 / 0 (|a - zp| up to 255).
    const aData = new Int8Array(M * K).map((_, i) => (i % 3 === 0 ? -128 : i % 3 === 1 ? 127 : rng.int(-128, 127)));
    const aI8: QTensor = { dtype: 'int8', shape: [M, K], data: aData, scale: Float32Array.of(0.011, 0.5, 3), zeroPoint: Int8Array.of(127, -128, 0), scheme: 'asymmetric', axis: 0 };
    checkQTensor('test', aI8, 'x');
    // uint8 activations 0 / 255 with the symmetric scheme's zero point 128, one scale for the tensor.
    const aU8: QTensor = { dtype: 'uint8', shape: [M, K], data: new Uint8Array(M * K).map((_, i) => (i % 2 ? 255 : 0)), scale: Float32Array.of(0.25), zeroPoint: Uint8Array.of(128), scheme: 'symmetric' };
    checkQTensor('test', aU8, 'x');
    const cases: { dtype: IntDType; values: number[]; zps: number[] }[] = [
      { dtype: 'int4', values: [-8, 7], zps: [7, -8, 0, -1] }, { dtype: 'uint4', values: [0, 15], zps: [15, 0, 8, 7] },
      { dtype: 'int2', values: [-2, 1], zps: [1, -2, 0, -1] }, { dtype: 'uint2', values: [0, 3], zps: [3, 0, 2, 1] },
      { dtype: 'int8', values: [-128, 127], zps: [127, -128, 0, 5] }, { dtype: 'uint8', values: [0, 255], zps: [255, 0, 128, 1] },
    ];
    for (const { dtype, values, zps } of cases)
      for (const layout of ['blocked', 'per channel'] as const) {
        const G = 32, groups = layout === 'blocked' ? Math.ceil(K / G) : 1, nScales = N * groups;
        const ints = Array.from({ length: N * K }, (_, i) => values[(i + Math.floor(i / 7)) % 2]!);
        const bytewise = dtype === 'int8' || dtype === 'uint8';
        const data = bytewise ? (dtype === 'int8' ? Int8Array.from(ints) : Uint8Array.from(ints)) : packBits(ints, dtype, layout === 'blocked' ? K : N * K);
        const zpValues = Array.from({ length: nScales }, (_, s) => zps[s % zps.length]!);
        const w: QTensor = {
          dtype, shape: [N, K], data, scale: Float32Array.from({ length: nScales }, (_, s) => fr(0.01 * (s + 1))),
          zeroPoint: DTYPES[dtype].signed ? Int8Array.from(zpValues) : Uint8Array.from(zpValues), scheme: 'asymmetric', axis: layout === 'blocked' ? 1 : 0,
        };
        if (layout === 'blocked') w.blockSize = G;
        const g = grouped(w);
        for (const a of [aI8, aU8]) {
          const bias = Float32Array.of(-1e3, 0.5, 1e-3, 7);
          const out = new Float32Array(M * N);
          linearGroupedInt8Ts(a.data, M, a.zeroPoint!, a.scale, g, bias, out);
          expect(bits(out)).toEqual(bits(refInt8(a.data, M, a.zeroPoint!, a.scale, w, bias)));
        }
      }
  });

  test('int32 sums wrap modulo 2^32 exactly as the reference (K = 40000 of 255 * 255)', () => {
    const M = 2, N = 2, K = 40_000;
    const w: QTensor = { dtype: 'int8', shape: [N, K], data: new Int8Array(N * K).fill(-128), scale: Float32Array.of(1e-3, 2e-3), zeroPoint: Int8Array.of(127, 127), scheme: 'asymmetric', axis: 0 };
    const a = new Int8Array(M * K).fill(-128).map((v, i) => (i >= K && i % 5 === 0 ? 127 : v)), aZp = Int8Array.of(127, 127), aScale = Float32Array.of(0.5, 0.25);
    const out = new Float32Array(M * N), per = new Float32Array(M * N);
    linearGroupedInt8Ts(a, M, aZp, aScale, grouped(w), null, out);
    expect(bits(out)).toEqual(bits(refInt8(a, M, aZp, aScale, w, null)));
    epilogueTs(linearAccTs(a, M, K, aZp, w.data, N, w.zeroPoint!), M, N, aScale, w.scale, null, per);
    expect(bits(out)).toEqual(bits(per));
    expect(out[0]).toBeLessThan(0); // 255 * 255 * 40000 > 2^31: wrapped negative
  });

  test('nf4 is refused: it computes in float32 only', () => {
    const g = grouped(quantize(gaussian(2 * 64), [2, 64], { dtype: 'nf4' }));
    expect(() => linearGroupedInt8Ts(new Int8Array(64), 1, null, Float32Array.of(1), g, null, new Float32Array(2))).toThrow(/linearGroupedInt8Ts: w is nf4, which computes in float32 only/);
  });

  test('bad sizes are RangeErrors, and nothing is written', () => {
    const g = grouped(quantize(gaussian(3 * 8), [3, 8], { dtype: 'int4', blockSize: 4 }));
    const out = new Float32Array(6).fill(7);
    expect(() => linearGroupedInt8Ts(new Int8Array(15), 2, null, Float32Array.of(1), g, null, out)).toThrow(/activations hold 15 values but M x K = 2 x 8 needs 16/);
    expect(() => linearGroupedInt8Ts(new Int8Array(16), 2, null, new Float32Array(3), g, null, out)).toThrow(/aScale has 3 values; it needs 1 or M = 2/);
    expect(() => linearGroupedInt8Ts(new Int8Array(16), 2, new Int8Array(3), Float32Array.of(1), g, null, out)).toThrow(/aZp has 3 values/);
    expect(() => linearGroupedInt8Ts(new Int8Array(16), 2, null, Float32Array.of(1), g, new Float32Array(2), out)).toThrow(/bias has 2 values but w has N = 3/);
    expect(() => linearGroupedInt8Ts(new Int8Array(16), 2, null, Float32Array.of(1), g, null, new Float32Array(5))).toThrow(/out holds 5 values but M x N = 2 x 3 needs 6/);
    expect(Array.from(out)).toEqual(new Array(6).fill(7));
  });
});

describe("linearGroupedF32Ts (compute 'float32')", () => {
  /** |y - y_exact| <= 1e-4 * Σ|x·w| (SPEC §4), plus the rounding of y_exact itself to float32 (a bias can dominate y). */
  function expectWithinSpec(x: Float32Array, M: number, w: QTensor, bias: Float32Array | null, y: Float32Array, label: string): void {
    const [N, K] = w.shape as [number, number];
    const wd = dequantize(w);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let exact = bias ? bias[n]! : 0, mag = 0;
        for (let k = 0; k < K; k++) { exact += x[m * K + k]! * wd[n * K + k]!; mag += Math.abs(x[m * K + k]! * wd[n * K + k]!); }
        const err = Math.abs(y[m * N + n]! - exact);
        if (!(err <= 1e-4 * mag + Math.abs(fr(exact) - exact))) throw new Error(`${label} (${m}, ${n}): y ${y[m * N + n]}, exact ${exact}, Σ|x·w| ${mag}`);
      }
  }

  test('every dtype (nf4 too, with and without doubleQuant / float16 scales) x granularity x scheme is within SPEC tolerance of float64 on dequantize(w)', () => {
    let cases = 0;
    const nf4Variants: Partial<QuantizeOptions>[] = [{}, { doubleQuant: true }, { scaleDtype: 'float16' }];
    for (const dtype of [...INT_DTYPES, 'nf4'] as QDType[])
      for (const { name, opts } of granularities(dtype))
        for (const variant of dtype === 'nf4' ? nf4Variants : ([{ scheme: 'symmetric' }, { scheme: 'asymmetric' }, { scheme: 'asymmetric', scaleDtype: 'float16' }] as Partial<QuantizeOptions>[]))
          for (const [N, K] of SHAPES)
            for (const M of [3, 0]) {
              const w = quantize(gaussian(N * K).map((v) => v + (variant.scheme === 'asymmetric' ? 0.5 : 0)), [N, K], { ...opts, ...variant, dtype });
              const x = gaussian(M * K), bias = cases % 2 ? gaussian(N, 10) : null;
              const out = new Float32Array(M * N);
              linearGroupedF32Ts(x, M, grouped(w), bias, out);
              expectWithinSpec(x, M, w, bias, out, `${dtype} ${name} ${JSON.stringify(variant)} M=${M} N=${N} K=${K}`);
              cases++;
            }
    console.log(`${cases} float32-compute cases checked`);
  });

  test('nf4 per channel (one packed stream, rows starting mid-byte) and a larger blocked nf4 layer with doubleQuant', () => {
    for (const [N, K] of [[5, 37], [3, 64], [4, 0]] as [number, number][]) {
      const w = nf4PerChannel(gaussian(N * K), N, K), M = 4;
      const g = grouped(w);
      expect({ G: g.G, groups: g.groups }).toEqual({ G: K || 1, groups: K ? 1 : 0 });
      const x = gaussian(M * K), out = new Float32Array(M * N);
      linearGroupedF32Ts(x, M, g, null, out);
      expectWithinSpec(x, M, w, null, out, `nf4 per channel [${N}, ${K}]`);
    }
    const N = 48, K = 640, M = 3;
    const w = quantize(gaussian(N * K, 0.05), [N, K], { dtype: 'nf4', doubleQuant: true });
    const x = gaussian(M * K), bias = gaussian(N), out = new Float32Array(M * N);
    linearGroupedF32Ts(x, M, grouped(w), bias, out);
    expectWithinSpec(x, M, w, bias, out, 'nf4 doubleQuant [48, 640]');
  });

  test('agrees with the int8 compute on integer weights to within activation quantization error', () => {
    const M = 4, N = 16, K = 256;
    const x = gaussian(M * K), w = quantize(gaussian(N * K), [N, K], { dtype: 'int4', blockSize: 32 }), g = grouped(w);
    const r = quantizeRowsTs(x, M, K, 127);
    if ('badRow' in r) throw new Error('unexpected bad row');
    const yi = new Float32Array(M * N), yf = new Float32Array(M * N);
    linearGroupedInt8Ts(r.q, M, null, r.scale, g, null, yi);
    linearGroupedF32Ts(x, M, g, null, yf);
    let num = 0, den = 0;
    for (let i = 0; i < yi.length; i++) { num += (yi[i]! - yf[i]!) ** 2; den += yf[i]! ** 2; }
    expect(10 * Math.log10(den / num)).toBeGreaterThan(30);
  });
});
