#!/usr/bin/env node
// `npm run prebuild`: the Node-API addon for linux-x64 and linux-arm64, built with cmake-js from
// native/sources.json (the one source list), stripped, into prebuilds/linux-<arch>/, where
// node-gyp-build finds it. One binary per architecture serves every Node >= 18 (Node-API 8) and
// every CPU of its architecture (the kernels are chosen at load).
//
//   node scripts/prebuild.mjs [--require-all]
//
// The host's architecture builds natively in build/ (the folder `npm install` and `npm run build`
// use, so it is incremental); the other one is cross-compiled in build/prebuild-<arch>/ when its
// cross compiler is installed, and skipped with the reason printed otherwise. --require-all (npm
// pack / publish, through prepack) makes a missing architecture an error, so a published tarball
// always holds both.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requireAll = process.argv.includes('--require-all');

// Node's arch name -> the toolchain that targets it from another host, and the ELF e_machine the
// result must carry (a wrong-architecture binary is caught here, not on a user's machine).
const TARGETS = {
  x64: { prefix: 'x86_64-linux-gnu-', toolchain: null, machine: 0x3e },
  arm64: { prefix: 'aarch64-linux-gnu-', toolchain: 'test/arm/aarch64-toolchain.cmake', machine: 0xb7 },
};

if (process.platform !== 'linux') {
  console.error(`prebuild: only linux prebuilds are made here (this host is ${process.platform})`);
  process.exit(1);
}
if (!(process.arch in TARGETS)) {
  console.error(`prebuild: no target for host arch ${process.arch}`);
  process.exit(1);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status ?? r.signal}`);
}

// The newest GLIBC_x.y and GLIBCXX_3.4.z symbol versions the binary needs: the oldest glibc and
// libstdc++ it loads with (the build machine's decide them; an older system compiles instead).
function needs(file, objdump) {
  const r = spawnSync(objdump, ['-T', file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const newest = (re) => [...r.stdout.matchAll(re)].map((m) => m[1]).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  return `glibc >= ${newest(/GLIBC_([\d.]+)/g)}, libstdc++ >= GLIBCXX_${newest(/GLIBCXX_([\d.]+)/g)}`;
}

const cmakeJs = path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
const made = [];
const skipped = [];
for (const [arch, t] of Object.entries(TARGETS)) {
  const native = arch === process.arch;
  const prefix = native ? '' : t.prefix;
  if (!native && (!t.toolchain || !has(`${prefix}g++`))) {
    skipped.push(`linux-${arch}: ${t.toolchain ? `${prefix}g++ not found (apt-get install g++-${t.prefix.slice(0, -1)})` : `no cross toolchain from ${process.arch}`}`);
    // one left from an earlier run was built from other sources: it must not ship
    fs.rmSync(path.join(root, 'prebuilds', `linux-${arch}`), { recursive: true, force: true });
    continue;
  }
  const out = native ? 'build' : path.join('build', `prebuild-${arch}`);
  const args = [cmakeJs, 'compile', '--out', out, '--arch', arch, '--parallel', '2'];
  if (!native) args.push(`--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, t.toolchain)}`);
  run(process.execPath, args);

  const built = path.join(root, out, 'Release', 'lowbit.node');
  const elf = fs.readFileSync(built).subarray(0, 20);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf.readUInt16LE(18) !== t.machine)
    throw new Error(`prebuild: ${built} is not an ELF file for ${arch} (e_machine 0x${elf.readUInt16LE(18).toString(16)})`);
  const dir = path.join(root, 'prebuilds', `linux-${arch}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // node-gyp-build's tags: any Node with Node-API (napi), glibc only (musl builds from source).
  const dest = path.join(dir, 'lowbit.napi.glibc.node');
  fs.copyFileSync(built, dest);
  run(`${prefix}strip`, ['--strip-unneeded', dest]);
  made.push({ file: path.relative(root, dest), bytes: fs.statSync(dest).size, needs: needs(dest, `${prefix}objdump`) });
}

console.log('\nprebuilds:');
for (const m of made) console.log(`  ${m.file}  ${(m.bytes / 1024).toFixed(0)} KiB stripped${m.needs ? `, needs ${m.needs}` : ''}`);
for (const s of skipped) console.log(`  SKIP ${s}`);
if (requireAll && skipped.length) {
  console.error('prebuild: --require-all: every architecture must be built for a package');
  process.exit(1);
}
