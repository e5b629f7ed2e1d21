/** binary16 helpers (lib/float16) and quantize's scaleDtype 'float16' (SPEC §2). */
import { bitsPerWeight, dequantize, DTYPES, quantize, quantizeLinear, type IntDType, type QTensor, type QuantizeOptions } from '../lib';
import { firstNonFloat16, float16Bits, float16BitsOfExact, float16FromBits, isFloat16Exact, roundToFloat16 } from '../lib/float16';
import { nf4Index, nf4Value } from '../lib/fallback/nf4';
import { roundHalfEven, unpackBits } from '../lib/fallback/quantize';
import { makeRng } from './helpers/random';
import { describeTargets } from './helpers/targets';

const rng = makeRng('float16.test');

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bitsOf32 = (x: number): number => { f32[0] = x; return u32[0]!; };
const fromBits32 = (b: number): number => { u32[0] = b >>> 0; return f32[0]!; };

/**
 * Reference float32 -> binary16 bits, written on the float32 bit pattern with integer
 * arithmetic only (a different method from lib/float16's scaling by powers of two).
 */
function refHalfBits(x: number): number {
  const b = bitsOf32(x);
  const sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff, frac = b & 0x7fffff;
  if (exp === 0xff) return sign | (frac ? 0x7e00 : 0x7c00);
  if (exp === 0) return sign; // float32 subnormals are all below 2^-126: far under half of 2^-24
  const e = exp - 127, sig = frac | 0x800000; // value = sig * 2^(e - 23)
  if (e > 15) return sign | 0x7c00;
  // Keep 11 significant bits for normals (e >= -14); fewer for half subnormals (unit 2^-24).
  const shift = 13 + Math.max(e, -14) - e;
  if (shift >= 25) return sign; // below 2^-25: rounds to 0
  let q = sig >>> shift;
  const rem = sig & ((1 << shift) - 1), half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q++;
  // A carry out of the significand (q = 2048, or 1024 for a subnormal) bumps the exponent field.
  const bits = e >= -14 ? ((e + 15) << 10) + q - 1024 : q;
  return sign | (bits >= 0x7c00 ? 0x7c00 : bits);
}

