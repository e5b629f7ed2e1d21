/**
 * The bench's suites as data. Each kernel family declares its cases (kernel, ISA, threads,
 * shape, the peak that bounds it, the bytes it must move, how to prepare and run it); the runner
 * (bench/index.mts) times them, derives ratios, writes the table, JSON and charts. A new kernel
 * is one more entry here, never a second script.
 *
 * Cases of one group (one shape, or one model size) are timed round-robin, so a row and the
 * baselines its ratios use are measured side by side.
 */
import {
  dequantizeLinear, matmul, matmulInteger, packInt2, packInt4, prepack, quantize, quantizeLinear,
  unpackInt2, unpackInt4, type Compute, type PackedWeights, type PeakKind, type QTensor, type QuantizeOptions,
} from '../lib/index';
import type { GgmlPeerHandle, NativeBinding } from '../lib/native';
import { createSession, feeds, fp32MatMulModel, int8DynamicModel, matMulNBitsModel, type Ort } from './ort';
import type { Unit } from './types';

export interface Shape { M: number; N: number; K: number }
export const shapeName = (s: Shape): string => `${s.M}x${s.N}x${s.K}`;

/** SPEC §7's shapes (M, N, K), plus a small one whose operands stay in cache. */
export const SPEC_SHAPES: readonly Shape[] = [
  { M: 1, N: 4096, K: 4096 }, { M: 8, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 },
  { M: 512, N: 4096, K: 4096 }, { M: 1, N: 11008, K: 4096 }, { M: 1024, N: 1024, K: 1024 },
];
export const FULL_SHAPES: readonly Shape[] = [{ M: 256, N: 256, K: 256 }, ...SPEC_SHAPES];
export const QUICK_SHAPES: readonly Shape[] = [{ M: 1, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 }];

/** What a case needs while it is timed; dispose frees it (packed weights, sessions). */
export interface Prepared { run(): unknown; dispose(): void | Promise<void> }

export interface Case {
  id: string;
  suite: string;
  kernel: string;
  /** The lowbit ISA the case runs on (set before it is timed), or a peer's label ('ort-cpu', 'openblas', 'js'). */
  isa: string;
  threads: number;
  shape: string;
  dims: Shape | null;
  unit: Unit;
  /** Operations (2 per multiply-add) per call; 0 for memory-only rows. */
  ops: number;
  /** The fewest bytes one call must move (GB/s rows: the bytes their rate counts). */
  bytes: number;
  /** The instruction sequence whose peak bounds the row; null for memory-only rows. */
  peakKind: PeakKind | null;
  peer: boolean;
  /** Cases of a group are timed round-robin. */
  group: string;
  /** Prepared anew for each round and disposed after it (onnxruntime sessions, model weight copies). */
  perRound: boolean;
  prepare(): Prepared | Promise<Prepared>;
  /** Calls per run(), for calls too short to time one by one (the row is per call). */
  batch?: number;
  /** Model-shaped rows: weight bytes per layer and the copies cycled. */
  model?: { weightBytes: number; copies: number; tokensPerCall: number };
}

export interface Skip { id: string; reason: string }

export interface Context {
  native: NativeBinding | null;
  /** lowbit ISAs to measure on 1 thread (best last); the last also runs on more threads. */
  isas: readonly string[];
  threads: readonly number[];
  shapes: readonly Shape[];
  quick: boolean;
  ort: { ort: Ort; version: string } | null;
  /** Why the onnxruntime rows are skipped (null when they run). */
  ortSkipped: string | null;
  openblasSkipped: string | null;
  /** Why the ggml rows are skipped (null when the addon loaded the ggml peer). */
  ggmlSkipped: string | null;
  /** The suites selected (a suite may time a peer only when the peer's suite runs too). */
  suites: readonly string[];
}

export interface Suite {
  name: string;
  title: string;
  declare(ctx: Context): { cases: Case[]; skipped: Skip[] };
}

// ---- peaks: which instruction sequence bounds a kernel on an ISA ----

