/**
 * Loads the native addon. Candidates, in order: the prebuild for this platform in
 * prebuilds/<platform>-<arch>/ (chosen by node-gyp-build's tag rules: Node-API, libc), then a
 * local build in build/Release (what the install script or `npm rebuild lowbit` compiles when no
 * prebuild loads). A local build newer than the prebuild goes first: it is a rebuild from
 * changed sources. If none loads, lowbit runs on the TypeScript fallback and says so once on
 * stderr; LOWBIT_BACKEND=native turns that into an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the addon exports (native/binding/addon.cpp). */
export interface NativeBinding {
  readonly abiVersion: number;
  readonly version: string;
  /** Every ISA this build knows for its architecture, usable or not, best last. */
  readonly isaNames: readonly string[];
  cpuInfo(): { arch: string; features: Record<string, boolean>; isa: string; isas: string[] };
  setIsa(name: string): boolean;
  matmulInteger(
    a: Int8Array | Uint8Array, b: Int8Array | Uint8Array, bLayoutNK: boolean,
    M: number, N: number, K: number,
    aZeroPoint: Int8Array | Uint8Array | null, bZeroPoint: Int8Array | Uint8Array | null,
    out: Int32Array, threads: number,
  ): void;
  /** lb_quantize_linear; layout as lb_qlayout (block 0 = per tensor / per axis, rowLen 0 = flat). */
  quantizeLinear(
    x: Float32Array, scale: Float32Array, zeroPoint: Int32Array | null, dtypeCode: number,
    outer: number, axisLen: number, inner: number, block: number, rowLen: number, out: Int8Array | Uint8Array,
    qmin: number, qmax: number,
  ): void;
  dequantizeLinear(
    q: Int8Array | Uint8Array, scale: Float32Array, zeroPoint: Int32Array | null, dtypeCode: number,
    outer: number, axisLen: number, inner: number, block: number, rowLen: number, out: Float32Array,
  ): void;
  /**
   * lb_prepack: N x K weights of dtypeCode (lb_dtype), rows ld elements (8-bit) or bytes
   * (sub-byte) apart, 0 for one packed stream; group 0 = one group of K; scale null for
   * integer-only weights; one zero point per scale or null. The External frees them when collected.
   */
  prepack(data: Int8Array | Uint8Array, dtypeCode: number, N: number, K: number, ld: number, group: number,
    scale: Float32Array | Uint16Array | null, zeroPoint: Int32Array | null): object;
  packedFree(handle: object): void;
  packedInfo(handle: object): { kernel: string; bytes: number };
  /** lb_linear_f32: float rows in, float out; compute 0 int8, 1 float32; threads 0 = the pool's setting. */
  linear(x: Float32Array, M: number, handle: object, bias: Float32Array | null, activationBits: number, compute: number,
    out: Float32Array, threads: number): void;
  /** linear on a libuv worker thread; the promise settles when `out` is written. */
  linearAsync(x: Float32Array, M: number, handle: object, bias: Float32Array | null, activationBits: number, compute: number,
    out: Float32Array, threads: number): Promise<void>;
  /** lb_linear_q8: int8 / uint8 activations with 1 or M scales and zero points. */
  linearQ8(a: Int8Array | Uint8Array, M: number, aScale: Float32Array, aZp: Int8Array | Uint8Array | null, handle: object,
    bias: Float32Array | null, out: Float32Array, threads: number): void;
  linearQ8Async(a: Int8Array | Uint8Array, M: number, aScale: Float32Array, aZp: Int8Array | Uint8Array | null, handle: object,
    bias: Float32Array | null, out: Float32Array, threads: number): Promise<void>;
  /** lb_matmul_integer_packed on integer-only weights (prepack with scale null). */
  matmulIntegerPacked(a: Int8Array | Uint8Array, M: number, aZp: Int8Array | Uint8Array | null, handle: object,
    out: Int32Array, threads: number): void;
  /** The thread count of the native thread pool; with n, sets it first (0 = the hardware threads). */
  threads(n?: number): number;
  /** [min, max] of the non-NaN values; [Infinity, -Infinity] when there are none. */
  minmax(x: Float32Array): [number, number];
  sgemmNT(a: Float32Array, b: Float32Array, M: number, N: number, K: number, out: Float32Array): void;
  /** lb_peak_*: the peak-loop kinds usable on this CPU. */
  peakKinds(): string[];
  /** lb_measure_peak: operations (2 per multiply-add) per second of one kind, on this thread. */
  measurePeak(kind: string, minSeconds: number): number;
  /** lb_measure_read_bandwidth: bytes per second of the best plain-read pass (bench support; absent in older builds). */
  readBandwidth?(bytes: number, threads: number, minSeconds: number): number;
  /** Why OpenBLAS cannot be loaded at run time, or null when it can (bench support). */
  openblasMissing?(): string | null;
  /** OpenBLAS's cblas_sgemm as sgemmNT computes it, on `threads` OpenBLAS threads (bench support). */
  openblasSgemmNT?(a: Float32Array, b: Float32Array, M: number, N: number, K: number, out: Float32Array, threads: number): void;
  /** Loads the bench's ggml peer library (scripts/ggml-peer.mjs builds it): null when loaded, else why not. */
  ggmlPeerLoad?(path: string): string | null;
  /** What the loaded ggml peer was built from. */
  ggmlPeerSource?(): string;
  /** ggml's weights `type` ('q4_0', 'q4_K', 'q8_0') quantized from W (N x K) by ggml, and its mul_mat with X (M x K). */
  ggmlPeerCreate?(type: string, repack: boolean, w: Float32Array, x: Float32Array, M: number, N: number, K: number): GgmlPeerHandle;
  ggmlPeerRun?(h: GgmlPeerHandle, threads: number): void;
  /** The last run's M x N outputs. */
  ggmlPeerOutput?(h: GgmlPeerHandle, y: Float32Array): void;
  ggmlPeerWeightBytes?(h: GgmlPeerHandle): number;
  ggmlPeerFree?(h: GgmlPeerHandle): void;
}

