/** Backend (native addon or TS fallback) and ISA selection, and cpuInfo(). */
import { describe, rangeError, typeError } from './errors';
import { loaded, type NativeBinding } from './native';

export type BackendName = 'native' | 'ts';

export interface CpuInfo {
  /** 'x86_64', 'aarch64', or Node's process.arch when the addon is not loaded. */
  arch: string;
  /** CPU features lowbit looks for on this architecture, each usable (true) or not. */
  features: Record<string, boolean>;
  /** The ISA in use: one of `isas`. 'scalar' on the TS backend. */
  isa: string;
  /** Every ISA usable on this CPU and OS, best last. */
  isas: string[];
  /** Threads the native backend uses for large operations (setThreads); 1 on the TS backend. */
  threads: number;
  backend: BackendName;
}

let backend: BackendName = loaded.binding ? 'native' : 'ts';

/** The addon when the native backend is in use, otherwise null (use the TS fallback). */
export function activeNative(): NativeBinding | null {
  return backend === 'native' ? loaded.binding : null;
}

export function getBackend(): BackendName {
  return backend;
}

/** Switches between the native addon and the TS fallback at run time. */
export function setBackend(name: BackendName): void {
  if (name !== 'native' && name !== 'ts') throw typeError('setBackend', 'name', "'native' or 'ts'", name);
  if (name === 'native' && !loaded.binding)
    throw new Error(`setBackend: the native addon is not loaded (${loaded.error}); fix: npm rebuild lowbit`);
  backend = name;
}

export function cpuInfo(): CpuInfo {
  if (!loaded.binding) return { arch: process.arch, features: {}, isa: 'scalar', isas: ['scalar'], threads: 1, backend };
  const info = loaded.binding.cpuInfo();
  return { ...info, isa: backend === 'native' ? info.isa : 'scalar', threads: backend === 'native' ? loaded.binding.threads() : 1, backend };
}

/**
 * Sets the threads the native backend uses for large operations; 0 (or no argument) restores
 * the default, one per hardware thread. Results never depend on it.
 */
export function setThreads(n = 0): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1024)
    throw rangeError('setThreads', `n must be an integer in [0, 1024], got ${describe(n)}`);
  loaded.binding?.threads(n);
}

/** The threads the native backend uses (the hardware threads by default); 1 without the addon. */
export function getThreads(): number {
  return loaded.binding ? loaded.binding.threads() : 1;
}

/** Forces an ISA (a name from cpuInfo().isas); a RangeError names the usable ones. */
export function setIsa(name: string): void {
  if (typeof name !== 'string') throw typeError('setIsa', 'name', 'an ISA name string', name);
  const usable = loaded.binding ? loaded.binding.cpuInfo().isas : ['scalar'];
  if (!usable.includes(name) || (loaded.binding && !loaded.binding.setIsa(name)))
    throw rangeError('setIsa', `ISA ${describe(name)} is not usable on this CPU${loaded.binding ? '' : ' (native addon not loaded)'}; usable: ${usable.join(', ')}`);
}

export function getIsa(): string {
  return cpuInfo().isa;
}

// Environment overrides, applied once at load.
{
  const env = process.env.LOWBIT_BACKEND;
  if (env !== undefined && env !== '' && env !== 'native' && env !== 'ts')
    throw new RangeError(`lowbit: LOWBIT_BACKEND must be 'native' or 'ts', got ${describe(env)}`);
  const threads = process.env.LOWBIT_THREADS;
  if (threads) {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 0 || n > 1024) throw new RangeError(`lowbit: LOWBIT_THREADS must be an integer in [0, 1024], got ${describe(threads)}`);
    setThreads(n);
  }
  const isa = process.env.LOWBIT_ISA;
  if (isa) {
    try {
      setIsa(isa);
    } catch (e) {
      throw new RangeError(`lowbit: LOWBIT_ISA: ${(e as Error).message}`);
    }
  }
}
