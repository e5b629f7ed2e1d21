/** Sub-byte packing (ONNX low-nibble-first convention) and errorStats. */
import { errorStats, packInt2, packInt4, packUint2, packUint4, unpackInt2, unpackInt4, unpackUint2, unpackUint4 } from '../lib';
import { makeRng } from './helpers/random';

const rng = makeRng('pack_stats.test');

describe('pack / unpack', () => {
  test('int4: element 2j in bits 0-3, 2j+1 in bits 4-7, odd tail padded with zero bits', () => {
    expect(Array.from(packInt4([1, -1, -8, 7, 3]))).toEqual([0xf1, 0x78, 0x03]);
    expect(Array.from(unpackInt4(Uint8Array.of(0xf1, 0x78, 0x03), 5))).toEqual([1, -1, -8, 7, 3]);
  });
  test('int2 / uint2: four per byte, lowest index in the lowest bits', () => {
    expect(Array.from(packUint2([0, 1, 2, 3, 3]))).toEqual([0b11100100, 0b11]);
    expect(Array.from(packInt2([-2, -1, 0, 1]))).toEqual([0b01001110]);
    expect(Array.from(unpackInt2(Uint8Array.of(0b01001110), 4))).toEqual([-2, -1, 0, 1]);
  });
  test.each([
    ['int4', packInt4, unpackInt4, -8, 7], ['uint4', packUint4, unpackUint4, 0, 15],
    ['int2', packInt2, unpackInt2, -2, 1], ['uint2', packUint2, unpackUint2, 0, 3],
  ] as const)('%s round-trips random values of every length 0..40', (_d, pack, unpack, lo, hi) => {
    for (let n = 0; n <= 40; n++) {
      const v = Array.from({ length: n }, () => rng.int(lo, hi));
      expect(Array.from(unpack(pack(v), n))).toEqual(v);
    }
  });
  test('out-of-range and non-integer values are RangeErrors naming the index', () => {
    expect(() => packInt4([0, 8])).toThrow(/packInt4: values\[1\] must be an integer in the int4 range \[-8, 7\], got 8/);
    expect(() => packUint2([0.5])).toThrow(RangeError);
    expect(() => packInt4('ab' as never)).toThrow(TypeError);
    expect(() => unpackInt4(new Uint8Array(1), 3)).toThrow(/unpackInt4: bytes has 1 bytes but 3 int4 values take 2/);
    expect(() => unpackUint4(new Uint8Array(1), -1)).toThrow(/count must be a non-negative integer/);
  });
});

describe('errorStats', () => {
  test('known values', () => {
    const s = errorStats([1, 2, 3, 4], [1, 2, 3, 5]);
    expect(s.mse).toBeCloseTo(0.25, 12);
    expect(s.rmse).toBeCloseTo(0.5, 12);
    expect(s.maxAbs).toBe(1);
    expect(s.sqnrDb).toBeCloseTo(10 * Math.log10(30 / 1), 10);
    expect(s.cosine).toBeCloseTo(34 / Math.sqrt(30 * 39), 12);
  });
  test('exact copy: zero error, infinite SQNR, cosine 1', () => {
    const x = Float32Array.from([0.5, -2, 3]);
    expect(errorStats(x, x)).toEqual({ mse: 0, rmse: 0, maxAbs: 0, sqnrDb: Infinity, cosine: 1 });
  });
  test('bad input', () => {
    expect(() => errorStats([1, 2], [1])).toThrow(/errorStats: ref has 2 values but approx has 1/);
    expect(() => errorStats('x' as never, [1])).toThrow(TypeError);
  });
});
