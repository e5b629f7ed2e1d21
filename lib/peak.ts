/**
 * Peak loops: the most multiply-adds per second one core reaches with one instruction
 * sequence, in registers only (no memory traffic). A kernel's GOPS divided by the peak of the
 * sequence it is built on is its fraction of peak (the bench prints it). Native addon only:
 * the TS fallback has no instructions of its own to time.
 */
import { activeNative } from './backend';
import { describe, rangeError, typeError } from './errors';
import { loaded, type NativeBinding } from './native';

/**
 * Every kind lowbit knows (each build lists those of its architecture): the ISA, then the
 * instructions of one step of one accumulator chain.
 */
export const PEAK_KINDS = [
  'avx2-vfmadd231ps',
  'avx512f-vfmadd231ps',
  'avx2-vpmaddubsw-vpmaddwd-vpaddd',
  'avx2-vpsignb-vpmaddubsw-vpmaddwd-vpaddd',
  'avx2-2vpmaddubsw-vpaddw-vpmaddwd-vpaddd',
  'avxvnni-vpdpbusd',
  'avx512vnni-vpdpbusd',
  'amx-tdpbusd',
  'neon-fmla',
  'neon-smlal',
  'neon-dotprod-sdot',
  'neon-i8mm-smmla',
] as const;
export type PeakKind = (typeof PEAK_KINDS)[number];

export interface MeasurePeakOptions {
  /** Seconds to spend, in [0, 60] (default 0.2): repetitions of about a tenth of it, the best counts. */
  minSeconds?: number;
}

function isPeakKind(v: unknown): v is PeakKind {
  return typeof v === 'string' && (PEAK_KINDS as readonly string[]).includes(v);
}

function needNative(fn: string): NativeBinding {
  const n = activeNative();
  if (!n) {
    const why = loaded.binding
      ? "the TS backend is selected (setBackend('native') to use the addon)"
      : `the addon did not load (${loaded.error}); fix: npm rebuild lowbit`;
    throw new Error(`${fn}: peak loops need the native addon (they time CPU instructions); ${why}`);
  }
  // The ABI version did not change with these two functions, so an older build may lack them.
  if (typeof n.measurePeak !== 'function' || typeof n.peakKinds !== 'function')
    throw new Error(`${fn}: the native addon predates peak loops (a stale build); fix: npm rebuild lowbit`);
  return n;
}

/** The kinds usable on this CPU and OS, in the library's order (floats first). */
export function peakKinds(): PeakKind[] {
  return needNative('peakKinds').peakKinds().filter(isPeakKind);
}

/**
 * Times one kind on the calling thread (blocking for about opts.minSeconds) and returns its
 * best rate in operations per second, 2 per multiply-add (divide by 1e9 for GOPS / GFLOPS).
 */
export function measurePeak(kind: PeakKind, opts: MeasurePeakOptions = {}): number {
  if (typeof kind !== 'string') throw typeError('measurePeak', 'kind', 'a peak kind name (string)', kind);
  if (!isPeakKind(kind))
    throw rangeError('measurePeak', `kind must be one of ${PEAK_KINDS.join(', ')}; got ${describe(kind)}`);
  if (opts === null || typeof opts !== 'object') throw typeError('measurePeak', 'opts', 'an object', opts);
  const minSeconds = opts.minSeconds ?? 0.2;
  if (typeof minSeconds !== 'number' || !(minSeconds >= 0 && minSeconds <= 60))
    throw rangeError('measurePeak', `opts.minSeconds must be a number in [0, 60], got ${describe(minSeconds)}`);
  const native = needNative('measurePeak');
  const usable = native.peakKinds();
  if (!usable.includes(kind))
    throw rangeError('measurePeak', `kind ${describe(kind)} is not usable on this CPU; usable: ${usable.join(', ') || 'none'}`);
  return native.measurePeak(kind, minSeconds);
}
