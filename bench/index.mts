/**
 * `npm run bench`: lowbit's main job. For the SPEC §7 shapes, on this CPU: matmulInteger on
 * every usable ISA, the scalar reference, and a float32 GEMM (lowbit's own blocked SIMD
 * kernel on the same ISA) as the honest baseline. Prints a table (median time, GOPS =
 * 2*M*N*K / s, speed-ups) and writes the same figures to bench/results/latest.json.
 *
 *   node dist/bench/index.mjs [--quick] [--shapes 1x4096x4096,64x4096x4096] [--time ms] [--no-ort]
 *
 * Peer in the same run: onnxruntime-node's int8 dynamic-quantization graph and float32 MatMul
 * (bench/ort.ts) against `matmul`, on 1 and all threads, plus the call overhead of both
 * (skipped, with the reason printed, when onnxruntime-node does not load; --no-ort skips it).
 *
 * The per-ISA rows run on 1 thread; the onnxruntime comparison on 1 and all threads.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';

import { cpuInfo, dequantizeLinear, getThreads, matmul, matmulInteger, prepack, quantize, quantizeLinear, setIsa, setThreads } from '../lib/index.js';
import { loaded, packageRoot } from '../lib/native.js';
import { measurePeak, peakKinds, type PeakKind } from '../lib/index.js';
import type { QTensor, QuantizeOptions, Compute, PackedWeights } from '../lib/index.js';
import { createSession, feeds, fp32MatMulModel, int8DynamicModel, loadOrt, matMulNBitsModel, measureRun, optimizedOpTypes, type Ort } from './ort.js';

interface Shape { M: number; N: number; K: number }
interface BandwidthRow { kernel: string; isa: string; threads: number; elements: number; medianMs: number; gbps: number; vsCopy: number }
interface Row {
  shape: string; kernel: string; isa: string; threads: number;
  medianMs: number; gops: number; vsScalar: number | null; vsFloat32: number | null; samples: number;
  /** GOPS / (threads x the peak of peakKind); set when the table row is printed or the JSON written. */
  peakKind?: PeakKind | null; ofPeak?: number | null;
}

const SPEC_SHAPES: Shape[] = [
  { M: 1, N: 4096, K: 4096 }, { M: 8, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 },
  { M: 512, N: 4096, K: 4096 }, { M: 1, N: 11008, K: 4096 }, { M: 1024, N: 1024, K: 1024 },
];
const SCALAR_MAX_OPS = 2.2e9;

/**
 * The low-bit weight formats (issue 13), as data: each adds its rows to every shape, per ISA and
 * on all threads. int4 in groups of 32 with binary16 scales is ggml Q4_0's 4.5 bits per weight.
 */
const LOWBIT_FORMATS: readonly { kernel: string; opts: QuantizeOptions; compute: Compute }[] = [
  { kernel: 'matmul_w4a8_g32', opts: { dtype: 'int4', axis: 1, blockSize: 32, scaleDtype: 'float16' }, compute: 'int8' },
  { kernel: 'matmul_w2a8_g32', opts: { dtype: 'int2', axis: 1, blockSize: 32, scaleDtype: 'float16' }, compute: 'int8' },
  { kernel: 'matmul_nf4_g64_f32', opts: { dtype: 'nf4', axis: 1, blockSize: 64 }, compute: 'float32' },
];

/** Times each low-bit format's matmul on prepacked weights (the ISA and threads in use). */
async function lowbitRows(shape: string, ops: number, af: Float32Array, lowbit: readonly QTensor[], out: Float32Array,
  isa: string, threads: number, f32Ms: number | null, timeMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (let i = 0; i < LOWBIT_FORMATS.length; i++) {
    const f = LOWBIT_FORMATS[i]!;
    let packed: PackedWeights | null = null;
    try {
      packed = prepack(lowbit[i]!);
      const p = packed;
      const t = await measure(`${f.kernel} ${isa} x${threads}`, () => { matmul(af, p, { out, compute: f.compute }); }, timeMs);
      rows.push({ shape, kernel: f.kernel, isa, threads, medianMs: t.medianMs, gops: ops / t.medianMs / 1e6, vsScalar: null, vsFloat32: f32Ms ? f32Ms / t.medianMs : null, samples: t.samples });
    } finally {
      packed?.free();
    }
  }
  return rows;
} // the scalar reference runs ~1-3 GOPS: skip it where a call takes seconds