// On AVX2 the exact symmetric 8-bit kernel needs the sign trick (vpsignb before each
// vpmaddubsw); 7-bit activations take vpmaddubsw as it stands; matmulInteger on arbitrary
// bytes widens to int16 and is held to vpmaddubsw's peak too.
const INT8_PEAK: Readonly<Record<string, PeakKind>> = {
  avx2: 'avx2-vpmaddubsw-vpmaddwd-vpaddd', avxvnni: 'avxvnni-vpdpbusd', avx512vnni: 'avx512vnni-vpdpbusd',
  amx: 'amx-tdpbusd', neon: 'neon-smlal', 'neon-dotprod': 'neon-dotprod-sdot', 'neon-i8mm': 'neon-i8mm-smmla',
};
const W8A8_PEAK: Readonly<Record<string, PeakKind>> = { ...INT8_PEAK, avx2: 'avx2-vpsignb-vpmaddubsw-vpmaddwd-vpaddd' };
const FLOAT32_PEAK: Readonly<Record<string, PeakKind>> = {
  avx2: 'avx2-vfmadd231ps', avxvnni: 'avx2-vfmadd231ps', avx512vnni: 'avx512f-vfmadd231ps', amx: 'avx512f-vfmadd231ps',
  neon: 'neon-fmla', 'neon-dotprod': 'neon-fmla', 'neon-i8mm': 'neon-fmla',
};
const peakOf = (table: Readonly<Record<string, PeakKind>>, isa: string): PeakKind | null => table[isa] ?? null;

// ---- operands, made once per shape and shared by the cases of its group ----

/** A fast deterministic fill (Math.random on hundreds of millions of floats takes seconds). */
function fill(a: Float32Array | Int8Array | Uint8Array, seed: number, lo: number, hi: number): void {
  let s = seed >>> 0 || 1;
  const span = hi - lo + 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    a[i] = lo + ((s >>> 0) % span);
  }
}

interface Operands { a: Uint8Array; b: Int8Array; x: Float32Array; w: Float32Array; out: Float32Array; outInt: Int32Array; q: Map<string, QTensor> }

const operandCache = new Map<string, Operands>();
function operands(s: Shape): Operands {
  const key = shapeName(s);
  let o = operandCache.get(key);
  if (!o) {
    const { M, N, K } = s;
    o = { a: new Uint8Array(M * K), b: new Int8Array(K * N), x: new Float32Array(M * K), w: new Float32Array(N * K), out: new Float32Array(M * N), outInt: new Int32Array(M * N), q: new Map() };
    fill(o.a, 1, 0, 255); fill(o.b, 2, -128, 127); fill(o.x, 3, -127, 127); fill(o.w, 4, -127, 127);
    operandCache.set(key, o);
  }
  return o;
}
function quantized(s: Shape, name: string, opts: QuantizeOptions): QTensor {
  const o = operands(s);
  let q = o.q.get(name);
  if (!q) { q = quantize(o.w, [s.N, s.K], opts); o.q.set(name, q); }
  return q;
}
/** Frees a group's operands once it is measured (the 512-row shapes hold ~100 MB). */
export function releaseOperands(): void { operandCache.clear(); modelCache.clear(); }

function prepared(run: () => unknown, dispose: () => void = () => {}): Prepared { return { run, dispose }; }

function product(s: Shape, fields: Omit<Case, 'id' | 'shape' | 'dims' | 'unit' | 'ops' | 'group' | 'perRound'> & { perRound?: boolean }): Case {
  const shape = shapeName(s);
  return {
    ...fields, perRound: fields.perRound ?? false, shape, dims: s, unit: 'GOPS', ops: 2 * s.M * s.N * s.K, group: shape,
    id: `${fields.suite}/${fields.kernel}/${fields.isa}/x${fields.threads}/${shape}`,
  };
}

/** Per-ISA rows on one thread; the best ISA on every other thread count asked for. */
function isaThreads(ctx: Context): { isa: string; threads: number }[] {
  const best = ctx.isas[ctx.isas.length - 1]!;
  return ctx.threads.flatMap((t) => (t === 1 ? ctx.isas.map((isa) => ({ isa, threads: 1 })) : [{ isa: best, threads: t }]));
}

// A product the scalar reference (or a plain JS loop) would take seconds per call on.
const scalarMaxOps = (quick: boolean): number => (quick ? 3e8 : 2.2e9);
const JS_MAX_OPS = 6e8;

const f32Bytes = (s: Shape): number => 4 * (s.M * s.K + s.N * s.K + s.M * s.N);

// ---- the suites ----

