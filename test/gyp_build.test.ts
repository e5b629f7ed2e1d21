/**
 * The second build: prebuildify (node-gyp, binding.gyp) from the same source list as cmake-js.
 * Builds a copy of the package, loads the prebuilt addon it makes, and runs the parity suite
 * on it: every usable ISA against the TS fallback, bit for bit.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { matmulIntegerTs } from '../lib/fallback/matmul_integer';
import { loaded, type NativeBinding } from '../lib/native';
import { fill8, makeRng } from './helpers/random';

const root = path.resolve(__dirname, '..');
const hasCompiler = spawnSync('g++', ['--version']).status === 0 || spawnSync('c++', ['--version']).status === 0;
const it = hasCompiler ? test : test.skip;
if (!hasCompiler) console.log('SKIP gyp build: no C++ compiler on PATH');

let dir = '';
let gypAddon: NativeBinding | null = null;

beforeAll(() => {
  if (!hasCompiler) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-gyp-'));
  for (const f of ['native', 'binding.gyp', 'package.json']) fs.cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prebuildify failed (${r.status}):\n${r.stderr.slice(-3000)}`);
}, 600_000);

afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

it('prebuildify writes prebuilds/<platform>-<arch>/lowbit.node, and node-gyp-build prefers it', () => {
  const file = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'lowbit.node');
  expect(fs.existsSync(file)).toBe(true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (d: string) => NativeBinding;
  gypAddon = load(dir);
  expect(gypAddon.abiVersion).toBe(5);
});

it('the gyp-built addon sees the same CPU as the cmake-js one', () => {
  expect(gypAddon).not.toBeNull();
  if (loaded.binding) expect(gypAddon!.cpuInfo().isas).toEqual(loaded.binding.cpuInfo().isas);
});

it('the gyp-built addon passes the parity suite on every usable ISA', () => {
  const addon = gypAddon!;
  const rng = makeRng('gyp_build.test');
  for (const isa of addon.cpuInfo().isas) {
    expect(addon.setIsa(isa)).toBe(true);
    for (let iter = 0; iter < 25; iter++) {
      const M = rng.int(0, 40), N = rng.int(0, 70), K = rng.int(0, 300);
      const aSigned = rng.next() < 0.5, bSigned = rng.next() < 0.5;
      const pattern = (['random', 'extreme', 'alternating'] as const)[iter % 3];
      const a = fill8(aSigned, M * K, pattern, rng.int), b = fill8(bSigned, K * N, pattern, rng.int);
      const za = iter % 2 ? fill8(aSigned, M || 1, 'random', rng.int) : null;
      const zb = iter % 2 ? fill8(bSigned, N || 1, 'random', rng.int) : null;
      const got = new Int32Array(M * N), want = new Int32Array(M * N);
      addon.matmulInteger(a, b, false, M, N, K, za, zb, got, iter % 3);  // threads: the pool's, 1, 2
      matmulIntegerTs(a, b, false, M, N, K, za, zb, want);
      expect({ isa, M, N, K, same: Buffer.from(got.buffer).equals(Buffer.from(want.buffer)) }).toEqual({ isa, M, N, K, same: true });
    }
  }
});