function parseArgs(argv: string[]): { shapes: Shape[]; timeMs: number; ort: boolean } {
  let shapes = [{ M: 256, N: 256, K: 256 }, ...SPEC_SHAPES];
  let timeMs = 300;
  let ort = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') { shapes = [{ M: 256, N: 256, K: 256 }, { M: 1, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 }]; timeMs = 100; }
    else if (a === '--time') timeMs = Number(argv[++i]);
    else if (a === '--no-ort') ort = false;
    else if (a === '--shapes') {
      shapes = (argv[++i] ?? '').split(',').map((s) => {
        const [M, N, K] = s.split('x').map(Number);
        if (![M, N, K].every((d) => Number.isSafeInteger(d) && d! >= 0)) throw new RangeError(`--shapes: "${s}" is not MxNxK`);
        return { M: M!, N: N!, K: K! };
      });
    } else throw new RangeError(`unknown argument ${a}; usage: [--quick] [--shapes MxNxK,...] [--time ms] [--no-ort]`);
  }
  if (!(timeMs > 0)) throw new RangeError('--time must be a positive number of milliseconds');
  return { shapes, timeMs, ort };
}

function fillRandom(a: Int8Array | Uint8Array | Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) a[i] = lo + Math.floor(Math.random() * (hi - lo + 1));
}