/** An opaque handle of the ggml peer (a Node-API external). */
export type GgmlPeerHandle = { readonly __ggmlPeer: unique symbol };

/** The ABI version this TS layer was written against (LB_ABI_VERSION in lowbit.h). */
const EXPECTED_ABI = 5;

/** The package root: the nearest folder above this file holding lowbit's package.json. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'lowbit') return dir;
    if (path.dirname(dir) === dir) throw new Error(`lowbit: cannot find the package root above ${__dirname}`);
  }
}

/** Where a binary comes from: shipped in the package, or compiled on this machine. */
export type AddonSource = 'prebuild' | 'local build';

export interface AddonAttempt {
  source: AddonSource;
  /** The file tried (or, for a prebuild that none matched, its folder). */
  path: string;
  /** Why it did not load; null when it did. */
  error: string | null;
}

export interface LoadResult {
  binding: NativeBinding | null;
  /** What was loaded: a prebuild, a local build, or nothing (the TS fallback). */
  source: AddonSource | 'ts fallback';
  /** The binary loaded, or null. */
  path: string | null;
  /** Why this one, in words (for `lowbit info`). */
  reason: string;
  /** Every candidate tried, in order. */
  attempts: AddonAttempt[];
  /** Why the addon did not load (null when it did). */
  error: string | null;
}