describe('binary16 helpers', () => {
  test('firstNonFloat16 agrees with isFloat16Exact on every kind of float32 (random bits, binary16 values, edges)', () => {
    const edges = [0, -0, Infinity, -Infinity, NaN, 65504, 65505, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -24, 2 ** -14,
      2 ** -14 + 2 ** -24, 2 ** -15 + 2 ** -24, 2 ** -15 + 2 ** -25, 1 + 2 ** -10, 1 + 2 ** -11, 2 ** -126, 2 ** -149, 0.1];
    const values: number[] = [...edges, ...edges.map((v) => -v)];
    for (let i = 0; i < 20000; i++) values.push(fromBits32((rng.next() * 2 ** 32) >>> 0));
    // binary16 values, and the float32 one ulp above each
    for (let i = 0; i < 20000; i++) {
      const h = float16FromBits(rng.int(0, 0xffff));
      values.push(h, fromBits32(bitsOf32(h) + 1));
    }
    let checked = 0;
    for (const v of values) {
      const a = new Float32Array([1, 1, v, 1]);
      expect(firstNonFloat16(a.subarray(1))).toBe(isFloat16Exact(a[2]!) ? -1 : 1);
      checked++;
    }
    expect(checked).toBe(values.length);
    expect(firstNonFloat16(new Float32Array(0))).toBe(-1);
  });
  test('float16BitsOfExact gives float16Bits of every binary16 value but NaN, from an unaligned view', () => {
    const buf = new Float32Array(0x10001);
    let n = 0;
    for (let b = 0; b < 0x10000; b++) {
      const v = float16FromBits(b);
      if (!Number.isNaN(v)) buf[1 + n++] = v;
    }
    const view = buf.subarray(1, 1 + n), got = float16BitsOfExact(view);
    expect(got.length).toBe(n);
    for (let i = 0; i < n; i++) if (got[i] !== float16Bits(view[i]!)) expect([i, got[i]]).toEqual([i, float16Bits(view[i]!)]);
    expect(n).toBe(0x10000 - 2 * 1023); // all but the NaN patterns: 2 signs x (2^10 - 1) mantissas
  });

  test('known values', () => {
    expect(roundToFloat16(1)).toBe(1);
    expect(roundToFloat16(65504)).toBe(65504);
    expect(roundToFloat16(65519.99)).toBe(65504);
    expect(roundToFloat16(65520)).toBe(Infinity); // the tie between 65504 (odd) and 2^16 goes up
    expect(roundToFloat16(-65520)).toBe(-Infinity);
    expect(roundToFloat16(2 ** -24)).toBe(2 ** -24);
    expect(roundToFloat16(2 ** -25)).toBe(0); // tie between 0 (even) and 2^-24
    expect(roundToFloat16(2 ** -25 + 2 ** -40)).toBe(2 ** -24);
    expect(roundToFloat16(3 * 2 ** -26)).toBe(2 ** -24);
    expect(roundToFloat16(3 * 2 ** -25)).toBe(2 ** -23); // tie between 2^-24 (odd) and 2^-23
    expect(roundToFloat16(1 + 2 ** -11)).toBe(1); // tie -> even
    expect(roundToFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToFloat16(0.1)).toBe(0.0999755859375);
    expect(roundToFloat16(Math.fround(0.1))).toBe(0.0999755859375);
    expect(roundToFloat16(2 ** -14 - 2 ** -26)).toBe(2 ** -14); // subnormal rounding up to the first normal
    expect(roundToFloat16(NaN)).toBeNaN();
    expect(Object.is(roundToFloat16(-0), -0)).toBe(true);
    expect(Object.is(roundToFloat16(-1e-30), -0)).toBe(true);
    expect(roundToFloat16(Infinity)).toBe(Infinity);
    expect(roundToFloat16(Number.MIN_VALUE)).toBe(0);
    expect(roundToFloat16(1e300)).toBe(Infinity);

    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(65520)).toBe(0x7c00);
    expect(float16Bits(-Infinity)).toBe(0xfc00);
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(2 ** -14)).toBe(0x0400);
    expect(float16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400);
    expect(float16Bits(1023 * 2 ** -24)).toBe(0x03ff);
    expect(float16Bits(0)).toBe(0);
    expect(float16Bits(-0)).toBe(0x8000);
    expect(float16Bits(NaN)).toBe(0x7e00);
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);

    expect(float16FromBits(0x3c00)).toBe(1);
    expect(float16FromBits(0x7bff)).toBe(65504);
    expect(float16FromBits(0x0001)).toBe(2 ** -24);
    expect(float16FromBits(0x7c00)).toBe(Infinity);
    expect(float16FromBits(0xfc00)).toBe(-Infinity);
    expect(float16FromBits(0x7e00)).toBeNaN();
    expect(Object.is(float16FromBits(0x8000), -0)).toBe(true);
    expect(() => float16FromBits(65536)).toThrow(/float16FromBits: u must be an integer in \[0, 65535\], got 65536/);
    expect(() => float16FromBits(1.5)).toThrow(RangeError);

    expect(isFloat16Exact(0.0999755859375)).toBe(true);
    expect(isFloat16Exact(0.1)).toBe(false);
    expect(isFloat16Exact(65505)).toBe(false);
    expect(isFloat16Exact(2 ** -25)).toBe(false);
    expect(isFloat16Exact(-0)).toBe(true);
    expect(isFloat16Exact(NaN)).toBe(false);
  });

  test('every bit pattern: bits -> value -> bits round-trips, and finite halves are fixed points', () => {
    for (let u = 0; u < 0x10000; u++) {
      const v = float16FromBits(u);
      const e = (u >> 10) & 0x1f;
      if (e === 0x1f && (u & 0x3ff) !== 0) { expect(v).toBeNaN(); continue; }
      if (float16Bits(v) !== u) throw new Error(`pattern ${u.toString(16)}: value ${v} gives bits ${float16Bits(v).toString(16)}`);
      if (!Object.is(roundToFloat16(v), v) || !isFloat16Exact(v)) throw new Error(`pattern ${u.toString(16)}: ${v} is not a fixed point`);
      if (refHalfBits(v) !== u) throw new Error(`reference disagrees on pattern ${u.toString(16)}`);
    }
  });

  test('every rounding boundary: the midpoint of each pair of neighbouring halves, and one float32 ulp either side', () => {
    // Midpoints need 12 significant bits: exactly float32 (and double) values.
    for (let u = 0; u < 0x7bff; u++) {
      const lo = float16FromBits(u), hi = float16FromBits(u + 1), mid = (lo + hi) / 2;
      expect(Math.fround(mid)).toBe(mid);
      const even = (u & 1) === 0 ? lo : hi;
      const below = fromBits32(bitsOf32(mid) - 1), above = fromBits32(bitsOf32(mid) + 1);
      const got = [roundToFloat16(below), roundToFloat16(mid), roundToFloat16(above), roundToFloat16(-mid)];
      if (got[0] !== lo || got[1] !== even || got[2] !== hi || got[3] !== -even)
        throw new Error(`between ${lo} and ${hi}: got ${got.join(', ')}`);
      if (float16Bits(mid) !== refHalfBits(mid) || float16Bits(below) !== refHalfBits(below) || float16Bits(above) !== refHalfBits(above))
        throw new Error(`bits disagree with the reference between ${lo} and ${hi}`);
    }
  });

  test('random float32 values (every exponent) agree with the bit-level reference', () => {
    const f16round = (Math as unknown as { f16round?: (x: number) => number }).f16round;
    for (let i = 0; i < 400_000; i++) {
      // Random bit patterns cover every exponent equally; half of them are drawn near the binary16 range.
      const bits = i & 1 ? (rng.next() * 2 ** 32) >>> 0 : ((rng.next() < 0.5 ? 0x80000000 : 0) | ((rng.int(127 - 30, 127 + 17) << 23) >>> 0) | rng.int(0, 0x7fffff)) >>> 0;
      const x = fromBits32(bits);
      if (Number.isNaN(x)) continue;
      const want = refHalfBits(x);
      if (float16Bits(x) !== want) throw new Error(`x = ${x} (bits ${bits.toString(16)}): float16Bits ${float16Bits(x).toString(16)}, reference ${want.toString(16)}`);
      if (!Object.is(roundToFloat16(x), float16FromBits(want))) throw new Error(`x = ${x}: roundToFloat16 ${roundToFloat16(x)}, reference ${float16FromBits(want)}`);
      if (f16round && !Object.is(f16round(x), roundToFloat16(x))) throw new Error(`x = ${x}: Math.f16round disagrees`);
    }
  });
});