async function measure(name: string, fn: () => void, timeMs: number): Promise<{ medianMs: number; samples: number }> {
  const bench = new Bench({ time: timeMs, iterations: 3, warmup: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`${name}: ${r.state === 'errored' ? r.error.message : r.state}`);
  return { medianMs: r.latency.p50, samples: r.latency.samplesCount };
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padEnd(n) : t.padStart(n);
}

async function main(): Promise<void> {
  const { shapes, timeMs, ort: withOrt } = parseArgs(process.argv.slice(2));
  const info = cpuInfo();
  const native = loaded.binding;
  const isas = native ? info.isas : ['scalar'];
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`lowbit bench on ${cpuModel} (${info.arch}, backend ${info.backend}, ISAs ${isas.join(', ')}); per-ISA rows on 1 thread\n`);
  if (!native) process.stdout.write('the native addon is not loaded: only the TS fallback is measured\n');
  const peaks = await peakBench(native !== null, timeMs);
  process.stdout.write(`${pad('shape MxNxK', 16, true)} ${pad('kernel', 18, true)} ${pad('isa', 12, true)} ${pad('median ms', 11)} ${pad('GOPS', 9)} ${pad('vs scalar', 10)} ${pad('vs fp32', 8)} ${pad('of peak', 8)}\n`);

  const rows: Row[] = [];
  const ortBench = await setUpOrt(withOrt);
  for (const { M, N, K } of shapes) {
    const shape = `${M}x${N}x${K}`, ops = 2 * M * N * K;
    const a = new Uint8Array(M * K), b = new Int8Array(K * N);
    const af = new Float32Array(M * K), bf = new Float32Array(N * K), yf = new Float32Array(M * N);
    fillRandom(a, 0, 255); fillRandom(b, -128, 127); fillRandom(af, -127, 127); fillRandom(bf, -127, 127);
    const wq = quantize(bf, [N, K], { dtype: 'int8', axis: 0 });
    const lowbit = LOWBIT_FORMATS.map((f) => quantize(bf, [N, K], f.opts));
    let scalarMs: number | null = null;
    setThreads(1);  // the per-ISA rows: one thread (main restores the setting after the shapes)
    for (const isa of isas) {
      if (isa === 'scalar' && ops > SCALAR_MAX_OPS) {
        process.stdout.write(`${pad(shape, 16, true)} ${pad('matmulInteger', 18, true)} ${pad(isa, 12, true)} skipped: ${(ops / 1e9).toFixed(1)} GOP at ~2 GOPS is too slow to repeat\n`);
        continue;
      }
      if (native) setIsa(isa);
      const int = await measure(`matmulInteger ${isa}`, () => { matmulInteger(a, [M, K], b, [K, N]); }, timeMs);
      const f32 = native ? await measure(`sgemm ${isa}`, () => native.sgemmNT(af, bf, M, N, K, yf), timeMs) : null;
      if (isa === 'scalar') scalarMs = int.medianMs;
      const row: Row = {
        shape, kernel: 'matmulInteger', isa, threads: 1, medianMs: int.medianMs, gops: ops / int.medianMs / 1e6,
        vsScalar: scalarMs ? scalarMs / int.medianMs : null, vsFloat32: f32 ? f32.medianMs / int.medianMs : null, samples: int.samples,
      };
      rows.push(row);
      // The quantized linear layer: float in, float out, activations quantized per row, weights prepacked.
      const packed = prepack(wq), out = new Float32Array(M * N);
      const lin = await measure(`matmul ${isa}`, () => { matmul(af, packed, { out }); }, timeMs);
      const lin7 = await measure(`matmul a7 ${isa}`, () => { matmul(af, packed, { out, activationBits: 7 }); }, timeMs);
      packed.free();
      rows.push({ shape, kernel: 'matmul_w8a8', isa, threads: 1, medianMs: lin.medianMs, gops: ops / lin.medianMs / 1e6, vsScalar: null, vsFloat32: f32 ? f32.medianMs / lin.medianMs : null, samples: lin.samples });
      rows.push({ shape, kernel: 'matmul_w8a7', isa, threads: 1, medianMs: lin7.medianMs, gops: ops / lin7.medianMs / 1e6, vsScalar: null, vsFloat32: f32 ? f32.medianMs / lin7.medianMs : null, samples: lin7.samples });
      if (f32) rows.push({ shape, kernel: 'sgemm_f32', isa, threads: 1, medianMs: f32.medianMs, gops: ops / f32.medianMs / 1e6, vsScalar: null, vsFloat32: 1, samples: f32.samples });
      const low = isa === 'scalar' ? [] : await lowbitRows(shape, ops, af, lowbit, out, isa, 1, f32 ? f32.medianMs : null, timeMs);
      rows.push(...low);
      for (const r of rows.slice(-(low.length + (f32 ? 4 : 3))))
        process.stdout.write(`${pad(r.shape, 16, true)} ${pad(r.kernel, 18, true)} ${pad(r.isa, 12, true)} ${pad(r.medianMs.toFixed(3), 11)} ${pad(r.gops.toFixed(1), 9)} ${pad(r.vsScalar ? r.vsScalar.toFixed(1) + 'x' : '-', 10)} ${pad(r.vsFloat32 ? r.vsFloat32.toFixed(2) + 'x' : '-', 8)} ${pad(formatOfPeak(setOfPeak(r, peaks)), 8)}\n`);
    }
    if (native && info.threads > 1) await allThreads({ M, N, K }, af, bf, wq, lowbit, info.isa, info.threads, timeMs, rows, peaks);
    if ('ort' in ortBench) await compareWithOrt(ortBench, { M, N, K }, af, bf, wq, lowbit[0]!, native ? info.isa : null, timeMs, rows);
  }
  if (native) setIsa(info.isa);
  setThreads(info.threads);  // the per-ISA rows ran on 1
  const overhead = await callOverhead(ortBench, timeMs);
  printOrtSummary(ortBench);
  const bandwidth = await quantBench(isas, native !== null, timeMs);

  const out = path.join(packageRoot(), 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  for (const r of rows) setOfPeak(r, peaks);
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cpu: cpuModel, node: process.version, cpuInfo: info, timeMs, peaks, rows, bandwidth, ort: { ...ortJson(ortBench), overhead } }, null, 2) + '\n');
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out) || out}\n`);
}

/**
 * Quantize / dequantize are memory-bound: GB/s of float32 read (written, for dequantize) over
 * 16M elements (64 MiB, beyond the last-level cache), against a plain copy of the same bytes
 * (TypedArray.prototype.set, a memcpy) in the same run.
 */
async function quantBench(isas: readonly string[], native: boolean, timeMs: number): Promise<BandwidthRow[]> {
  const n = 16 * 1024 * 1024, bytes = n * 4;
  const x = new Float32Array(n), copy = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 3;
  const q8 = quantizeLinear(x, 0.025, 0, { dtype: 'int8' });
  const dqOut = new Float32Array(n);  // reused: the kernel without a fresh 64 MiB array per call
  const copyMs = (await measure('copy', () => copy.set(x), timeMs)).medianMs;
  const rows: BandwidthRow[] = [];
  const gbps = (ms: number): number => bytes / ms / 1e6;
  process.stdout.write(`\n${pad('kernel (16M float32)', 40, true)} ${pad('isa', 12, true)} ${pad('threads', 8)} ${pad('median ms', 11)} ${pad('GB/s', 8)} ${pad('vs copy', 8)}\n`);
  const add = (kernel: string, isa: string, threads: number, ms: number): void => {
    const row = { kernel, isa, threads, elements: n, medianMs: ms, gbps: gbps(ms), vsCopy: copyMs / ms };
    rows.push(row);
    process.stdout.write(`${pad(kernel, 40, true)} ${pad(isa, 12, true)} ${pad(threads, 8)} ${pad(ms.toFixed(3), 11)} ${pad(row.gbps.toFixed(1), 8)} ${pad((row.vsCopy * 100).toFixed(0) + '%', 8)}\n`);
  };
  add('copy (TypedArray.set)', '-', 1, copyMs);
  const allThreads = getThreads();
  for (const isa of isas) {
    if (native) setIsa(isa);
    // Single thread on every ISA; all threads too on the best one (the default).
    for (const threads of isa === isas[isas.length - 1] && allThreads > 1 ? [1, allThreads] : [1]) {
      setThreads(threads);
      add('quantizeLinear int8 per-tensor', isa, threads, (await measure('q8', () => quantizeLinear(x, 0.025, 0, { dtype: 'int8' }), timeMs)).medianMs);
      add('quantizeLinear int4 blocks of 32', isa, threads, (await measure('q4', () => quantizeLinear(x, blockScales, 0, { dtype: 'int4', shape: [4096, 4096], axis: 1, blockSize: 32 }), timeMs)).medianMs);
      add('dequantizeLinear int8 per-tensor', isa, threads, (await measure('dq8', () => dequantizeLinear(q8, 0.025, 0, { dtype: 'int8' }), timeMs)).medianMs);
      add('dequantizeLinear int8, opts.out', isa, threads, (await measure('dq8 out', () => dequantizeLinear(q8, 0.025, 0, { dtype: 'int8', out: dqOut }), timeMs)).medianMs);
      add('quantize (calibrated) int8 per-channel', isa, threads, (await measure('qc', () => quantize(x, [4096, 4096], { dtype: 'int8', axis: 0 }), timeMs)).medianMs);
    }
  }
  setThreads(0);
  return rows;
}
const blockScales = new Float32Array(4096 * 128).fill(0.4);

/** The products of one shape on every thread (the default ISA): int8 paths against float32. */
async function allThreads(s: Shape, af: Float32Array, bf: Float32Array, wq: QTensor, lowbit: readonly QTensor[], isa: string, threads: number, timeMs: number, rows: Row[], peaks: readonly PeakRow[]): Promise<void> {
  const { M, N, K } = s, shape = `${M}x${N}x${K}`, ops = 2 * M * N * K;
  const native = loaded.binding!;
  setIsa(isa);
  const before = getThreads();
  setThreads(threads);
  const packed = prepack(wq), out = new Float32Array(M * N);
  try {
    const f32 = await measure(`sgemm ${threads}t`, () => native.sgemmNT(af, bf, M, N, K, out), timeMs);
    const timed: [string, { medianMs: number; samples: number }][] = [
      ['matmul_w8a8', await measure(`matmul ${threads}t`, () => { matmul(af, packed, { out }); }, timeMs)],
      ['matmul_w8a7', await measure(`matmul a7 ${threads}t`, () => { matmul(af, packed, { out, activationBits: 7 }); }, timeMs)],
      ['sgemm_f32', f32],
    ];
    const all: Row[] = timed.map(([kernel, t]) => ({ shape, kernel, isa, threads, medianMs: t.medianMs, gops: ops / t.medianMs / 1e6, vsScalar: null, vsFloat32: f32.medianMs / t.medianMs, samples: t.samples }));
    all.push(...await lowbitRows(shape, ops, af, lowbit, out, isa, threads, f32.medianMs, timeMs));
    for (const r of all) {
      rows.push(r);
      process.stdout.write(`${pad(shape, 16, true)} ${pad(r.kernel, 18, true)} ${pad(`${isa} x${threads}`, 12, true)} ${pad(r.medianMs.toFixed(3), 11)} ${pad(r.gops.toFixed(1), 9)} ${pad('-', 10)} ${pad(r.vsFloat32!.toFixed(2) + 'x', 8)} ${pad(formatOfPeak(setOfPeak(r, peaks)), 8)}\n`);
    }
  } finally {
    packed.free();
    setThreads(before);
  }
}

// ---- peak loops: the yardstick of the "of peak" column ----

interface PeakRow { kind: PeakKind; gops: number }

/** Every peak loop this CPU has, best of repetitions over min(timeMs, 1 s), printed as a table. */
async function peakBench(native: boolean, timeMs: number): Promise<PeakRow[]> {
  if (!native) {
    process.stdout.write('peak loops skipped: they need the native addon\n\n');
    return [];
  }
  process.stdout.write(`\n${pad('peak loop, 1 thread (registers only)', 44, true)} ${pad('GOPS', 9)}\n`);
  const rows: PeakRow[] = [];
  for (const kind of peakKinds()) {
    const gops = measurePeak(kind, { minSeconds: Math.min(timeMs, 1000) / 1000 }) / 1e9;
    rows.push({ kind, gops });
    process.stdout.write(`${pad(kind, 44, true)} ${pad(gops.toFixed(1), 9)}${kind.endsWith('ps') || kind.endsWith('fmla') ? '  (GFLOPS)' : ''}\n`);
  }
  process.stdout.write('\n');
  return rows;
}

// The peak that bounds a row: the multiply-add sequence its kernel runs. On AVX2 the exact
// symmetric 8-bit kernel needs the sign trick (vpsignb before each vpmaddubsw); 7-bit
// activations (stored as a + 64 <= 127) take vpmaddubsw as it stands. matmulInteger on
// arbitrary bytes widens to int16 on AVX2 and is measured against vpmaddubsw's peak too.
const INT8_PEAK: Readonly<Record<string, PeakKind>> = {
  avx2: 'avx2-vpmaddubsw-vpmaddwd-vpaddd', avxvnni: 'avxvnni-vpdpbusd', avx512vnni: 'avx512vnni-vpdpbusd',
  amx: 'amx-tdpbusd', neon: 'neon-smlal', 'neon-dotprod': 'neon-dotprod-sdot', 'neon-i8mm': 'neon-i8mm-smmla',
};
const W8A8_PEAK: Readonly<Record<string, PeakKind>> = { ...INT8_PEAK, avx2: 'avx2-vpsignb-vpmaddubsw-vpmaddwd-vpaddd' };
const INT7_PEAK: Readonly<Record<string, PeakKind>> = INT8_PEAK;
const FLOAT32_PEAK: Readonly<Record<string, PeakKind>> = {
  avx2: 'avx2-vfmadd231ps', avxvnni: 'avx2-vfmadd231ps', avx512vnni: 'avx512f-vfmadd231ps', amx: 'avx512f-vfmadd231ps',
  neon: 'neon-fmla', 'neon-dotprod': 'neon-fmla', 'neon-i8mm': 'neon-fmla',
};

/**
 * Sets row.peakKind and row.ofPeak (GOPS over threads x that single-thread peak; null for the
 * scalar reference, other libraries' rows and peaks not measured). Returns ofPeak.
 */
function setOfPeak(row: Row, peaks: readonly PeakRow[]): number | null {
  const isFloat = /f32|fp32|float/.test(row.kernel), is7bit = /a7\b|a7_|7bit/.test(row.kernel);
  const table = isFloat ? FLOAT32_PEAK : is7bit ? INT7_PEAK : row.kernel === 'matmul_w8a8' ? W8A8_PEAK : INT8_PEAK;
  const kind = row.kernel.startsWith('ort') ? undefined : table[row.isa];
  const peak = peaks.find((p) => p.kind === kind);
  row.peakKind = kind ?? null;
  row.ofPeak = peak ? row.gops / (peak.gops * row.threads) : null;
  return row.ofPeak;
}

function formatOfPeak(f: number | null): string {
  return f === null ? '-' : `${(f * 100).toFixed(f < 0.1 ? 1 : 0)}%`;
}

// ---- onnxruntime-node as the peer (bench/ort.ts) ----

interface OrtTiming { medianMs: number; gops: number; samples: number }
interface OrtComparison {
  shape: string; threads: number; isa: string;
  lowbit: OrtTiming; lowbit7: OrtTiming; ortInt8: OrtTiming; ortFp32: OrtTiming;
  /** lowbit matmul_w8a8 GOPS / onnxruntime int8 GOPS (and / its float32 GOPS), timed back to back. */
  vsOrt: number; vsOrtFp32: number;
  /** The same for activationBits 7 (matmul_w8a7). */
  vsOrt7: number;
  /** lowbit int4 g32 (compute 'int8') against MatMulNBits 4-bit block 32, accuracy_level 4 and 0; null where it did not run. */
  lowbitW4: OrtTiming | null; ortNBits4: OrtTiming | null; ortNBits0: OrtTiming | null;
  vsOrtNBits4: number | null; vsOrtNBits0: number | null;
}
interface OrtBench { ort: Ort; version: string; threads: number[]; int8Graph: string[]; comparisons: OrtComparison[] }
interface CallOverhead { shape: string; threads: 1; lowbitUs: number; ortInt8Us: number | null; ortFp32Us: number | null }

/** Loads onnxruntime-node and checks what its optimizer makes of the int8 graph; never throws. */
async function setUpOrt(enabled: boolean): Promise<OrtBench | { skipped: string }> {
  if (!enabled) return { skipped: '--no-ort' };
  const loadedOrt = loadOrt();
  if ('error' in loadedOrt) {
    process.stdout.write(`onnxruntime-node did not load (${loadedOrt.error}): the ort rows are skipped\n`);
    return { skipped: loadedOrt.error };
  }
  try {
    const w = quantize(new Float32Array(64 * 64).map((_, i) => Math.sin(i)), [64, 64], { dtype: 'int8', axis: 0 });
    const int8Graph = await optimizedOpTypes(loadedOrt.ort, int8DynamicModel(w, 1));
    const all = os.availableParallelism();
    const threads = all > 1 ? [1, all] : [1];
    process.stdout.write(`onnxruntime-node ${loadedOrt.version} (cpu EP, optimization 'all', weights as initializers): int8 graph runs as ${int8Graph.join(' -> ')}; threads ${threads.join(' and ')}\n`);
    return { ort: loadedOrt.ort, version: loadedOrt.version, threads, int8Graph, comparisons: [] };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    process.stdout.write(`onnxruntime-node failed its first session (${why}): the ort rows are skipped\n`);
    return { skipped: why };
  }
}

/**
 * One shape: lowbit `matmul` (prepacked w8a8, on `defaultIsa`), then onnxruntime's int8 dynamic
 * graph and float32 MatMul, on 1 and all threads, back to back on the same x and weights. Each
 * session lives only while it is timed: onnxruntime's spinning pool threads would otherwise
 * compete with lowbit's. A failure skips this shape's ort rows, not the bench.
 */
async function compareWithOrt(o: OrtBench, s: Shape, x: Float32Array, wf: Float32Array, wq: QTensor, w4: QTensor, defaultIsa: string | null, timeMs: number, rows: Row[]): Promise<void> {
  if (defaultIsa) setIsa(defaultIsa);  // the ISA loop leaves the last one it measured
  const { M, N, K } = s, shape = `${M}x${N}x${K}`, ops = 2 * M * N * K, isa = cpuInfo().isa;
  const timing = (t: { medianMs: number; samples: number }): OrtTiming => ({ medianMs: t.medianMs, gops: ops / t.medianMs / 1e6, samples: t.samples });
  const threadsBefore = getThreads();
  const packed = prepack(wq), packed4 = prepack(w4), out = new Float32Array(M * N);
  try {
    const models = { int8: int8DynamicModel(wq, M), fp32: fp32MatMulModel(wf, M, N, K) };
    let nbits: { acc4: Uint8Array; acc0: Uint8Array } | null = null;
    try {
      nbits = { acc4: matMulNBitsModel(w4, M, 4), acc0: matMulNBitsModel(w4, M, 0) };
    } catch (e) {
      process.stdout.write(`${pad(shape, 16, true)} MatMulNBits skipped: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    const input = feeds(o.ort, x, M, K);
    for (const threads of o.threads) {
      setThreads(threads);
      const lowbit = timing(await measure(`matmul ${threads}t`, () => { matmul(x, packed, { out }); }, timeMs));
      const lowbit7 = timing(await measure(`matmul a7 ${threads}t`, () => { matmul(x, packed, { out, activationBits: 7 }); }, timeMs));
      const timeSession = async (model: Uint8Array): Promise<OrtTiming> => {
        const session = await createSession(o.ort, model, threads);
        try { return timing(await measureRun(session, input, timeMs)); } finally { await session.release(); }
      };
      const ortInt8 = await timeSession(models.int8), ortFp32 = await timeSession(models.fp32);
      const lowbitW4 = nbits ? timing(await measure(`matmul w4 ${threads}t`, () => { matmul(x, packed4, { out }); }, timeMs)) : null;
      const ortNBits4 = nbits ? await timeSession(nbits.acc4) : null, ortNBits0 = nbits ? await timeSession(nbits.acc0) : null;
      const c: OrtComparison = { shape, threads, isa, lowbit, lowbit7, ortInt8, ortFp32, vsOrt: lowbit.gops / ortInt8.gops, vsOrtFp32: lowbit.gops / ortFp32.gops, vsOrt7: lowbit7.gops / ortInt8.gops,
        lowbitW4, ortNBits4, ortNBits0, vsOrtNBits4: lowbitW4 && ortNBits4 ? lowbitW4.gops / ortNBits4.gops : null, vsOrtNBits0: lowbitW4 && ortNBits0 ? lowbitW4.gops / ortNBits0.gops : null };
      if (ortNBits4) rows.push({ shape, kernel: 'ort_matmulnbits4_acc4', isa: 'ort-cpu', threads, medianMs: ortNBits4.medianMs, gops: ortNBits4.gops, vsScalar: null, vsFloat32: ortFp32.medianMs / ortNBits4.medianMs, samples: ortNBits4.samples });
      if (ortNBits0) rows.push({ shape, kernel: 'ort_matmulnbits4_acc0', isa: 'ort-cpu', threads, medianMs: ortNBits0.medianMs, gops: ortNBits0.gops, vsScalar: null, vsFloat32: ortFp32.medianMs / ortNBits0.medianMs, samples: ortNBits0.samples });
      if (lowbitW4) process.stdout.write(`${pad(shape, 16, true)} vs ort MatMulNBits, ${threads} thread${threads > 1 ? 's' : ''}: matmul_w4a8_g32 ${lowbitW4.gops.toFixed(1)} GOPS, MatMulNBits acc4 ${ortNBits4!.gops.toFixed(1)}, acc0 ${ortNBits0!.gops.toFixed(1)}; ${c.vsOrtNBits4!.toFixed(2)}x / ${c.vsOrtNBits0!.toFixed(2)}x\n`);
      o.comparisons.push(c);
      // The w8a8 row on this thread count, unless the ISA loop above has it already.
      if (!rows.some((r) => r.shape === shape && r.kernel === 'matmul_w8a8' && r.isa === isa && r.threads === threads))
        rows.push({ shape, kernel: 'matmul_w8a8', isa, threads, medianMs: lowbit.medianMs, gops: lowbit.gops, vsScalar: null, vsFloat32: null, samples: lowbit.samples });
      rows.push({ shape, kernel: 'matmul_w8a7', isa, threads, medianMs: lowbit7.medianMs, gops: lowbit7.gops, vsScalar: null, vsFloat32: null, samples: lowbit7.samples });
      // vsFloat32 of the ort rows: against onnxruntime's own float32 MatMul.
      rows.push({ shape, kernel: 'ort_int8_dynamic', isa: 'ort-cpu', threads, medianMs: ortInt8.medianMs, gops: ortInt8.gops, vsScalar: null, vsFloat32: ortFp32.medianMs / ortInt8.medianMs, samples: ortInt8.samples });
      rows.push({ shape, kernel: 'ort_fp32', isa: 'ort-cpu', threads, medianMs: ortFp32.medianMs, gops: ortFp32.gops, vsScalar: null, vsFloat32: 1, samples: ortFp32.samples });
      process.stdout.write(`${pad(shape, 16, true)} vs ort, ${threads} thread${threads > 1 ? 's' : ''}: matmul_w8a8 ${lowbit.gops.toFixed(1)} GOPS, w8a7 ${lowbit7.gops.toFixed(1)}, ort_int8_dynamic ${ortInt8.gops.toFixed(1)} (${ortInt8.medianMs.toFixed(3)} ms), ort_fp32 ${ortFp32.gops.toFixed(1)}; vs ort ${c.vsOrt.toFixed(2)}x (w8a7 ${c.vsOrt7.toFixed(2)}x), vs ort fp32 ${c.vsOrtFp32.toFixed(2)}x\n`);
    }
  } catch (e) {
    process.stdout.write(`${pad(shape, 16, true)} ort rows skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  } finally {
    packed.free();
    packed4.free();
    setThreads(threadsBefore);
  }
}

/**
 * The fixed cost of one call from JavaScript: a 1x64x64 product (M x N x K) on 1 thread, µs per
 * call, for lowbit `matmul` (target: under 3 µs) and onnxruntime-node's awaited session.run.
 */
async function callOverhead(o: OrtBench | { skipped: string }, timeMs: number): Promise<CallOverhead> {
  const M = 1, N = 64, K = 64;
  const x = new Float32Array(M * K).map((_, i) => Math.cos(i)), wf = new Float32Array(N * K).map((_, i) => Math.sin(i));
  const wq = quantize(wf, [N, K], { dtype: 'int8', axis: 0 });
  const threadsBefore = getThreads();
  setThreads(1);
  const packed = prepack(wq), out = new Float32Array(M * N);
  const result: CallOverhead = { shape: `${M}x${N}x${K}`, threads: 1, lowbitUs: 0, ortInt8Us: null, ortFp32Us: null };
  try {
    // 100 calls per sample: a call costs about as much as tinybench's own work per sample.
    const batch = 100;
    result.lowbitUs = (await measure('matmul 1x64x64', () => { for (let i = 0; i < batch; i++) matmul(x, packed, { out }); }, timeMs)).medianMs * 1e3 / batch;
    if ('ort' in o) {
      const input = feeds(o.ort, x, M, K);
      for (const [key, model] of [['ortInt8Us', int8DynamicModel(wq, M)], ['ortFp32Us', fp32MatMulModel(wf, M, N, K)]] as const) {
        const session = await createSession(o.ort, model, 1);
        try { result[key] = (await measureRun(session, input, timeMs, batch)).medianMs * 1e3; } finally { await session.release(); }
      }
    }
  } catch (e) {
    process.stdout.write(`call overhead: ort part skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  } finally {
    packed.free();
    setThreads(threadsBefore);
  }
  const us = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
  process.stdout.write(`\ncall overhead, ${result.shape} on 1 thread, µs per call: lowbit matmul ${us(result.lowbitUs)} (target < 3)` +
    ('ort' in o ? `, ort int8 session.run ${us(result.ortInt8Us)}, ort fp32 session.run ${us(result.ortFp32Us)}` : '') + '\n');
  return result;
}

