#!/usr/bin/env node
// `npm test`: every suite, then one closing line CI can read: "N passed, N failed, N skipped".
//   1. jest (the TS API, both backends, every ISA the host has, the gyp build, the package)
//   2. the native C++ tests (CMake/CTest executables, no Node): every kernel x ISA vs reference
//   3. the Arm tests: cross-built, run under qemu-aarch64 for NEON / dotprod / i8mm
//      (skipped with the reason printed when the toolchain or qemu is missing)
//   4. the package: npm pack, no-compiler install, consumers, the arm64 prebuild from Node
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(cmd, args, opts = {}) {
  process.stdout.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  return r;
}

function record(suite, passed, failed, skipped, note = '') {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  lines.push(`${suite}: ${passed} passed, ${failed} failed, ${skipped} skipped${note ? ` (${note})` : ''}`);
}

// 1. jest
fs.mkdirSync(path.join(root, 'build'), { recursive: true });
const jestJson = path.join(root, 'build', 'jest-results.json');
fs.rmSync(jestJson, { force: true });
const jest = run(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--json', `--outputFile=${jestJson}`]);
if (fs.existsSync(jestJson)) {
  const j = JSON.parse(fs.readFileSync(jestJson, 'utf8'));
  const suiteErrors = j.numRuntimeErrorTestSuites ?? 0;
  record('jest', j.numPassedTests, j.numFailedTests + suiteErrors, j.numPendingTests + j.numTodoTests,
    suiteErrors ? `${suiteErrors} suite(s) failed to run` : '');
} else {
  record('jest', 0, 1, 0, `jest exited ${jest.status} without results`);
}

// 2. native C++ tests
const cmakeCfg = run('cmake', ['-S', '.', '-B', 'build/native', '-DCMAKE_BUILD_TYPE=Release', '-DLOWBIT_NODE=OFF', '-DLOWBIT_TESTS=ON']);
const cmakeBuild = cmakeCfg.status === 0 ? run('cmake', ['--build', 'build/native', '-j2']) : cmakeCfg;
if (cmakeBuild.status !== 0) {
  record('native', 0, 1, 0, 'the CMake build failed');
} else {
  const t = run(path.join(root, 'build/native/lowbit_test'), []);
  const m = /lowbit_test: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(t.stdout ?? '');
  if (m && t.status === (Number(m[2]) ? 1 : 0)) record('native', Number(m[1]), Number(m[2]), Number(m[3]));
  else record('native', 0, 1, 0, `lowbit_test exited ${t.status ?? t.signal} without its closing line`);
  const c = run(path.join(root, 'build/native/lowbit_c_abi_example'), []);
  record('c-abi', c.status === 0 ? 1 : 0, c.status === 0 ? 0 : 1, 0);
}

// 2b. the same C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (group offsets and
// nibble indexing are where memory bugs hide); any report fails the run.
const san = '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined';
const asanCfg = run('cmake', ['-S', '.', '-B', 'build/asan', '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DLOWBIT_NODE=OFF', '-DLOWBIT_TESTS=ON',
  `-DCMAKE_CXX_FLAGS=${san}`, `-DCMAKE_C_FLAGS=${san}`, `-DCMAKE_EXE_LINKER_FLAGS=${san}`, `-DCMAKE_SHARED_LINKER_FLAGS=${san}`]);
const asanBuild = asanCfg.status === 0 ? run('cmake', ['--build', 'build/asan', '-j2', '--target', 'lowbit_test']) : asanCfg;
if (asanBuild.status !== 0) {
  record('native-asan', 0, 1, 0, 'the sanitizer build failed');
} else {
  const t = run(path.join(root, 'build/asan/lowbit_test'), [], { env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' } });
  const m = /lowbit_test: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(t.stdout ?? '');
  const report = /runtime error|ERROR: (Address|Leak)Sanitizer/.test(`${t.stdout}${t.stderr}`);
  if (m && !report && t.status === (Number(m[2]) ? 1 : 0)) record('native-asan', Number(m[1]), Number(m[2]), Number(m[3]));
  else record('native-asan', m ? Number(m[1]) : 0, 1, 0, report ? 'a sanitizer report' : `lowbit_test exited ${t.status ?? t.signal}`);
}

// 3. Arm under qemu
const arm = run('bash', [path.join(root, 'test/arm/run.sh')]);
const am = /arm: (\d+) passed, (\d+) failed/.exec(arm.stdout ?? '');
if (/^SKIP arm tests/m.test(arm.stdout ?? '') && arm.status === 0) record('arm', 0, 0, 1, 'toolchain or qemu missing');
else if (am) record('arm', Number(am[1]), Number(am[2]) + (arm.status !== 0 && Number(am[2]) === 0 ? 1 : 0), 0);
else record('arm', 0, 1, 0, `test/arm/run.sh exited ${arm.status} without its closing line`);

// 4. the package as users get it (test/pack/run.mjs): npm pack with both prebuilds, its contents,
// an install with no compiler, consumers (require / import / tsc), the arm64 prebuild under qemu
const pack = run(process.execPath, [path.join(root, 'test/pack/run.mjs')]);
const pm = /^pack: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(pack.stdout ?? '');
if (pm) record('pack', Number(pm[1]), Number(pm[2]) + (pack.status !== 0 && Number(pm[2]) === 0 ? 1 : 0), Number(pm[3]));
else record('pack', 0, 1, 0, `test/pack/run.mjs exited ${pack.status ?? pack.signal} without its closing line`);

process.stdout.write(`\n${lines.join('\n')}\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exitCode = totals.failed ? 1 : 0;
