/** The package as users meet it: require and import, env overrides, the CLI, a failed addon load. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loaded } from '../lib/native';

const root = path.resolve(__dirname, '..');
const nativeOnly = loaded.binding ? test : test.skip;

function node(args: string[], env: Record<string, string> = {}, cwd = root): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, env: { ...process.env, LOWBIT_BACKEND: '', LOWBIT_ISA: '', ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PROBE = "const l = require('lowbit'); const i = l.cpuInfo(); console.log(JSON.stringify({ backend: i.backend, isa: i.isa, isas: i.isas, y: Array.from(l.matmulInteger(new Uint8Array([255, 255, 1]), [1, 3], new Int8Array([-128, -128, 15]), [3, 1])) }))";

test('require("lowbit") and import from "lowbit" expose the same API', () => {
  const cjs = node(['-e', "console.log(Object.keys(require('lowbit')).sort().join(','))"]);
  const esm = node(['--input-type=module', '-e', "import * as l from 'lowbit'; console.log(Object.keys(l).filter(k => k !== 'default' && k !== '__esModule').sort().join(','))"]);
  expect(cjs.status).toBe(0);
  expect(esm.status).toBe(0);
  expect(esm.stdout).toBe(cjs.stdout);
  expect(cjs.stdout).toMatch(/cpuInfo/);
  expect(cjs.stdout).toMatch(/matmulInteger/);
});

nativeOnly('the native backend loads by default and reports every usable ISA, best last', () => {
  const r = node(['-e', PROBE]);
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout) as { backend: string; isa: string; isas: string[]; y: number[] };
  expect(out.backend).toBe('native');
  expect(out.isas[0]).toBe('scalar');
  expect(out.isa).toBe(out.isas[out.isas.length - 1]);
  expect(out.y).toEqual([-65265]);
  expect(r.stderr).toBe('');
});

test('LOWBIT_BACKEND=ts runs the TS fallback, silently', () => {
  const r = node(['-e', PROBE], { LOWBIT_BACKEND: 'ts' });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'ts', isa: 'scalar', y: [-65265] });
  expect(r.stderr).toBe('');
});

nativeOnly('LOWBIT_ISA forces a usable ISA and refuses one the CPU lacks', () => {
  const ok = node(['-e', PROBE], { LOWBIT_ISA: 'scalar' });
  expect(JSON.parse(ok.stdout)).toMatchObject({ isa: 'scalar', y: [-65265] });
  const bad = node(['-e', PROBE], { LOWBIT_ISA: 'avx9000' });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/RangeError: lowbit: LOWBIT_ISA: setIsa: ISA "avx9000" is not usable on this CPU; usable: scalar/);
});

test('LOWBIT_BACKEND with an unknown value is an error', () => {
  const r = node(['-e', PROBE], { LOWBIT_BACKEND: 'gpu' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/LOWBIT_BACKEND must be 'native' or 'ts', got "gpu"/);
});

describe('when the addon cannot load', () => {
  // A copy of the package without any built addon; node_modules linked for node-gyp-build.
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-noaddon-'));
    fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('it falls back to TS and says so once on stderr, with the fix', () => {
    const r = node(['-e', PROBE + '; require("lowbit").cpuInfo()'], {}, dir);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'ts', y: [-65265] });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/native addon not loaded, using the TypeScript fallback.*tried .*prebuilds.* and .*build.*Fix: npm rebuild lowbit/);
  });

  test('LOWBIT_BACKEND=native turns the failure into an error', () => {
    const r = node(['-e', PROBE], { LOWBIT_BACKEND: 'native' }, dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/LOWBIT_BACKEND=native but the native addon did not load/);
  });
});

test('the lowbit CLI prints cpuInfo readably and usage on bad commands', () => {
  const info = node([path.join(root, 'dist/lib/cli.js'), 'info']);
  expect(info.status).toBe(0);
  expect(info.stdout).toMatch(/lowbit on (x86_64|aarch64|\w+)\n\s+backend\s+(native|ts)\n\s+features .*\n\s+ISAs\s+scalar.*\n\s+in use\s+\S+/);
  const bad = node([path.join(root, 'dist/lib/cli.js'), 'frobnicate']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
});
