/**
 * The backends and ISAs a parity suite runs on: the TS fallback, then every ISA this build
 * knows (those the CPU lacks are skipped with the reason printed).
 */
import { cpuInfo, getBackend, setBackend, setIsa } from '../../lib';
import { loaded } from '../../lib/native';

export interface Target { backend: 'native' | 'ts'; isa: string; skip: string | null }

export const usableIsas: readonly string[] = cpuInfo().isas;

export function targets(): Target[] {
  const list: Target[] = [{ backend: 'ts', isa: 'scalar', skip: null }];
  if (!loaded.binding) list.push({ backend: 'native', isa: '(any)', skip: `the native addon did not load: ${loaded.error}` });
  else for (const isa of loaded.binding.isaNames)
    list.push({ backend: 'native', isa, skip: usableIsas.includes(isa) ? null : `this CPU/OS lacks ${isa} (usable: ${usableIsas.join(', ')})` });
  return list;
}

/** Selects a target; returns a function that restores the defaults. */
export function useTarget(t: Target): () => void {
  const backend = getBackend(), isa = cpuInfo().isa;
  setBackend(t.backend);
  if (t.backend === 'native') setIsa(t.isa);
  return () => { setBackend(backend); if (loaded.binding && backend === 'native') setIsa(isa); };
}

/** describe.each over targets(), with `it` skipping (and saying why) where the target is unusable. */
export function describeTargets(title: string, body: (it: jest.It, t: Target) => void): void {
  describe.each(targets())(`${title} on $backend / $isa`, (t) => {
    if (t.skip) console.log(`SKIP ${title} on ${t.backend}/${t.isa}: ${t.skip}`);
    let restore: (() => void) | null = null;
    beforeAll(() => { if (!t.skip) restore = useTarget(t); });
    afterAll(() => restore?.());
    body(t.skip ? test.skip : test, t);
  });
}
