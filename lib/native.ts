/**
 * Loads the native addon with node-gyp-build (prebuilds/<platform>-<arch>/ first, then
 * build/Release). If it cannot load, lowbit runs on the TypeScript fallback and says so once
 * on stderr; LOWBIT_BACKEND=native turns that into an error.
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
    out: Int32Array,
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
    scale: Float32Array | null, zeroPoint: Int32Array | null): object;
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
}

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

export interface LoadResult {
  binding: NativeBinding | null;
  /** Why the addon did not load (null when it did). */
  error: string | null;
}

function tryLoad(): LoadResult {
  if (process.env.LOWBIT_BACKEND === 'ts') return { binding: null, error: 'LOWBIT_BACKEND=ts' };
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => unknown;
    const binding = load(root) as NativeBinding;
    if (binding.abiVersion !== EXPECTED_ABI)
      return { binding: null, error: `addon ABI ${binding.abiVersion} != expected ${EXPECTED_ABI} (stale build)` };
    return { binding, error: null };
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { binding: null, error: `tried ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)} and ${path.join(root, 'build', 'Release')}: ${first}` };
  }
}

export const loaded: LoadResult = tryLoad();

if (!loaded.binding && process.env.LOWBIT_BACKEND === 'native') {
  throw new Error(`lowbit: LOWBIT_BACKEND=native but the native addon did not load (${loaded.error}). Fix: npm rebuild lowbit (needs cmake and a C++17 compiler).`);
}
if (!loaded.binding && process.env.LOWBIT_BACKEND !== 'ts') {
  process.stderr.write(`lowbit: native addon not loaded, using the TypeScript fallback (slower). ${loaded.error}. Fix: npm rebuild lowbit (needs cmake and a C++17 compiler), or set LOWBIT_BACKEND=ts to silence this.\n`);
}