function gaussian(n: number, s = 1): Float32Array {
  return new Float32Array(n).map(() => s * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()));
}

const QMAX_SYM: Record<number, number> = { 8: 127, 4: 7, 2: 1 };
const INT_DTYPES = Object.keys(DTYPES) as IntDType[];

/** The integer values of a QTensor, unpacked (rows packed independently when blocked along the last axis). */
function valuesOf(q: QTensor): Int32Array {
  const size = q.shape.reduce((p, d) => p * d, 1);
  if (q.dtype === 'int8' || q.dtype === 'uint8') return Int32Array.from(q.data);
  const rowLength = q.blockSize !== undefined && q.shape.length >= 2 && q.axis === q.shape.length - 1 ? q.shape[q.shape.length - 1]! : size;
  return unpackBits(q.data as Uint8Array, q.dtype === 'nf4' ? 'uint4' : q.dtype, rowLength, size);
}

/** Element indices of each scale group for a [R, C] tensor: per tensor, per row (axis 0), or blocks of B along axis 1. */
function groupsOf(R: number, C: number, kind: 'tensor' | 'row' | number): number[][] {
  const all = Array.from({ length: R * C }, (_, i) => i);
  if (kind === 'tensor') return [all];
  if (kind === 'row') return Array.from({ length: R }, (_, r) => all.slice(r * C, (r + 1) * C));
  const nb = Math.ceil(C / kind), out: number[][] = [];
  for (let r = 0; r < R; r++) for (let b = 0; b < nb; b++) out.push(all.slice(r * C + b * kind, r * C + Math.min(C, (b + 1) * kind)));
  return out;
}

