/** Seeded random numbers for tests: a fresh seed per run, printed, replayable with LOWBIT_SEED. */
export function makeRng(label: string): { seed: number; next: () => number; int: (lo: number, hi: number) => number } {
  const seed = process.env.LOWBIT_SEED ? Number(process.env.LOWBIT_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
  // eslint-disable-next-line no-console
  console.log(`${label}: seed ${seed} (replay with LOWBIT_SEED=${seed})`);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  return { seed, next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

export type Fill = 'random' | 'extreme' | 'zero' | 'constant' | 'alternating';
export const FILLS: readonly Fill[] = ['random', 'extreme', 'zero', 'constant', 'alternating'];

/** An 8-bit typed array of `n` values of the given pattern; `extreme` is -128 or 255. */
export function fill8(signed: boolean, n: number, pattern: Fill, int: (lo: number, hi: number) => number): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  const lo = signed ? -128 : 0, hi = signed ? 127 : 255;
  const ext = signed ? -128 : 255, other = signed ? 127 : 0;
  const c = int(lo, hi);
  for (let i = 0; i < n; i++) {
    out[i] = pattern === 'random' ? int(lo, hi) : pattern === 'extreme' ? ext : pattern === 'zero' ? 0 : pattern === 'constant' ? c : (i & 1 ? ext : other);
  }
  return out;
}
