/**
 * The shape of bench/results/latest.json (bench/results.schema.json is its JSON Schema; the
 * native runner `lowbit_bench --json` writes the same fields). Field names are an interface:
 * tools read them, so change them only together with the schema's version.
 */

export const SCHEMA_VERSION = 1;

/**
 * The peers a lowbit row is compared with, each a `vs…` field of a row (null: not measured):
 * the peer row's time over the lowbit row's, the fastest of `kernels` where there are several.
 */
export const PEERS = [
  { field: 'vsOnnxruntimeFloat32', kernels: ['ort_fp32'], label: 'onnxruntime float32 MatMul' },
  { field: 'vsOnnxruntimeInt8', kernels: ['ort_int8_dynamic'], label: 'onnxruntime int8 dynamic' },
  { field: 'vsOnnxruntimeNBits', kernels: ['ort_matmulnbits4_acc4'], label: 'onnxruntime MatMulNBits 4-bit, accuracy_level 4' },
  { field: 'vsOnnxruntimeNBitsAcc0', kernels: ['ort_matmulnbits4_acc0'], label: 'onnxruntime MatMulNBits 4-bit, accuracy_level 0' },
  { field: 'vsGgml', kernels: ['ggml_q4_0', 'ggml_q4_K'], label: 'ggml 4-bit mul_mat (faster of Q4_0, Q4_K)' },
  { field: 'vsOpenblas', kernels: ['openblas_sgemm'], label: 'OpenBLAS cblas_sgemm' },
  { field: 'vsPlainJs', kernels: ['js_f32_loop'], label: 'a plain TypeScript float32 loop' },
] as const;
export type PeerField = (typeof PEERS)[number]['field'];

export type Unit = 'GOPS' | 'GB/s';

export interface CacheInfo { level: number; type: string; bytes: number }

export interface Machine {
  cpu: string;
  arch: string;
  os: string;
  /** CPU feature flags as the OS reports them (Linux: /proc/cpuinfo), else lowbit's own detection. */
  flags: string[];
  cores: number;
  caches: CacheInfo[];
  /** Node's version; null for the native runner. */
  node: string | null;
  lowbitVersion: string;
  /** The ISA lowbit picks by default and every usable one (best last). */
  isa: string;
  isas: string[];
  backend: string;
  threads: number;
}

export interface PeakResult { kind: string; threads: number; gops: number }

export interface BandwidthResult {
  /** 'memory': a buffer well past the last-level cache; 'cache': one that fits in it. */
  level: 'memory' | 'cache';
  threads: number;
  bytes: number;
  gbps: number;
}

export interface PeerStatus { name: string; available: boolean; version: string | null; reason: string | null }

export interface Roof {
  /** 'compute': the peak of the row's instruction sequence x threads; 'memory': intensity x bandwidth. */
  bound: 'compute' | 'memory';
  /** The peak kind, or the bandwidth it used ('memory x1', 'cache x2', ...). */
  name: string;
  /** The roof in the row's unit (GOPS, or GB/s for memory-only rows). */
  value: number;
}

export interface Row {
  /** suite/kernel/isa/xthreads/shape: unique in a run, stable between runs (--compare joins on it). */
  id: string;
  suite: string;
  kernel: string;
  isa: string;
  threads: number;
  /** 'MxNxK' for products, a label for the others (e.g. '16M f32', 'llama2-7b layer, M=1'). */
  shape: string;
  M: number | null; N: number | null; K: number | null;
  unit: Unit;
  medianMs: number; p10Ms: number; p90Ms: number; samples: number;
  /** (p90 - p10) / median; rows above 0.1 are flagged in the table. */
  spread: number;
  gops: number | null;
  gbps: number | null;
  /** Operations (2 per multiply-add) and the fewest bytes the row must move. */
  ops: number; bytes: number;
  /** ops / bytes (null for memory-only rows). */
  intensity: number | null;
  roof: Roof | null;
  /** gops (or gbps) over the roof. */
  ofRoof: number | null;
  /** lowbit's own float32 product on the same shape, ISA and threads: its time over this row's. */
  speedupVsFloat32: number | null;
  vsOnnxruntimeFloat32: number | null;
  vsOnnxruntimeInt8: number | null;
  vsOnnxruntimeNBits: number | null;
  vsOnnxruntimeNBitsAcc0: number | null;
  /** Optional in the schema: the native runner has no ggml rows. */
  vsGgml: number | null;
  vsOpenblas: number | null;
  vsPlainJs: number | null;
  /** true for other libraries' rows (onnxruntime, ggml, OpenBLAS, plain JS). */
  peer: boolean;
  /** Model-shaped rows: weight bytes per layer, their rate, its fraction of memory bandwidth, tokens/s over 32 layers. */
  model?: { weightBytes: number; weightGBps: number; ofBandwidth: number | null; tokensPerSecond: number; copies: number };
}

export interface Skipped { id: string; reason: string }

export interface Results {
  schemaVersion: number;
  generator: string;
  date: string;
  options: { quick: boolean; timeMs: number; rounds: number; suites: string[]; shapes: string[]; threads: number[]; isas: string[] };
  machine: Machine;
  peaks: PeakResult[];
  bandwidths: BandwidthResult[];
  peers: PeerStatus[];
  rows: Row[];
  skipped: Skipped[];
  /** Wall time of the whole run, seconds. */
  elapsedSeconds: number;
}