describeTargets("quantize with scaleDtype 'float16'", (it) => {
  it('scales are binary16 values, zero points derive from the rounded scale, data is quantizeLinear with it', () => {
    const R = 6, C = 23;
    const layouts: [QuantizeOptions, 'tensor' | 'row' | number][] = [[{ dtype: 'int8' }, 'tensor'], [{ dtype: 'int8', axis: 0 }, 'row'], [{ dtype: 'int8', blockSize: 5 }, 5], [{ dtype: 'int8', axis: 1, blockSize: 32 }, 32]];
    let checked = 0;
    for (const magnitude of [1, 3e-3, 700, 2e-6])
      for (const dtype of INT_DTYPES)
        for (const scheme of ['symmetric', 'asymmetric'] as const)
          for (const calibration of ['minmax', 'percentile', 'mse'] as const)
            for (const [layout, kind] of layouts) {
              const x = gaussian(R * C, magnitude).map((v) => v + (scheme === 'asymmetric' ? magnitude * 0.7 : 0));
              const o: QuantizeOptions = { ...layout, dtype, scheme, calibration, percentile: 99, scaleDtype: 'float16' };
              const q = quantize(x, [R, C], o);
              const ref = quantize(x, [R, C], { ...o, scaleDtype: 'float32' });
              expect(q.scaleDtype).toBe('float16');
              expect(ref.scaleDtype === undefined || ref.scaleDtype === 'float32').toBe(true);
              const { min, max, bits, signed } = DTYPES[dtype];
              const zp0 = scheme === 'symmetric' && !signed ? 1 << (bits - 1) : 0;
              const [lo, hi] = scheme === 'symmetric' ? [zp0 - QMAX_SYM[bits]!, zp0 + QMAX_SYM[bits]!] : [min, max];
              const zps = q.zeroPoint ?? new Int8Array(q.scale.length);
              q.scale.forEach((s, i) => {
                expect(isFloat16Exact(s) && s > 0).toBe(true);
                // minmax chooses the same float32 scale as without rounding, then rounds it.
                if (calibration === 'minmax') expect(s).toBe(roundToFloat16(ref.scale[i]!) || 2 ** -24);
              });
              if (calibration === 'minmax' && scheme === 'asymmetric')
                groupsOf(R, C, kind).forEach((g, i) => {
                  const gmin = Math.min(0, ...g.map((e) => x[e]!));
                  const s = q.scale[i]!;
                  expect(zps[i]).toBe(Math.max(min, Math.min(max, roundHalfEven(Math.fround(min - Math.fround(gmin / s))))));
                });
              // The data is quantizeLinear with the stored (rounded) scales, in the scheme's range.
              const want = quantizeLinear(x, q.scale, zps, { dtype, shape: [R, C], axis: q.axis, blockSize: q.blockSize });
              const wantValues = valuesOf({ ...q, data: want });
              const got = valuesOf(q);
              for (let e = 0; e < got.length; e++)
                if (got[e] !== Math.max(lo, Math.min(hi, wantValues[e]!))) throw new Error(`${JSON.stringify(o)} magnitude ${magnitude}: element ${e} is ${got[e]}, quantizeLinear gives ${wantValues[e]}`);
              checked++;
            }
    expect(checked).toBe(4 * INT_DTYPES.length * 2 * 3 * layouts.length);
  });

  it('a scale below 2^-25 becomes 2^-24 (not 0); subnormal binary16 scales are kept; 65519 rounds to 65504', () => {
    const tiny = quantize(Float32Array.of(1e-12, -1e-12, 5e-13), [3], { dtype: 'int8', scaleDtype: 'float16' });
    expect(tiny.scale[0]).toBe(2 ** -24);
    expect(Array.from(tiny.data)).toEqual([0, 0, 0]);
    const tinyAsym = quantize(Float32Array.of(1e-12, -1e-12), [2], { dtype: 'uint8', scheme: 'asymmetric', scaleDtype: 'float16' });
    expect([tinyAsym.scale[0], tinyAsym.zeroPoint![0]]).toEqual([2 ** -24, 0]);
    // 127 * 2^-25 / 127 is 2^-25 exactly, the tie that rounds to 0 (even): lifted to 2^-24.
    const tie = quantize(Float32Array.of(127 * 2 ** -25, 0), [2], { dtype: 'int8', scaleDtype: 'float16' });
    expect(tie.scale[0]).toBe(2 ** -24);
    for (const s of [3 * 2 ** -24, 2 ** -20, 1023 * 2 ** -24]) {
      const q = quantize(Float32Array.of(127 * s, -64 * s), [2], { dtype: 'int8', scaleDtype: 'float16' });
      expect(q.scale[0]).toBe(s);
      expect(Array.from(q.data)).toEqual([127, -64]);
    }
    // A subnormal scale rounded down by a large relative step: symmetric values still stay in [-127, 127].
    const coarse = quantize(Float32Array.of(127 * 1.4 * 2 ** -24, -127 * 1.4 * 2 ** -24), [2], { dtype: 'int8', scaleDtype: 'float16' });
    expect(coarse.scale[0]).toBe(2 ** -24);
    expect(Array.from(coarse.data)).toEqual([127, -127]);
    expect(quantize(Float32Array.of(65519 * 127), [1], { dtype: 'int8', scaleDtype: 'float16' }).scale[0]).toBe(65504);
  });

  it('a scale from 65520 on cannot be stored: RangeError naming the block and the value', () => {
    const x = gaussian(96);
    x[70] = 1e7;
    expect(() => quantize(x, [1, 96], { dtype: 'int8', blockSize: 32, scaleDtype: 'float16' })).toThrow(RangeError);
    expect(() => quantize(x, [1, 96], { dtype: 'int8', blockSize: 32, scaleDtype: 'float16' })).toThrow(/quantize: the scale of block 2 is 78740\.15\d*, beyond the largest binary16 value 65504/);
    expect(() => quantize(Float32Array.of(65520 * 127), [1], { dtype: 'int8', scaleDtype: 'float16' })).toThrow(/block 0 is 65520/);
    expect(() => quantize(Float32Array.of(0, 1e6), [2], { dtype: 'nf4', scaleDtype: 'float16' })).toThrow(/block 0 is 1000000/);
    expect(quantize(x, [1, 96], { dtype: 'int8', blockSize: 32 }).scale[2]).toBe(Math.fround(1e7 / 127)); // fine as float32
  });

  it('nf4: absmax rounded to binary16, indices from the rounded absmax (clamped at ±1), dequantize = code * absmax', () => {
    const x = gaussian(4 * 64, 0.37).map((v) => Math.max(-0.9, Math.min(0.9, v)));
    x[5] = 1.0001; x[70] = -1.0001; // absmax of blocks 0 and 1 rounds down to 1
    for (const blockSize of [64, 5]) {
      const q = quantize(x, [4, 64], { dtype: 'nf4', blockSize, scaleDtype: 'float16' });
      const ref = quantize(x, [4, 64], { dtype: 'nf4', blockSize });
      expect(q.scaleDtype).toBe('float16');
      q.scale.forEach((s, i) => expect(s).toBe(roundToFloat16(ref.scale[i]!)));
      const idx = valuesOf(q), y = dequantize(q), nb = Math.ceil(64 / blockSize);
      for (let e = 0; e < x.length; e++) {
        const a = q.scale[Math.floor(e / 64) * nb + Math.floor((e % 64) / blockSize)]!;
        expect(idx[e]).toBe(a > 0 ? nf4Index(Math.fround(x[e]! / a)) : 7);
        expect(y[e]).toBe(nf4Value(idx[e]!, a));
      }
      if (blockSize === 64) expect([q.scale[0], q.scale[1], idx[5], idx[70]]).toEqual([1, 1, 15, 0]);
    }
    const zeros = quantize(new Float32Array(8), [8], { dtype: 'nf4', scaleDtype: 'float16' });
    expect(Array.from(dequantize(zeros))).toEqual(new Array(8).fill(0));
    expect(() => quantize(x, [4, 64], { dtype: 'nf4', doubleQuant: true, scaleDtype: 'float16' })).toThrow(/opts.scaleDtype 'float16' cannot be combined with opts.doubleQuant/);
  });

  it("bitsPerWeight counts 16 bits per scale: int4 in blocks of 32 is 4.5 bits (ggml's Q4_0)", () => {
    const x = gaussian(8 * 64);
    expect(bitsPerWeight(quantize(x, [8, 64], { dtype: 'int4', blockSize: 32, scaleDtype: 'float16' }))).toBe(4.5);
    expect(bitsPerWeight(quantize(x, [8, 64], { dtype: 'int4', blockSize: 32 }))).toBe(5);
    expect(bitsPerWeight(quantize(x, [8, 64], { dtype: 'int4', blockSize: 32, scheme: 'asymmetric', scaleDtype: 'float16' }))).toBe(4 + 20 / 32);
    expect(bitsPerWeight(quantize(x, [8, 64], { dtype: 'nf4', scaleDtype: 'float16' }))).toBe(4.25);
  });

  it('survives structuredClone; float32 stays the default and omits the field', () => {
    const x = gaussian(4 * 40);
    const q = quantize(x, [4, 40], { dtype: 'uint4', scheme: 'asymmetric', blockSize: 16, scaleDtype: 'float16' });
    const c = structuredClone(q);
    expect(c.scaleDtype).toBe('float16');
    expect(Array.from(dequantize(c))).toEqual(Array.from(dequantize(q)));
    const d = quantize(x, [4, 40], { dtype: 'uint4', scheme: 'asymmetric', blockSize: 16 });
    expect('scaleDtype' in d).toBe(false);
    const e = quantize(x, [4, 40], { dtype: 'uint4', scheme: 'asymmetric', blockSize: 16, scaleDtype: 'float32' });
    expect(Array.from(e.scale)).toEqual(Array.from(d.scale));
    expect(Array.from(e.data)).toEqual(Array.from(d.data));
  });
});