const matmulIntegerSuite: Suite = {
  name: 'matmulInteger', title: 'matmulInteger: uint8 x int8 -> int32 (ONNX MatMulInteger)',
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    for (const s of ctx.shapes) for (const { isa, threads } of isaThreads(ctx)) {
      const c = product(s, {
        suite: 'matmulInteger', kernel: 'matmulInteger', isa, threads, peer: false, bytes: s.M * s.K + s.K * s.N + 4 * s.M * s.N,
        peakKind: peakOf(INT8_PEAK, isa),
        // Into a buffer kept across calls, as the matmul rows it is compared with write theirs.
        prepare: () => { const o = operands(s); return prepared(() => matmulInteger(o.a, [s.M, s.K], o.b, [s.K, s.N], null, null, { out: o.outInt })); },
      });
      if (isa === 'scalar' && c.ops > scalarMaxOps(ctx.quick)) skipped.push({ id: c.id, reason: `the scalar reference at ~2 GOPS takes too long for ${(c.ops / 1e9).toFixed(1)} GOP per call` });
      else cases.push(c);
    }
    // AVX2 picks its kernel by B's range: without -128 in B (as symmetric quantizers leave it)
    // the sign-trick kernel, else the general one, which widens to int16. The rows above draw B
    // from [-128, 127]; these the same B with -128 replaced by -127.
    if (ctx.isas.includes('avx2')) for (const s of ctx.shapes) {
      cases.push(product(s, {
        suite: 'matmulInteger', kernel: 'matmulInteger_b127', isa: 'avx2', threads: 1, peer: false,
        bytes: s.M * s.K + s.K * s.N + 4 * s.M * s.N, peakKind: peakOf(W8A8_PEAK, 'avx2'),
        prepare: () => {
          const o = operands(s), b = o.b.map((v) => (v === -128 ? -127 : v));
          return prepared(() => matmulInteger(o.a, [s.M, s.K], b, [s.K, s.N], null, null, { out: o.outInt }));
        },
      }));
    }
    return { cases, skipped };
  },
};

interface WeightFormat { kernel: string; name: string; opts: QuantizeOptions; compute: Compute; activationBits: 7 | 8; peak: Readonly<Record<string, PeakKind>> }

const INT8_FORMATS: readonly WeightFormat[] = [
  { kernel: 'matmul_w8a8', name: 'int8', opts: { dtype: 'int8', axis: 0 }, compute: 'int8', activationBits: 8, peak: W8A8_PEAK },
  { kernel: 'matmul_w8a7', name: 'int8', opts: { dtype: 'int8', axis: 0 }, compute: 'int8', activationBits: 7, peak: INT8_PEAK },
];
/** int4 in groups of 32 with binary16 scales is ggml Q4_0's 4.5 bits per weight. */
const LOWBIT_FORMATS: readonly WeightFormat[] = [
  { kernel: 'matmul_w4a8_g32', name: 'int4 g32', opts: { dtype: 'int4', axis: 1, blockSize: 32, scaleDtype: 'float16' }, compute: 'int8', activationBits: 8, peak: INT8_PEAK },
  { kernel: 'matmul_w2a8_g32', name: 'int2 g32', opts: { dtype: 'int2', axis: 1, blockSize: 32, scaleDtype: 'float16' }, compute: 'int8', activationBits: 8, peak: INT8_PEAK },
  { kernel: 'matmul_nf4_g64_f32', name: 'nf4 g64', opts: { dtype: 'nf4', axis: 1, blockSize: 64 }, compute: 'float32', activationBits: 8, peak: FLOAT32_PEAK },
];

/** Weight bytes of a format on N x K (data and scales), from the format's bits per weight. */
function weightBytes(f: WeightFormat, s: Shape): number {
  const bits = f.opts.dtype === 'int8' ? 8 + 32 / s.K : f.opts.dtype === 'nf4' ? 4 + 32 / 64 : (f.opts.dtype === 'int4' ? 4 : 2) + 16 / 32;
  return s.N * s.K * bits / 8;
}

function weightSuite(name: string, title: string, formats: readonly WeightFormat[]): Suite {
  return {
    name, title,
    declare(ctx) {
      const cases: Case[] = [], skipped: Skip[] = [];
      for (const s of ctx.shapes) for (const { isa, threads } of isaThreads(ctx)) for (const f of formats) {
        const c = product(s, {
          suite: name, kernel: f.kernel, isa, threads, peer: false, bytes: weightBytes(f, s) + 4 * (s.M * s.K + s.M * s.N),
          peakKind: peakOf(f.peak, isa),
          prepare: () => {
            const o = operands(s), p: PackedWeights = prepack(quantized(s, f.name, f.opts));
            return prepared(() => matmul(o.x, p, { out: o.out, compute: f.compute, activationBits: f.activationBits }), () => p.free());
          },
        });
        if (isa === 'scalar' && c.ops > scalarMaxOps(ctx.quick)) skipped.push({ id: c.id, reason: `the scalar reference takes too long for ${(c.ops / 1e9).toFixed(1)} GOP per call` });
        else cases.push(c);
      }
      return { cases, skipped };
    },
  };
}

/** What a Node user writes first: a dot product per output, weights [N, K] row by row (the cache-friendly order). */
export function plainJsMatmul(x: Float32Array, w: Float32Array, M: number, N: number, K: number, out: Float32Array): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += x[m * K + k]! * w[n * K + k]!;
      out[m * N + n] = sum;
    }
  }
}

