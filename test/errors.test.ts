/** Bad input (SPEC §6): a TypeError or RangeError that names the argument, on every backend. */
import { getBackend, matmulInteger, setBackend, setIsa } from '../lib';
import { loaded } from '../lib/native';

const backends = loaded.binding ? (['native', 'ts'] as const) : (['ts'] as const);
const initial = getBackend();
afterAll(() => setBackend(initial));

describe.each(backends)('matmulInteger bad input (%s backend)', (backend) => {
  beforeEach(() => setBackend(backend));
  const a = new Uint8Array(6), b = new Int8Array(6);

  test.each([
    ['a is not an 8-bit typed array', () => matmulInteger(new Float32Array(6) as never, [2, 3], b, [3, 2]), TypeError, /matmulInteger: a must be an Int8Array or Uint8Array, got Float32Array\(6\)/],
    ['a is a Uint8ClampedArray', () => matmulInteger(new Uint8ClampedArray(6) as never, [2, 3], b, [3, 2]), TypeError, /\ba must be/],
    ['b is a plain array', () => matmulInteger(a, [2, 3], [1, 2, 3, 4, 5, 6] as never, [3, 2]), TypeError, /\bb must be an Int8Array or Uint8Array, got Array\(6\)/],
    ['aShape is not an array', () => matmulInteger(a, 'x' as never, b, [3, 2]), TypeError, /aShape must be an array/],
    ['a negative dimension', () => matmulInteger(a, [2, -3], b, [3, 2]), RangeError, /aShape\[1\] must be a non-negative integer, got -3/],
    ['a fractional dimension', () => matmulInteger(a, [2, 3], b, [1.5, 2]), RangeError, /bShape\[0\] must be a non-negative integer, got 1.5/],
    ['an empty shape', () => matmulInteger(a, [], b, [3, 2]), RangeError, /aShape must have at least 1 dimension/],
    ['aShape does not match a', () => matmulInteger(a, [2, 4], b, [4, 2]), RangeError, /aShape \[2, 4\] holds 8 elements but a has 6/],
    ['bShape does not match b', () => matmulInteger(a, [2, 3], b, [3, 3]), RangeError, /bShape \[3, 3\] holds 9 elements but b has 6/],
    ['inner dimensions differ', () => matmulInteger(a, [3, 2], b, [3, 2]), RangeError, /inner dimensions differ: aShape \[3, 2\] has K = 2 but bShape \[3, 2\] has K = 3/],
    ['batches do not broadcast', () => matmulInteger(new Uint8Array(12), [2, 2, 3], new Int8Array(18), [3, 3, 2]), RangeError, /batch dimensions do not broadcast/],
    ['zero point out of range', () => matmulInteger(a, [2, 3], b, [3, 2], 256), RangeError, /aZeroPoint\[0\] must be an integer in the uint8 range \[0, 255\], got 256/],
    ['zero point not an integer', () => matmulInteger(a, [2, 3], b, [3, 2], 0, 0.5), RangeError, /bZeroPoint\[0\] must be an integer in the int8 range \[-128, 127\], got 0.5/],
    ['zero point count', () => matmulInteger(a, [2, 3], b, [3, 2], [1, 2, 3]), RangeError, /aZeroPoint must hold 1 value or 2 \(one per row of a\), got 3/],
    ['zero point class differs from its tensor', () => matmulInteger(a, [2, 3], b, [3, 2], new Int8Array([1])), TypeError, /aZeroPoint must be an Uint8Array like its tensor \(dtype uint8\)/],
    ['zero point of a wrong kind', () => matmulInteger(a, [2, 3], b, [3, 2], undefined, 'x' as never), TypeError, /bZeroPoint must be a number/],
    ['opts.out too short', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, { out: new Int32Array(3) }), TypeError, /opts\.out must be an Int32Array of at least 4 values \(2 x 2\), got Int32Array\(3\)/],
    ['opts.out of the wrong class', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, { out: new Float32Array(4) as never }), TypeError, /opts\.out must be an Int32Array/],
    ['opts.out sharing b\'s memory', () => { const buf = new ArrayBuffer(32); return matmulInteger(a, [2, 3], new Int8Array(buf, 10, 6), [3, 2], null, null, { out: new Int32Array(buf, 0, 4) }); }, RangeError, /opts\.out must not share memory with b/],
    ['opts not an object', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, 7 as never), TypeError, /opts must be an object, got 7/],
    ['opts.threads zero', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, { threads: 0 }), RangeError, /opts\.threads must be an integer in \[1, 1024\], got 0/],
    ['opts.threads fractional', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, { threads: 1.5 }), RangeError, /opts\.threads must be an integer in \[1, 1024\], got 1\.5/],
    ['opts.threads too many', () => matmulInteger(a, [2, 3], b, [3, 2], null, null, { threads: 1025 }), RangeError, /opts\.threads must be an integer in \[1, 1024\], got 1025/],
  ])('%s', (_name, call, ErrorClass, message) => {
    expect(call).toThrow(ErrorClass);
    expect(call).toThrow(message);
  });
});

describe('backend and ISA selection errors', () => {
  test('setIsa refuses an unknown or unusable ISA with a RangeError listing the usable ones', () => {
    expect(() => setIsa('avx9000')).toThrow(RangeError);
    expect(() => setIsa('avx9000')).toThrow(/setIsa: ISA "avx9000" is not usable on this CPU.*usable: scalar/);
    expect(() => setIsa(42 as never)).toThrow(TypeError);
  });
  test('setBackend refuses an unknown backend', () => {
    expect(() => setBackend('gpu' as never)).toThrow(/setBackend: name must be 'native' or 'ts', got "gpu"/);
  });
  test('the native binding itself rejects malformed calls instead of crashing', () => {
    const native = loaded.binding;
    if (!native) return console.log('SKIP binding checks: the native addon did not load');
    const out = new Int32Array(4);
    // Errors made by the addon come from Node's realm, not jest's sandbox: compare by name.
    const errorName = (f: () => void): string => { try { f(); } catch (e) { return (e as Error).name; } return 'no error'; };
    expect(() => native.matmulInteger(new Uint8Array(3), new Int8Array(6), false, 2, 2, 3, null, null, out, 0)).toThrow(/a holds fewer than M\*K/);
    expect(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, null, null, new Int32Array(3), 0)).toThrow(/out holds fewer than M\*N/);
    expect(errorName(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, -1, 3, null, null, out, 0))).toBe('RangeError');
    expect(errorName(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2 ** 40, 2 ** 40, 2 ** 40, null, null, out, 0))).toBe('RangeError');
    expect(errorName(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, new Int8Array(1), null, out, 0))).toBe('TypeError');
    expect(errorName(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, null, null, new Float32Array(4) as never, 0))).toBe('TypeError');
    expect(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, null, null, out, 1025)).toThrow(/matmulInteger/);
    expect(errorName(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, null, null, out, -1))).toBe('RangeError');
    expect(() => native.matmulInteger(new Uint8Array(6), new Int8Array(6), false, 2, 2, 3, null, null, out)).toThrow(/expected 10 arguments/);
  });
});
