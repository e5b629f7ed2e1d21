/**
 * Peak loops: every kind this CPU has runs briefly and gives a positive finite rate (no speed
 * is asserted: the machine may be shared); bad arguments are errors that name the argument;
 * the TS backend has no peaks to measure.
 */
import { getBackend, measurePeak, PEAK_KINDS, peakKinds, setBackend, type PeakKind } from '../lib';
import { loaded } from '../lib/native';

const nativeOnly = loaded.binding ? test : test.skip;
if (!loaded.binding) console.log(`SKIP peak loops: the native addon did not load (${loaded.error})`);
const initial = getBackend();
afterEach(() => setBackend(initial));

nativeOnly('every usable kind runs and gives a positive finite rate', () => {
  const kinds = peakKinds();
  expect(kinds.length).toBeGreaterThan(0);
  for (const kind of kinds) {
    expect(PEAK_KINDS).toContain(kind);
    const ops = measurePeak(kind, { minSeconds: 0.01 });
    expect(Number.isFinite(ops)).toBe(true);
    expect(ops).toBeGreaterThan(0);
  }
  // The default time, once.
  expect(measurePeak(kinds[0]!)).toBeGreaterThan(0);
});

nativeOnly('a kind this CPU lacks is a RangeError that lists the usable ones', () => {
  const usable = peakKinds();
  const missing = PEAK_KINDS.filter((k) => !usable.includes(k));
  for (const kind of missing) expect(() => measurePeak(kind, { minSeconds: 0 })).toThrow(new RegExp(`measurePeak: kind "${kind}" is not usable on this CPU; usable: ${usable[0]}`));
});

test.each([
  ['an unknown kind', () => measurePeak('avx9000-vfoo' as PeakKind), RangeError, /measurePeak: kind must be one of avx2-vfmadd231ps, .*; got "avx9000-vfoo"/],
  ['a kind that is not a string', () => measurePeak(3 as unknown as PeakKind), TypeError, /measurePeak: kind must be a peak kind name \(string\), got 3/],
  ['opts that is not an object', () => measurePeak('neon-fmla', 1 as never), TypeError, /measurePeak: opts must be an object, got 1/],
  ['a negative minSeconds', () => measurePeak('neon-fmla', { minSeconds: -1 }), RangeError, /measurePeak: opts.minSeconds must be a number in \[0, 60\], got -1/],
  ['a NaN minSeconds', () => measurePeak('neon-fmla', { minSeconds: NaN }), RangeError, /opts.minSeconds must be a number in \[0, 60\], got NaN/],
  ['a minSeconds above 60', () => measurePeak('neon-fmla', { minSeconds: 61 }), RangeError, /opts.minSeconds must be a number in \[0, 60\], got 61/],
])('%s', (_name, call, ErrorClass, message) => {
  expect(call).toThrow(ErrorClass);
  expect(call).toThrow(message);
});

test('the TS backend has no peaks: a clear Error', () => {
  setBackend('ts');
  expect(() => peakKinds()).toThrow(/peakKinds: peak loops need the native addon/);
  expect(() => measurePeak('avx2-vfmadd231ps', { minSeconds: 0 })).toThrow(/measurePeak: peak loops need the native addon/);
});