const float32Suite: Suite = {
  name: 'float32', title: 'float32 GEMM: lowbit sgemm (the baseline), OpenBLAS sgemm, a plain TypeScript loop',
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    const native = ctx.native;
    for (const s of ctx.shapes) {
      for (const { isa, threads } of isaThreads(ctx)) {
        const c = product(s, {
          suite: 'float32', kernel: 'sgemm_f32', isa, threads, peer: false, bytes: f32Bytes(s), peakKind: peakOf(FLOAT32_PEAK, isa),
          prepare: () => { const o = operands(s); return prepared(() => native!.sgemmNT(o.x, o.w, s.M, s.N, s.K, o.out)); },
        });
        if (!native) skipped.push({ id: c.id, reason: 'the native addon is not loaded' });
        else if (isa === 'scalar' && c.ops > scalarMaxOps(ctx.quick)) skipped.push({ id: c.id, reason: `the scalar float32 reference takes too long for ${(c.ops / 1e9).toFixed(1)} GOP per call` });
        else cases.push(c);
      }
      const best = ctx.isas[ctx.isas.length - 1]!;
      for (const threads of ctx.threads) {
        const ob = product(s, {
          suite: 'float32', kernel: 'openblas_sgemm', isa: 'openblas', threads, peer: true, bytes: f32Bytes(s), peakKind: peakOf(FLOAT32_PEAK, best),
          prepare: () => { const o = operands(s); return prepared(() => native!.openblasSgemmNT!(o.x, o.w, s.M, s.N, s.K, o.out, threads)); },
        });
        if (ctx.openblasSkipped) skipped.push({ id: ob.id, reason: ctx.openblasSkipped });
        else cases.push(ob);
      }
      const js = product(s, {
        suite: 'float32', kernel: 'js_f32_loop', isa: 'js', threads: 1, peer: true, bytes: f32Bytes(s), peakKind: peakOf(FLOAT32_PEAK, best),
        prepare: () => { const o = operands(s); return prepared(() => plainJsMatmul(o.x, o.w, s.M, s.N, s.K, o.out)); },
      });
      if (!ctx.threads.includes(1)) skipped.push({ id: js.id, reason: 'the plain loop runs on 1 thread, not asked for' });
      else if (js.ops > JS_MAX_OPS) skipped.push({ id: js.id, reason: `a plain loop takes seconds for ${(js.ops / 1e9).toFixed(1)} GOP per call` });
      else cases.push(js);
    }
    return { cases, skipped };
  },
};

const ortSuite: Suite = {
  name: 'ort', title: 'onnxruntime-node: float32 MatMul, int8 dynamic quantization, MatMulNBits 4-bit (block 32)',
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    const best = ctx.isas[ctx.isas.length - 1]!;
    for (const s of ctx.shapes) for (const threads of ctx.threads) {
      const models: { kernel: string; peak: PeakKind | null; bytes: number; model: () => Uint8Array; nbits: boolean }[] = [
        { kernel: 'ort_fp32', peak: peakOf(FLOAT32_PEAK, best), bytes: f32Bytes(s), model: () => fp32MatMulModel(operands(s).w, s.M, s.N, s.K), nbits: false },
        { kernel: 'ort_int8_dynamic', peak: peakOf(W8A8_PEAK, best), bytes: weightBytes(INT8_FORMATS[0]!, s) + 4 * (s.M * s.K + s.M * s.N),
          model: () => int8DynamicModel(quantized(s, 'int8', INT8_FORMATS[0]!.opts), s.M), nbits: false },
        ...([4, 0] as const).map((acc) => ({
          kernel: `ort_matmulnbits4_acc${acc}`, peak: peakOf(acc === 4 ? INT8_PEAK : FLOAT32_PEAK, best), bytes: weightBytes(LOWBIT_FORMATS[0]!, s) + 4 * (s.M * s.K + s.M * s.N),
          // MatMulNBits takes float32 scales: the same values as lowbit's binary16 ones.
          model: () => matMulNBitsModel(quantized(s, 'int4 g32', LOWBIT_FORMATS[0]!.opts), s.M, acc), nbits: true,
        })),
      ];
      for (const m of models) {
        const c = product(s, {
          suite: 'ort', kernel: m.kernel, isa: 'ort-cpu', threads, peer: true, bytes: m.bytes, peakKind: m.peak, perRound: true,
          // Each session lives only while it is timed: onnxruntime's spinning pool threads would slow lowbit's.
          prepare: async () => {
            const o = ctx.ort!;
            const session = await createSession(o.ort, modelBytes(s, m.kernel, m.model), threads);
            const input = feeds(o.ort, operands(s).x, s.M, s.K);
            return { run: () => session.run(input), dispose: () => session.release() };
          },
        });
        if (ctx.ortSkipped) skipped.push({ id: c.id, reason: ctx.ortSkipped });
        else if (m.nbits && s.K % 32 !== 0) skipped.push({ id: c.id, reason: `MatMulNBits needs K a multiple of the block (32), K = ${s.K}` });
        else cases.push(c);
      }
    }
    return { cases, skipped };
  },
};
/**
 * ggml's mul_mat as llama.cpp runs a 4-bit layer: weights quantized by ggml to Q4_0 (blocks of
 * 32, the bits of lowbit's int4 g32 with binary16 scales) or Q4_K (super-blocks of 256), in the
 * CPU backend's repacking buffer; activations float32, which ggml quantizes to 8 bits itself.
 */
