/**
 * matmulInteger parity: every backend and every ISA this CPU has, against an independent
 * BigInt reference and against each other, bit for bit. ISAs the CPU lacks are skipped with
 * the reason printed.
 */
import { matmulInteger, setBackend, setIsa } from '../lib';
import { loaded } from '../lib/native';
import { FILLS, fill8, makeRng } from './helpers/random';
import { matmulIntegerBigInt } from './helpers/reference';
import { describeTargets, usableIsas as usable, useTarget } from './helpers/targets';

const rng = makeRng('matmul_integer.test');

describeTargets('matmulInteger', (it) => {
  it('matches the BigInt reference: random shapes, all dtype pairs, zero-point kinds, value patterns', () => {
    for (let iter = 0; iter < 60; iter++) {
      const M = rng.int(1, 9), N = rng.int(1, 19), K = rng.int(1, 150);
      const aSigned = rng.next() < 0.5, bSigned = rng.next() < 0.5;
      const pa = FILLS[rng.int(0, FILLS.length - 1)]!, pb = FILLS[rng.int(0, FILLS.length - 1)]!;
      const a = fill8(aSigned, M * K, pa, rng.int), b = fill8(bSigned, K * N, pb, rng.int);
      const zpKind = rng.int(0, 3); // none, scalar number, per-row/col typed array, number[]
      const za = zpKind === 0 ? null : zpKind === 1 ? fill8(aSigned, 1, 'random', rng.int) : fill8(aSigned, M, pa, rng.int);
      const zb = zpKind === 0 ? null : zpKind === 1 ? fill8(bSigned, 1, 'random', rng.int) : fill8(bSigned, N, pb, rng.int);
      const zaArg = za === null ? undefined : zpKind === 1 ? za[0]! : zpKind === 3 ? Array.from(za) : za;
      const zbArg = zb === null ? undefined : zpKind === 1 ? zb[0]! : zpKind === 3 ? Array.from(zb) : zb;
      const got = matmulInteger(a, [M, K], b, [K, N], zaArg, zbArg);
      const want = matmulIntegerBigInt(a, b, M, N, K, za, zb);
      expect({ M, N, K, aSigned, bSigned, pa, pb, zpKind, got: Array.from(got) }).toEqual({ M, N, K, aSigned, bSigned, pa, pb, zpKind, got: Array.from(want) });
    }
  });

  it('is exact where onnxruntime\'s AVX2 kernel saturates: 255 * -128 * 2 + 15 = -65265', () => {
    const y = matmulInteger(new Uint8Array([255, 255, 1]), [1, 3], new Int8Array([-128, -128, 15]), [3, 1]);
    expect(Array.from(y)).toEqual([-65265]);
    // All-extreme operands with the zero points that maximise every product: (0-255)*(-128-127).
    const K = 333;
    const z = matmulInteger(new Uint8Array(2 * K).fill(0), [2, K], new Int8Array(K * 3).fill(-128), [K, 3], 255, 127);
    expect(Array.from(z)).toEqual(new Array(6).fill(K * 255 * 255));
  });

  it('wraps modulo 2^32 exactly when K is large (K = 70001, every product 255 * 255)', () => {
    const K = 70001;
    const y = matmulInteger(new Int8Array(K).fill(127), [1, K], new Uint8Array(K * 2).fill(255), [K, 2], -128, 0);
    const want = Number(BigInt.asIntN(32, BigInt(K) * 255n * 255n));
    expect(Array.from(y)).toEqual([want, want]);
    expect(want).not.toBe(K * 255 * 255); // it did wrap
  });

  it('accepts zero-sized dimensions and returns empty or all-zero results', () => {
    expect(matmulInteger(new Uint8Array(0), [0, 5], new Int8Array(15), [5, 3]).length).toBe(0);
    expect(matmulInteger(new Uint8Array(10), [2, 5], new Int8Array(0), [5, 0]).length).toBe(0);
    expect(Array.from(matmulInteger(new Uint8Array(0), [2, 0], new Int8Array(0), [0, 3], 7, [1, 2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('broadcasts batch dimensions and handles 1-D operands like numpy', () => {
    const a = fill8(false, 2 * 3 * 4 * 5, 'random', rng.int), b = fill8(true, 3 * 5 * 2, 'random', rng.int);
    const y = matmulInteger(a, [2, 3, 4, 5], b, [3, 5, 2], [1, 2, 3, 4], 5); // per-row a zero point
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const ai = a.subarray((i * 3 + j) * 20, (i * 3 + j + 1) * 20), bi = b.subarray(j * 10, (j + 1) * 10);
        expect(Array.from(y.subarray((i * 3 + j) * 8, (i * 3 + j + 1) * 8))).toEqual(Array.from(matmulIntegerBigInt(ai, bi, 4, 2, 5, [1, 2, 3, 4], [5])));
      }
    // A shared 2-D B under a batched A, with per-row zero points repeated per batch.
    const y2 = matmulInteger(a, [6, 4, 5], b.subarray(0, 10), [5, 2], [1, 2, 3, 4]);
    for (let i = 0; i < 6; i++)
      expect(Array.from(y2.subarray(i * 8, (i + 1) * 8))).toEqual(Array.from(matmulIntegerBigInt(a.subarray(i * 20, (i + 1) * 20), b.subarray(0, 10), 4, 2, 5, [1, 2, 3, 4], null)));
    // 1-D A (a row vector) and 1-D B (a column vector).
    const v = fill8(true, 5, 'random', rng.int);
    expect(Array.from(matmulInteger(v, [5], b.subarray(0, 10), [5, 2]))).toEqual(Array.from(matmulIntegerBigInt(v, b.subarray(0, 10), 1, 2, 5, null, null)));
    expect(Array.from(matmulInteger(a.subarray(0, 20), [4, 5], v, [5]))).toEqual(Array.from(matmulIntegerBigInt(a.subarray(0, 20), v, 4, 1, 5, null, null)));
  });

  it('writes into opts.out and returns it, leaving the values past the result and the error cases untouched', () => {
    const M = 5, N = 11, K = 37;
    const a = fill8(false, M * K, 'random', rng.int), b = fill8(true, K * N, 'random', rng.int);
    const want = matmulInteger(a, [M, K], b, [K, N], 3, -7);
    const buf = new Int32Array(M * N + 9).fill(-12345);
    const out = buf.subarray(1);  // a view at an offset
    expect(matmulInteger(a, [M, K], b, [K, N], 3, -7, { out })).toBe(out);
    expect(Array.from(out.subarray(0, M * N))).toEqual(Array.from(want));
    expect(buf[0]).toBe(-12345);
    expect(Array.from(out.subarray(M * N))).toEqual(new Array(8).fill(-12345));
    // Batched, into a second buffer; a bad zero point writes nothing.
    const y = new Int32Array(2 * M * N);
    matmulInteger(new Uint8Array([...a, ...a]), [2, M, K], b, [K, N], 3, -7, { out: y });
    expect(Array.from(y.subarray(0, M * N))).toEqual(Array.from(want));
    expect(Array.from(y.subarray(M * N))).toEqual(Array.from(want));
    const z = new Int32Array(M * N).fill(9);
    expect(() => matmulInteger(a, [M, K], b, [K, N], 300, 0, { out: z })).toThrow(RangeError);
    expect(Array.from(z)).toEqual(new Array(M * N).fill(9));
    // Zero-sized results return the caller's buffer as it was.
    expect(matmulInteger(new Uint8Array(0), [0, K], b, [K, N], null, null, { out: z })).toBe(z);
  });

  it('gives the same result for every opts.threads (up to 8 rows, K x N from 9, B packed beyond)', () => {
    for (const [M, N, K] of [[5, 300, 700], [40, 300, 700], [200, 70, 300]] as const) {
      const a = fill8(false, M * K, 'random', rng.int), b = fill8(true, K * N, 'random', rng.int);
      const want = matmulIntegerBigInt(a, b, M, N, K, [3], [-7]);
      for (const threads of [1, 2, 3]) {
        const got = matmulInteger(a, [M, K], b, [K, N], 3, -7, { threads });
        expect({ M, N, K, threads, equal: Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.buffer)) === 0 }).toEqual({ M, N, K, threads, equal: true });
      }
    }
  });

  it('reads unaligned views and SharedArrayBuffer-backed arrays', () => {
    const M = 7, N = 13, K = 67;
    const sab = new SharedArrayBuffer(M * K + N * K + 8);
    const a = new Uint8Array(sab, 3, M * K);
    const b = new Int8Array(sab, 3 + M * K + 2, K * N);
    a.set(fill8(false, M * K, 'random', rng.int));
    b.set(fill8(true, K * N, 'random', rng.int));
    expect(Array.from(matmulInteger(a, [M, K], b, [K, N], 128, -3))).toEqual(Array.from(matmulIntegerBigInt(a, b, M, N, K, [128], [-3])));
  });
});

describe('native ISAs against the TS fallback', () => {
  const it = loaded.binding ? test : test.skip;
  let restore: () => void = () => {};
  beforeAll(() => { if (loaded.binding) restore = useTarget({ backend: 'native', isa: usable[usable.length - 1]!, skip: null }); });
  afterAll(() => restore());
  it('every usable ISA equals the TS fallback bit for bit on larger odd shapes', () => {
    // 12 and 16 rows: the byte kernels in two passes over B on AVX-512 (more rows pack B).
    const shapes: [number, number, number][] = [[1, 257, 300], [12, 70, 300], [16, 129, 65], [33, 65, 129], [64, 64, 64], [17, 3, 1000], [100, 31, 77]];
    for (const [M, N, K] of shapes) {
      for (const [aSigned, bSigned] of [[false, true], [true, true], [false, false], [true, false]] as const) {
        const a = fill8(aSigned, M * K, 'random', rng.int), b = fill8(bSigned, K * N, 'random', rng.int);
        const za = fill8(aSigned, M, 'random', rng.int), zb = fill8(bSigned, N, 'random', rng.int);
        setBackend('ts');
        const want = matmulInteger(a, [M, K], b, [K, N], za, zb);
        setBackend('native');
        for (const isa of usable) {
          setIsa(isa);
          const got = matmulInteger(a, [M, K], b, [K, N], za, zb);
          expect({ isa, M, N, K, aSigned, bSigned, equal: Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.buffer)) === 0 }).toEqual({ isa, M, N, K, aSigned, bSigned, equal: true });
        }
      }
    }
  });
});
