#!/usr/bin/env node
// Builds the bench's ggml peer: llama.cpp's CPU kernels behind native/bench/ggml_peer.cpp, as
// build/ggml/libggml_peer.so, which the addon loads at run time. The source is a pinned
// llama.cpp that the npm package node-llama-cpp ships as a git bundle, so the npm registry is
// the only host it needs; nothing of it is committed or linked into lowbit. ggml is built as
// llama.cpp builds it by default (GGML_NATIVE: -march=native, OpenMP, repacked CPU kernels).
//
//   node scripts/ggml-peer.mjs [--force]     prints the library's path on stdout
//
// Needs npm, git, cmake, g++ (about 2 minutes on 2 cores; the 250 MB of sources are removed
// afterwards). Exits non-zero with the reason on stderr when a step fails.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'node-llama-cpp@3.22.1';
const COMMIT = 'de3ff81';  // llama.cpp's commit in that package's bundle (ggml 0.25.1)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'build', 'ggml');
const lib = path.join(dir, 'libggml_peer.so');
const shim = path.join(root, 'native', 'bench', 'ggml_peer.cpp');
const stamp = path.join(dir, 'source.txt');

function step(what, cmd, args, opts = {}) {
  process.stderr.write(`ggml peer: ${what}\n`);
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, ...opts }).toString();
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed (${cmd} ${args.join(' ')}):\n${out || e.message}`);
  }
}

function upToDate() {
  if (!fs.existsSync(lib) || !fs.existsSync(stamp)) return false;
  return fs.readFileSync(stamp, 'utf8').trim() === `${PACKAGE} ${COMMIT}` && fs.statSync(lib).mtimeMs >= fs.statSync(shim).mtimeMs;
}

function build() {
  if (process.platform !== 'linux') throw new Error('the ggml peer builds on Linux only');
  if (!fs.existsSync(shim)) throw new Error(`${shim} is missing: the ggml peer builds from a checkout of lowbit`);
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, 'work-'));
  try {
    const tgz = step(`fetching ${PACKAGE} from the npm registry (36 MB)`, 'npm', ['pack', PACKAGE, '--silent', '--pack-destination', work]).trim().split('\n').pop();
    step('unpacking its llama.cpp bundle', 'tar', ['xzf', path.join(work, tgz), '-C', work, 'package/llama/gitRelease.bundle']);
    const src = path.join(work, 'llama.cpp');
    step('cloning the bundle', 'git', ['clone', '-q', path.join(work, 'package', 'llama', 'gitRelease.bundle'), src]);
    const head = step('checking its commit', 'git', ['-C', src, 'rev-parse', 'HEAD']).trim();
    if (!head.startsWith(COMMIT)) throw new Error(`${PACKAGE}'s bundle is at ${head}, expected ${COMMIT}`);
    const bld = path.join(work, 'build');
    step('configuring ggml (cmake)', 'cmake', ['-S', src, '-B', bld, '-DCMAKE_BUILD_TYPE=Release', '-DGGML_NATIVE=ON', '-DBUILD_SHARED_LIBS=OFF',
      '-DCMAKE_POSITION_INDEPENDENT_CODE=ON', '-DLLAMA_BUILD_TESTS=OFF', '-DLLAMA_BUILD_EXAMPLES=OFF', '-DLLAMA_BUILD_TOOLS=OFF',
      '-DLLAMA_BUILD_SERVER=OFF', '-DLLAMA_CURL=OFF']);
    step('building ggml (about a minute)', 'cmake', ['--build', bld, '--target', 'ggml-base', 'ggml-cpu', 'ggml', '-j', '2']);
    const a = (n) => path.join(bld, 'ggml', 'src', n);
    // ggml's own symbols stay inside the library (--exclude-libs): only lbg_* are exported.
    step('linking libggml_peer.so', 'g++', ['-O2', '-std=c++17', '-shared', '-fPIC', `-DLBG_SOURCE="ggml from ${PACKAGE} (llama.cpp ${COMMIT})"`,
      `-I${path.join(src, 'ggml', 'include')}`, shim, '-o', lib, '-Wl,--whole-archive', a('libggml.a'), '-Wl,--no-whole-archive',
      a('libggml-cpu.a'), a('libggml-base.a'), '-Wl,--exclude-libs,ALL', '-fopenmp', '-lpthread', '-ldl', '-lm']);
    fs.writeFileSync(stamp, `${PACKAGE} ${COMMIT}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  if (process.argv.includes('--force') || !upToDate()) build();
  process.stdout.write(`${lib}\n`);
} catch (e) {
  process.stderr.write(`ggml peer: ${e.message}\n`);
  process.exit(1);
}