const GGML_TYPES = [
  { kernel: 'ggml_q4_0', type: 'q4_0', block: 32 },
  { kernel: 'ggml_q4_K', type: 'q4_K', block: 256 },
] as const;

/**
 * A first call's outputs against float64 sums, before ggml is timed: a peer computing garbage
 * must not set the yardstick. On these operands (uniform integers in [-127, 127]) Q4's rounding
 * leaves an error of about 0.08 / sqrt(K) of sum |x w| (one standard deviation); an output
 * unrelated to the product is off by about 1.3 / sqrt(K). The bound sits at 5 deviations.
 */
function checkGgml(n: NativeBinding, h: GgmlPeerHandle, s: Shape, threads: number): void {
  const o = operands(s), y = new Float32Array(s.M * s.N);
  n.ggmlPeerRun!(h, threads);
  n.ggmlPeerOutput!(h, y);
  for (let i = 0; i < 16; i++) {
    const m = (i * 7919) % s.M, col = (i * 104729 + 13) % s.N;
    let ref = 0, mag = 0;
    for (let k = 0; k < s.K; k++) { const p = o.x[m * s.K + k]! * o.w[col * s.K + k]!; ref += p; mag += Math.abs(p); }
    if (!(Math.abs(y[m * s.N + col]! - ref) <= 0.4 / Math.sqrt(s.K) * mag)) {
      throw new Error(`ggml's output [${m}, ${col}] = ${y[m * s.N + col]} is not the product (${ref.toFixed(1)}, sum |x w| ${mag.toFixed(1)})`);
    }
  }
}

const ggmlSuite: Suite = {
  name: 'ggml', title: "ggml (llama.cpp's CPU kernels): Q4_0 and Q4_K mul_mat, weights repacked as llama.cpp repacks them",
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    const best = ctx.isas[ctx.isas.length - 1]!;
    for (const s of ctx.shapes) for (const threads of ctx.threads) for (const t of GGML_TYPES) {
      const c = product(s, {
        suite: 'ggml', kernel: t.kernel, isa: 'ggml-cpu', threads, peer: true, peakKind: peakOf(INT8_PEAK, best),
        // Q4_0: 18 bytes per 32 weights; Q4_K: 144 per 256. Both 4.5 bits a weight.
        bytes: s.N * s.K * 4.5 / 8 + 4 * (s.M * s.K + s.M * s.N),
        prepare: () => {
          const n = ctx.native!, o = operands(s);
          const h = n.ggmlPeerCreate!(t.type, true, o.w, o.x, s.M, s.N, s.K);
          try { checkGgml(n, h, s, threads); } catch (e) { n.ggmlPeerFree!(h); throw e; }
          return prepared(() => n.ggmlPeerRun!(h, threads), () => n.ggmlPeerFree!(h));
        },
      });
      if (ctx.ggmlSkipped) skipped.push({ id: c.id, reason: ctx.ggmlSkipped });
      else if (s.K % t.block !== 0) skipped.push({ id: c.id, reason: `${t.type} needs K a multiple of ${t.block}, K = ${s.K}` });
      else cases.push(c);
    }
    return { cases, skipped };
  },
};

const modelBytesCache = new Map<string, Uint8Array>();
function modelBytes(s: Shape, kernel: string, make: () => Uint8Array): Uint8Array {
  const key = `${shapeName(s)} ${kernel}`;
  let m = modelBytesCache.get(key);
  if (!m) { m = make(); modelBytesCache.set(key, m); }
  return m;
}
export function releaseModels(): void { modelBytesCache.clear(); }

// ---- memory-bound families: GB/s over a buffer well past the caches ----

const QUANT_N = 16 * 1024 * 1024;
interface MemKernel { kernel: string; bytes: number; native: boolean; make(): () => unknown }
const quantData = (() => {
  let x: Float32Array | null = null, q8: Int8Array | null = null, q4vals: Int8Array | null = null;
  return {
    x(): Float32Array { if (!x) { x = new Float32Array(QUANT_N); for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 3; } return x; },
    q8(): Int8Array { q8 ??= quantizeLinear(this.x(), 0.025, 0, { dtype: 'int8' }) as Int8Array; return q8; },
    q4vals(): Int8Array { if (!q4vals) { q4vals = new Int8Array(QUANT_N / 4); fill(q4vals, 9, -8, 7); } return q4vals; },
  };
})();
const blockScales = new Float32Array(QUANT_N / 32).fill(0.4);