function printOrtSummary(o: OrtBench | { skipped: string }): void {
  if (!('ort' in o) || o.comparisons.length === 0) return;
  process.stdout.write(`\nlowbit matmul_w8a8 vs onnxruntime-node ${o.version} (GOPS; vs ort = lowbit / ort int8 dynamic)\n`);
  process.stdout.write(`${pad('shape MxNxK', 16, true)} ${pad('threads', 8)} ${pad('isa', 12, true)} ${pad('w8a8', 9)} ${pad('w8a7', 9)} ${pad('ort int8', 9)} ${pad('ort fp32', 9)} ${pad('vs ort', 8)} ${pad('a7 vs ort', 10)} ${pad('vs ort fp32', 12)}\n`);
  for (const c of o.comparisons)
    process.stdout.write(`${pad(c.shape, 16, true)} ${pad(c.threads, 8)} ${pad(c.isa, 12, true)} ${pad(c.lowbit.gops.toFixed(1), 9)} ${pad(c.lowbit7.gops.toFixed(1), 9)} ${pad(c.ortInt8.gops.toFixed(1), 9)} ${pad(c.ortFp32.gops.toFixed(1), 9)} ${pad(c.vsOrt.toFixed(2) + 'x', 8)} ${pad(c.vsOrt7.toFixed(2) + 'x', 10)} ${pad(c.vsOrtFp32.toFixed(2) + 'x', 12)}\n`);
  const nb = o.comparisons.filter((c) => c.lowbitW4);
  if (!nb.length) return;
  process.stdout.write(`\nlowbit matmul_w4a8_g32 (int4, blocks of 32, f16 scales) vs onnxruntime MatMulNBits (4 bits, block 32) (GOPS)\n`);
  process.stdout.write(`${pad('shape MxNxK', 16, true)} ${pad('threads', 8)} ${pad('isa', 12, true)} ${pad('w4a8', 9)} ${pad('acc 4', 9)} ${pad('acc 0', 9)} ${pad('vs acc 4', 9)} ${pad('vs acc 0', 9)}\n`);
  for (const c of nb)
    process.stdout.write(`${pad(c.shape, 16, true)} ${pad(c.threads, 8)} ${pad(c.isa, 12, true)} ${pad(c.lowbitW4!.gops.toFixed(1), 9)} ${pad(c.ortNBits4!.gops.toFixed(1), 9)} ${pad(c.ortNBits0!.gops.toFixed(1), 9)} ${pad(c.vsOrtNBits4!.toFixed(2) + 'x', 9)} ${pad(c.vsOrtNBits0!.toFixed(2) + 'x', 9)}\n`);
}

/** The ort part of latest.json. */
function ortJson(o: OrtBench | { skipped: string }): object {
  if (!('ort' in o)) return { skipped: o.skipped };
  return { version: o.version, executionProviders: ['cpu'], graphOptimizationLevel: 'all', int8GraphAfterOptimization: o.int8Graph, threads: o.threads, comparisons: o.comparisons };
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
