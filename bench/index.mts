/**
 * `npm run bench`: lowbit's main job. For the SPEC §7 shapes, on this CPU: matmulInteger on
 * every usable ISA, the scalar reference, and a float32 GEMM (lowbit's own blocked SIMD
 * kernel on the same ISA) as the honest baseline. Prints a table (median time, GOPS =
 * 2*M*N*K / s, speed-ups) and writes the same figures to bench/results/latest.json.
 *
 *   node dist/bench/index.mjs [--quick] [--shapes 1x4096x4096,64x4096x4096] [--time ms]
 *
 * Single thread: the thread pool arrives with the GEMM engine (see docs/ARCHITECTURE.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Bench } from 'tinybench';

import { cpuInfo, dequantizeLinear, getThreads, matmul, matmulInteger, prepack, quantize, quantizeLinear, setIsa, setThreads } from '../lib/index.js';
import { loaded, packageRoot } from '../lib/native.js';

interface Shape { M: number; N: number; K: number }
interface BandwidthRow { kernel: string; isa: string; threads: number; elements: number; medianMs: number; gbps: number; vsCopy: number }
interface Row {
  shape: string; kernel: string; isa: string; threads: number;
  medianMs: number; gops: number; vsScalar: number | null; vsFloat32: number | null; samples: number;
}

const SPEC_SHAPES: Shape[] = [
  { M: 1, N: 4096, K: 4096 }, { M: 8, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 },
  { M: 512, N: 4096, K: 4096 }, { M: 1, N: 11008, K: 4096 }, { M: 1024, N: 1024, K: 1024 },
];
const SCALAR_MAX_OPS = 2.2e9; // the scalar reference runs ~1-3 GOPS: skip it where a call takes seconds

function parseArgs(argv: string[]): { shapes: Shape[]; timeMs: number } {
  let shapes = [{ M: 256, N: 256, K: 256 }, ...SPEC_SHAPES];
  let timeMs = 300;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') { shapes = [{ M: 256, N: 256, K: 256 }, { M: 1, N: 4096, K: 4096 }, { M: 64, N: 4096, K: 4096 }]; timeMs = 100; }
    else if (a === '--time') timeMs = Number(argv[++i]);
    else if (a === '--shapes') {
      shapes = (argv[++i] ?? '').split(',').map((s) => {
        const [M, N, K] = s.split('x').map(Number);
        if (![M, N, K].every((d) => Number.isSafeInteger(d) && d! >= 0)) throw new RangeError(`--shapes: "${s}" is not MxNxK`);
        return { M: M!, N: N!, K: K! };
      });
    } else throw new RangeError(`unknown argument ${a}; usage: [--quick] [--shapes MxNxK,...] [--time ms]`);
  }
  if (!(timeMs > 0)) throw new RangeError('--time must be a positive number of milliseconds');
  return { shapes, timeMs };
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
  const { shapes, timeMs } = parseArgs(process.argv.slice(2));
  const info = cpuInfo();
  const native = loaded.binding;
  const isas = native ? info.isas : ['scalar'];
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`lowbit bench on ${cpuModel} (${info.arch}, backend ${info.backend}, ISAs ${isas.join(', ')}); products on 1 thread\n`);
  if (!native) process.stdout.write('the native addon is not loaded: only the TS fallback is measured\n');
  process.stdout.write(`${pad('shape MxNxK', 16, true)} ${pad('kernel', 16, true)} ${pad('isa', 12, true)} ${pad('median ms', 11)} ${pad('GOPS', 9)} ${pad('vs scalar', 10)} ${pad('vs fp32', 8)}\n`);

  const rows: Row[] = [];
  for (const { M, N, K } of shapes) {
    const shape = `${M}x${N}x${K}`, ops = 2 * M * N * K;
    const a = new Uint8Array(M * K), b = new Int8Array(K * N);
    const af = new Float32Array(M * K), bf = new Float32Array(N * K), yf = new Float32Array(M * N);
    fillRandom(a, 0, 255); fillRandom(b, -128, 127); fillRandom(af, -127, 127); fillRandom(bf, -127, 127);
    const wq = quantize(bf, [N, K], { dtype: 'int8', axis: 0 });
    let scalarMs: number | null = null;
    for (const isa of isas) {
      if (isa === 'scalar' && ops > SCALAR_MAX_OPS) {
        process.stdout.write(`${pad(shape, 16, true)} ${pad('matmulInteger', 16, true)} ${pad(isa, 12, true)} skipped: ${(ops / 1e9).toFixed(1)} GOP at ~2 GOPS is too slow to repeat\n`);
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
      packed.free();
      rows.push({ shape, kernel: 'matmul_w8a8', isa, threads: 1, medianMs: lin.medianMs, gops: ops / lin.medianMs / 1e6, vsScalar: null, vsFloat32: f32 ? f32.medianMs / lin.medianMs : null, samples: lin.samples });
      if (f32) rows.push({ shape, kernel: 'sgemm_f32', isa, threads: 1, medianMs: f32.medianMs, gops: ops / f32.medianMs / 1e6, vsScalar: null, vsFloat32: 1, samples: f32.samples });
      for (const r of rows.slice(f32 ? -3 : -2))
        process.stdout.write(`${pad(r.shape, 16, true)} ${pad(r.kernel, 16, true)} ${pad(r.isa, 12, true)} ${pad(r.medianMs.toFixed(3), 11)} ${pad(r.gops.toFixed(1), 9)} ${pad(r.vsScalar ? r.vsScalar.toFixed(1) + 'x' : '-', 10)} ${pad(r.vsFloat32 ? r.vsFloat32.toFixed(2) + 'x' : '-', 8)}\n`);
    }
  }
  if (native) setIsa(info.isa);
  const bandwidth = await quantBench(isas, native !== null, timeMs);

  const out = path.join(packageRoot(), 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cpu: cpuModel, node: process.version, cpuInfo: info, timeMs, rows, bandwidth }, null, 2) + '\n');
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
      add('quantize (calibrated) int8 per-channel', isa, threads, (await measure('qc', () => quantize(x, [4096, 4096], { dtype: 'int8', axis: 0 }), timeMs)).medianMs);
    }
  }
  setThreads(0);
  return rows;
}
const blockScales = new Float32Array(4096 * 128).fill(0.4);

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