function memSuite(name: string, title: string, kernels: (quick: boolean) => MemKernel[], shape: string): Suite {
  return {
    name, title,
    declare(ctx) {
      const cases: Case[] = [];
      for (const k of kernels(ctx.quick)) {
        const where = k.native ? isaThreads(ctx) : ctx.threads.includes(1) ? [{ isa: 'ts', threads: 1 }] : [];
        for (const { isa, threads } of where) {
          cases.push({
            id: `${name}/${k.kernel}/${isa}/x${threads}/${shape}`, suite: name, kernel: k.kernel, isa, threads, shape, dims: null, unit: 'GB/s',
            ops: 0, bytes: k.bytes, peakKind: null, peer: false, group: shape, perRound: false, prepare: () => prepared(k.make()),
          });
        }
      }
      return { cases, skipped: [] };
    },
  };
}

const quantSuite = memSuite('quant', 'quantize / dequantize: GB/s of float32 and codes moved, 16M elements (64 MiB of float32)', () => [
  { kernel: 'copy_typedarray_set', bytes: 8 * QUANT_N, native: false, make: () => { const x = quantData.x(), y = new Float32Array(QUANT_N); return () => y.set(x); } },
  { kernel: 'quantizeLinear_int8', bytes: 5 * QUANT_N, native: true, make: () => { const x = quantData.x(); return () => quantizeLinear(x, 0.025, 0, { dtype: 'int8' }); } },
  { kernel: 'quantizeLinear_int4_b32', bytes: 4.5 * QUANT_N + 4 * QUANT_N / 32, native: true,
    make: () => { const x = quantData.x(); return () => quantizeLinear(x, blockScales, 0, { dtype: 'int4', shape: [QUANT_N / 4096, 4096], axis: 1, blockSize: 32 }); } },
  { kernel: 'dequantizeLinear_int8', bytes: 5 * QUANT_N, native: true,
    make: () => { const q = quantData.q8(), out = new Float32Array(QUANT_N); return () => dequantizeLinear(q, 0.025, 0, { dtype: 'int8', out }); } },
  { kernel: 'quantize_int8_per_channel', bytes: 5 * QUANT_N, native: true, make: () => { const x = quantData.x(); return () => quantize(x, [4096, QUANT_N / 4096], { dtype: 'int8', axis: 0 }); } },
], '16M f32');

const packSuite = memSuite('pack', 'pack / unpack: GB/s of codes (one per byte) and packed bytes, 4M codes; prepack: 4096 x 4096 weights', () => [
  { kernel: 'packInt4', bytes: 1.5 * (QUANT_N / 4), native: false, make: () => { const v = quantData.q4vals(); return () => packInt4(v); } },
  { kernel: 'unpackInt4', bytes: 1.5 * (QUANT_N / 4), native: false, make: () => { const p = packInt4(quantData.q4vals()); return () => unpackInt4(p, QUANT_N / 4); } },
  { kernel: 'packInt2', bytes: 1.25 * (QUANT_N / 4), native: false, make: () => { const v = quantData.q4vals().map((q) => (q & 3) - 2); return () => packInt2(v); } },
  { kernel: 'unpackInt2', bytes: 1.25 * (QUANT_N / 4), native: false, make: () => { const p = packInt2(quantData.q4vals().map((q) => (q & 3) - 2)); return () => unpackInt2(p, QUANT_N / 4); } },
  ...[INT8_FORMATS[0]!, LOWBIT_FORMATS[0]!].map((f) => ({
    kernel: `prepack_${f.opts.dtype}${f.opts.blockSize ? `_g${f.opts.blockSize}` : ''}`, bytes: 2 * weightBytes(f, { M: 1, N: 4096, K: 4096 }), native: true,
    make: () => { const w = quantized({ M: 1, N: 4096, K: 4096 }, f.name, f.opts); return () => prepack(w).free(); },
  })),
], '4M codes');

// ---- the model-shaped suite: the seven linear layers of one Llama-2-7B decoder layer ----