/** node-gyp-build's matching helpers (exported by its module, used by its own resolve). */
interface Tags { file: string; specificity: number }
interface Tuple { name: string; platform: string; architectures: string[] }
interface GypBuild {
  parseTuple(name: string): Tuple | undefined;
  matchTuple(platform: string, arch: string): (t: Tuple | undefined) => boolean;
  compareTuples(a: Tuple, b: Tuple): number;
  parseTags(file: string): Tags | undefined;
  matchTags(runtime: string, abi: string): (t: Tags | undefined) => boolean;
  compareTags(runtime: string): (a: Tags, b: Tags) => number;
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The prebuild node-gyp-build would pick for this process (its rules, without its preference
 * for build/Release, which the order above handles), or null.
 */
export function matchingPrebuild(root: string): string | null {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const g = require('node-gyp-build/node-gyp-build.js') as GypBuild;
  const dir = path.join(root, 'prebuilds');
  const tuple = readdir(dir).map((n) => g.parseTuple(n)).filter(g.matchTuple(process.platform, process.arch))
    .filter((t): t is Tuple => t !== undefined).sort(g.compareTuples)[0];
  if (!tuple) return null;
  const files = readdir(path.join(dir, tuple.name)).map((f) => g.parseTags(f)).filter(g.matchTags('node', process.versions.modules))
    .filter((t): t is Tags => t !== undefined).sort(g.compareTags('node'));
  return files[0] ? path.join(dir, tuple.name, files[0].file) : null;
}

function mtime(file: string): number {
  return fs.statSync(file).mtimeMs;
}

/** The first line of a load error, without the file name dlopen puts first (the caller has it). */
function firstLine(e: unknown, file: string): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  return line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line;
}

function tryLoad(): LoadResult {
  if (process.env.LOWBIT_BACKEND === 'ts')
    return { binding: null, source: 'ts fallback', path: null, reason: 'LOWBIT_BACKEND=ts', attempts: [], error: 'LOWBIT_BACKEND=ts' };
  const root = packageRoot();
  const prebuild = matchingPrebuild(root);
  const local = path.join(root, 'build', 'Release', 'lowbit.node');
  const localExists = fs.existsSync(local);
  const localFirst = prebuild !== null && localExists && mtime(local) > mtime(prebuild);
  const order: { source: AddonSource; path: string | null }[] = [{ source: 'prebuild', path: prebuild }, { source: 'local build', path: local }];
  if (localFirst) order.reverse();
  const attempts: AddonAttempt[] = [];
  for (const c of order) {
    if (c.path === null) {
      attempts.push({ source: c.source, path: path.join(root, 'prebuilds'),
        error: `none for ${process.platform}-${process.arch} (Node-API${process.platform === 'linux' ? `, ${fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc'}` : ''})` });
      continue;
    }
    if (c.source === 'local build' && !localExists) {
      attempts.push({ source: c.source, path: c.path, error: 'not built' });
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const binding = require(c.path) as NativeBinding;
      if (binding.abiVersion !== EXPECTED_ABI) {
        attempts.push({ source: c.source, path: c.path, error: `addon ABI ${binding.abiVersion} != expected ${EXPECTED_ABI} (stale build)` });
        continue;
      }
      attempts.push({ source: c.source, path: c.path, error: null });
      const failed = attempts.filter((a) => a.error !== null).map((a) => `${a.source}: ${a.error}`);
      const reason = c.source === 'prebuild'
        ? `shipped for ${process.platform}-${process.arch}${failed.length ? `; ${failed.join('; ')}` : localExists ? '; the local build is older' : ''}`
        : localFirst ? 'newer than the prebuild (rebuilt after it)' : `compiled on this machine; ${failed.join('; ')}`;
      return { binding, source: c.source, path: c.path, reason, attempts, error: null };
    } catch (e) {
      attempts.push({ source: c.source, path: c.path, error: firstLine(e, c.path) });
    }
  }
  const error = `tried ${attempts.map((a) => `${a.source} ${a.path} (${a.error})`).join(' and ')}`;
  return { binding: null, source: 'ts fallback', path: null, reason: error, attempts, error };
}

export const loaded: LoadResult = tryLoad();

const FIX = "Fix: npm rebuild lowbit (compiles it; needs cmake and a C++17 compiler), or approve lowbit's install script (npm install-scripts approve lowbit) before installing";

if (!loaded.binding && process.env.LOWBIT_BACKEND === 'native') {
  throw new Error(`lowbit: LOWBIT_BACKEND=native but the native addon did not load (${loaded.error}). ${FIX}.`);
}
if (!loaded.binding && process.env.LOWBIT_BACKEND !== 'ts') {
  process.stderr.write(`lowbit: native addon not loaded, using the TypeScript fallback (slower). ${loaded.error}. ${FIX}; LOWBIT_BACKEND=ts silences this.\n`);
}
