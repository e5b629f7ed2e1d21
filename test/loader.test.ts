/**
 * The loading order (lib/native.ts): the matching prebuild, then build/Release (first when newer),
 * then the TS fallback; each case in a copy of the package holding only the binaries it names,
 * run in a child process, read back through `lowbit info`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loaded } from '../lib/native';

const root = path.resolve(__dirname, '..');
// Any addon of this architecture serves as both the "prebuild" and the "local build".
const addon = loaded.path;
const it = addon ? test : test.skip;
if (!addon) console.log(`SKIP loader tests: no addon loaded here (${loaded.error})`);
const tag = `${process.platform}-${process.arch}`;

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

/** A copy of the package with the given binaries; mtimes in seconds since the epoch. */
function pkg(files: { prebuild?: Buffer | string; local?: Buffer | string; prebuildTime?: number; localTime?: number }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-loader-'));
  dirs.push(dir);
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const put = (file: string, content: Buffer | string | undefined, time: number | undefined): void => {
    if (content === undefined) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string') fs.copyFileSync(content, file);
    else fs.writeFileSync(file, content);
    if (time !== undefined) fs.utimesSync(file, time, time);
  };
  put(path.join(dir, 'prebuilds', tag, 'lowbit.napi.glibc.node'), files.prebuild, files.prebuildTime);
  put(path.join(dir, 'build', 'Release', 'lowbit.node'), files.local, files.localTime);
  return dir;
}

function info(dir: string): { status: number | null; binary: string; why: string; backend: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(dir, 'dist', 'lib', 'cli.js'), 'info'], {
    encoding: 'utf8', env: { ...process.env, LOWBIT_BACKEND: '', LOWBIT_ISA: '' },
  });
  const field = (name: string): string => new RegExp(`^\\s+${name}\\s+(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
  return { status: r.status, binary: field('binary'), why: field('why'), backend: field('backend'), stderr: r.stderr };
}

const notAnAddon = Buffer.from('not an ELF file');

it('a prebuild alone: it loads', () => {
  const dir = pkg({ prebuild: addon! });
  const r = info(dir);
  expect(r).toMatchObject({ status: 0, backend: 'native', binary: `prebuild ${path.join(dir, 'prebuilds', tag, 'lowbit.napi.glibc.node')}`, stderr: '' });
  expect(r.why).toMatch(new RegExp(`shipped for ${tag}`));
});

it('a prebuild and an older local build: the prebuild', () => {
  const dir = pkg({ prebuild: addon!, local: addon!, prebuildTime: 2_000_000_000, localTime: 1_000_000_000 });
  expect(info(dir)).toMatchObject({ backend: 'native', binary: `prebuild ${path.join(dir, 'prebuilds', tag, 'lowbit.napi.glibc.node')}` });
});

it('a local build newer than the prebuild goes first (a rebuild from changed sources)', () => {
  const dir = pkg({ prebuild: addon!, local: addon!, prebuildTime: 499_162_000, localTime: 2_000_000_000 });
  const r = info(dir);
  expect(r).toMatchObject({ backend: 'native', binary: `local build ${path.join(dir, 'build', 'Release', 'lowbit.node')}` });
  expect(r.why).toMatch(/newer than the prebuild/);
});

it('a newer local build that does not load: the prebuild, and why', () => {
  const dir = pkg({ prebuild: addon!, local: notAnAddon, prebuildTime: 1_000_000_000, localTime: 2_000_000_000 });
  const r = info(dir);
  expect(r).toMatchObject({ status: 0, backend: 'native', binary: `prebuild ${path.join(dir, 'prebuilds', tag, 'lowbit.napi.glibc.node')}`, stderr: '' });
  expect(r.why).toMatch(new RegExp(`shipped for ${tag}; local build: .*(invalid ELF header|file too short)`));
});

it('a prebuild that does not load: the local build, and why', () => {
  const dir = pkg({ prebuild: notAnAddon, local: addon!, prebuildTime: 2_000_000_000, localTime: 1_000_000_000 });
  const r = info(dir);
  expect(r).toMatchObject({ status: 0, backend: 'native', binary: `local build ${path.join(dir, 'build', 'Release', 'lowbit.node')}`, stderr: '' });
  expect(r.why).toMatch(/compiled on this machine; prebuild: .*(invalid ELF header|file too short)/);
});

it('nothing loads: the TS fallback, one line on stderr naming each attempt and the fix', () => {
  const dir = pkg({ prebuild: notAnAddon });
  const r = info(dir);
  expect(r).toMatchObject({ status: 0, backend: 'ts', binary: 'ts fallback' });
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`tried prebuild \\S+${tag}/lowbit\\.napi\\.glibc\\.node \\(.*\\) and local build \\S+lowbit\\.node \\(not built\\)`));
  expect(lines[0]).toMatch(/Fix: npm rebuild lowbit .*npm install-scripts approve lowbit/);
});

it('a prebuild for another platform only: none matches, said so', () => {
  const dir = pkg({});
  fs.mkdirSync(path.join(dir, 'prebuilds', 'linux-riscv64'), { recursive: true });
  fs.copyFileSync(addon!, path.join(dir, 'prebuilds', 'linux-riscv64', 'lowbit.napi.glibc.node'));
  const r = info(dir);
  expect(r.backend).toBe('ts');
  expect(r.stderr).toMatch(new RegExp(`prebuild \\S+prebuilds \\(none for ${tag} \\(Node-API`));
});