export const LLAMA_LAYER: readonly { name: string; N: number; K: number }[] = [
  { name: 'q', N: 4096, K: 4096 }, { name: 'k', N: 4096, K: 4096 }, { name: 'v', N: 4096, K: 4096 }, { name: 'o', N: 4096, K: 4096 },
  { name: 'gate', N: 11008, K: 4096 }, { name: 'up', N: 11008, K: 4096 }, { name: 'down', N: 4096, K: 11008 },
];
const LAYER_PARAMS = LLAMA_LAYER.reduce((n, l) => n + l.N * l.K, 0);
/**
 * Bytes of distinct weights cycled per format (at least 2 copies of the layer): 1 GiB, twice
 * the largest L3 a server VM reports (this 2-vCPU guest reports the package's 508 MB), so
 * that the weights come from memory as a 7B model's 3.5-13 GB do. Packing the copies is most
 * of the suite's time, so --quick cycles 2 copies (past one core complex's 32 MiB L3).
 */
const modelCycleBytes = (quick: boolean): number => (quick ? 0 : 1024) * 1024 * 1024;

interface ModelFormat { kernel: string; f: WeightFormat | null }
const MODEL_FORMATS: readonly ModelFormat[] = [
  { kernel: 'layer_f32', f: null }, { kernel: 'layer_w8a8', f: INT8_FORMATS[0]! },
  { kernel: 'layer_w4a8_g32', f: LOWBIT_FORMATS[0]! }, { kernel: 'layer_nf4_g64_f32', f: LOWBIT_FORMATS[2]! }, { kernel: 'layer_w2a8_g32', f: LOWBIT_FORMATS[1]! },
];

// Matrices of one shape share their values (quantizing 200M weights per format takes seconds);
// each matrix and each copy still gets its own memory (a slice, or its own prepack).
const modelCache = new Map<string, Float32Array[] | QTensor[]>();
function layerF32(): Float32Array[] {
  let w = modelCache.get('f32') as Float32Array[] | undefined;
  if (!w) {
    const byShape = new Map<string, Float32Array>();
    w = LLAMA_LAYER.map((l) => {
      const key = `${l.N}x${l.K}`, first = byShape.get(key);
      if (first) return first.slice();
      const a = new Float32Array(l.N * l.K);
      fill(a, 100 + byShape.size, -64, 63);
      for (let j = 0; j < a.length; j++) a[j]! *= 1 / 512;
      byShape.set(key, a);
      return a;
    });
    modelCache.set('f32', w);
  }
  return w;
}
/** One QTensor per distinct matrix shape (prepack makes the separate copies). */
function layerQ(f: WeightFormat): QTensor[] {
  let q = modelCache.get(f.kernel) as QTensor[] | undefined;
  if (!q) {
    const byShape = new Map<string, QTensor>(), src = layerF32();
    q = LLAMA_LAYER.map((l, i) => {
      const key = `${l.N}x${l.K}`;
      let t = byShape.get(key);
      if (!t) { t = quantize(src[i]!, [l.N, l.K], f.opts); byShape.set(key, t); }
      return t;
    });
    modelCache.set(f.kernel, q);
  }
  return q;
}

export const MODEL_SIZES = (quick: boolean): number[] => (quick ? [1] : [1, 512]);

const modelSuite: Suite = {
  name: 'model', title: 'Llama-2-7B decoder layer: q, k, v, o (4096 x 4096), gate, up (11008 x 4096), down (4096 x 11008); weights cycled from memory',
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    const best = ctx.isas[ctx.isas.length - 1]!, threads = Math.max(...ctx.threads);
    // --quick: the headline formats only (nf4's calibration and int2's packing take seconds per layer).
    const formats = ctx.quick ? MODEL_FORMATS.filter((f) => !/nf4|w2a8/.test(f.kernel)) : MODEL_FORMATS;
    for (const M of MODEL_SIZES(ctx.quick)) for (const mf of formats) {
      const shape = `llama2-7b layer, M=${M}`;
      const wb = mf.f ? LLAMA_LAYER.reduce((n, l) => n + weightBytes(mf.f!, { M, N: l.N, K: l.K }), 0) : 4 * LAYER_PARAMS;
      const copies = Math.max(2, Math.ceil(modelCycleBytes(ctx.quick) / wb));
      const c: Case = {
        id: `model/${mf.kernel}/${best}/x${threads}/M${M}`, suite: 'model', kernel: mf.kernel, isa: best, threads, shape, dims: null, unit: 'GOPS',
        ops: 2 * M * LAYER_PARAMS, bytes: wb + 4 * M * LLAMA_LAYER.reduce((n, l) => n + l.K + l.N, 0),
        peakKind: peakOf(mf.f ? mf.f.peak : FLOAT32_PEAK, best), peer: false, group: shape, perRound: false,
        model: { weightBytes: wb, copies, tokensPerCall: M },
        prepare: () => {
          const x = new Float32Array(M * 11008), out = new Float32Array(M * 11008);
          fill(x, 7, -100, 100);
          let next = 0;
          if (!mf.f) {
            const native = ctx.native!, src = layerF32();
            const sets = [src, ...Array.from({ length: copies - 1 }, () => src.map((w) => w.slice()))];
            return prepared(() => {
              const set = sets[next]!; next = (next + 1) % sets.length;
              for (let i = 0; i < LLAMA_LAYER.length; i++) native.sgemmNT(x, set[i]!, M, LLAMA_LAYER[i]!.N, LLAMA_LAYER[i]!.K, out);
            });
          }
          const f = mf.f, q = layerQ(f);
          const sets = Array.from({ length: copies }, () => q.map((w) => prepack(w)));
          return prepared(() => {
            const set = sets[next]!; next = (next + 1) % sets.length;
            for (const p of set) matmul(x.subarray(0, M * p.K), p, { out: out.subarray(0, M * p.N), compute: f.compute });
          }, () => { for (const s of sets) for (const p of s) p.free(); });
        },
      };
      if (!ctx.native) skipped.push({ id: c.id, reason: 'the native addon is not loaded' });
      else cases.push(c);
    }
    return { cases, skipped };
  },
};