describe('scaleDtype: bad input names the argument', () => {
  const q16 = quantize(Float32Array.of(1, 2, 3, 4), [2, 2], { dtype: 'int8', axis: 0, scaleDtype: 'float16' });
  test.each([
    ['bad opts.scaleDtype', () => quantize(new Float32Array(2), [2], { dtype: 'int8', scaleDtype: 'bf16' as never }), TypeError, /quantize: opts.scaleDtype must be 'float32' or 'float16', got "bf16"/],
    ['bad q.scaleDtype', () => dequantize({ ...q16, scaleDtype: 'half' as never }), TypeError, /dequantize: q.scaleDtype must be absent, 'float32' or 'float16', got "half"/],
    ['a scale binary16 cannot hold', () => dequantize({ ...q16, scale: Float32Array.of(0.5, 0.1) }), RangeError, /q.scale\[1\] must be exactly representable in binary16 \(q.scaleDtype is 'float16'\), got 0.10000000149011612/],
    ['a scale above 65504', () => dequantize({ ...q16, scale: Float32Array.of(65536, 1) }), RangeError, /q.scale\[0\] must be exactly representable in binary16.*got 65536/],
    ['float16 with scaleQuant', () => dequantize({ ...quantize(new Float32Array(8), [8], { dtype: 'nf4', doubleQuant: true }), scaleDtype: 'float16' }), RangeError, /q.scaleDtype 'float16' cannot be combined with q.scaleQuant/],
  ])('%s', (_n, call, ErrorClass, message) => {
    expect(call).toThrow(ErrorClass);
    expect(call).toThrow(message);
  });
  test('the same scales pass as float32 or absent', () => {
    expect(dequantize({ ...q16, scale: Float32Array.of(0.5, 0.1), scaleDtype: 'float32' }).length).toBe(4);
    expect(dequantize({ ...q16, scale: Float32Array.of(0.5, 0.1), scaleDtype: undefined }).length).toBe(4);
  });
});