// ---- the fixed cost of one call from JavaScript ----

const OVERHEAD_SHAPE: Shape = { M: 1, N: 64, K: 64 };
const OVERHEAD_BATCH = 100;  // calls per sample: one call costs about as much as tinybench's own work per sample

const overheadSuite: Suite = {
  name: 'overhead', title: 'call overhead: a 1 x 64 x 64 product on 1 thread, per call (lowbit matmul; onnxruntime-node session.run)',
  declare(ctx) {
    const cases: Case[] = [], skipped: Skip[] = [];
    if (!ctx.threads.includes(1)) return { cases, skipped };
    const s = OVERHEAD_SHAPE, best = ctx.isas[ctx.isas.length - 1]!, group = 'call overhead, 1x64x64';
    const base = { threads: 1, shape: group, dims: s, unit: 'GOPS' as const, ops: 2 * s.M * s.N * s.K, group, batch: OVERHEAD_BATCH };
    cases.push({
      ...base, id: `overhead/matmul_w8a8/${best}/x1/1x64x64`, suite: 'overhead', kernel: 'matmul_w8a8', isa: best, peer: false, perRound: false,
      bytes: weightBytes(INT8_FORMATS[0]!, s) + 4 * (s.M * s.K + s.M * s.N), peakKind: peakOf(W8A8_PEAK, best),
      prepare: () => {
        const o = operands(s), p = prepack(quantized(s, 'int8', INT8_FORMATS[0]!.opts));
        return prepared(() => { for (let i = 0; i < OVERHEAD_BATCH; i++) matmul(o.x, p, { out: o.out }); }, () => p.free());
      },
    });
    const ort: Case = {
      ...base, id: 'overhead/ort_int8_dynamic/ort-cpu/x1/1x64x64', suite: 'overhead', kernel: 'ort_int8_dynamic', isa: 'ort-cpu', peer: true, perRound: true,
      bytes: weightBytes(INT8_FORMATS[0]!, s) + 4 * (s.M * s.K + s.M * s.N), peakKind: peakOf(W8A8_PEAK, best),
      prepare: async () => {
        const o = ctx.ort!, session = await createSession(o.ort, int8DynamicModel(quantized(s, 'int8', INT8_FORMATS[0]!.opts), s.M), 1);
        const input = feeds(o.ort, operands(s).x, s.M, s.K);
        return { run: async () => { for (let i = 0; i < OVERHEAD_BATCH; i++) await session.run(input); }, dispose: () => session.release() };
      },
    };
    if (ctx.ortSkipped || !ctx.suites.includes('ort')) skipped.push({ id: ort.id, reason: ctx.ortSkipped ?? 'the ort suite is not selected' });
    else cases.push(ort);
    return { cases, skipped };
  },
};

export const SUITES: readonly Suite[] = [
  matmulIntegerSuite,
  weightSuite('int8', 'int8 matmul: float in, int8 weights per channel, activations quantized per row to 8 or 7 bits', INT8_FORMATS),
  weightSuite('lowbit', 'low-bit weights: int4 and int2 in groups of 32 (binary16 scales), nf4 in groups of 64', LOWBIT_FORMATS),
  float32Suite, ortSuite, ggmlSuite, quantSuite, packSuite, modelSuite, overheadSuite,
];

/** Every case and skip the named suites declare for this context (the test checks the JSON against it). */
export function declare(ctx: Context, suites: readonly string[]): { cases: Case[]; skipped: Skip[] } {
  const cases: Case[] = [], skipped: Skip[] = [];
  for (const s of SUITES) {
    if (!suites.includes(s.name)) continue;
    const d = s.declare(ctx);
    cases.push(...d.cases);
    skipped.push(...d.skipped);
  }
  return { cases, skipped };
}
