/**
 * `npm run bench` / `lowbit bench`: what quantization buys on this CPU. The suites
 * (bench/suites.ts) declare their cases; this runner measures the peaks and the memory
 * bandwidth, times every case (each group's cases round-robin, so ratios come from the same
 * minutes), then prints the table, writes latest.json (bench/results.schema.json), the charts
 * (latest.svg, latest.html) and, with --compare, the change against an earlier run.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { cpuInfo, getThreads, measurePeak, peakKinds, setIsa, setThreads } from '../lib/index.js';
import { loaded, packageRoot } from '../lib/native.js';
import { machine } from './machine.js';
import { fmtDuration, Progress, summarize, timeRound } from './measure.mjs';
import { loadOrt } from './ort.js';
import { compare, printTable, writeReport } from './report.mjs';
import { declare, FULL_SHAPES, QUICK_SHAPES, releaseModels, releaseOperands, shapeName, SUITES, type Case, type Context, type Prepared, type Shape } from './suites.js';
import { PEERS, SCHEMA_VERSION, type BandwidthResult, type PeakResult, type PeerStatus, type Results, type Row } from './types.js';

const HELP = `usage: lowbit bench [options]        (npm run bench -- [options])

Measures lowbit's kernels on this CPU against float32 and the peers (onnxruntime-node, ggml,
OpenBLAS, a plain TypeScript loop), prints a table per shape and writes latest.json (schema:
bench/results.schema.json), latest.svg, latest.html (charts and table, offline) and latest.md.

  --quick              a short run (under a minute): 2 shapes, the best ISA, short timings
  --suite NAME[,NAME]  suites to run (repeatable): ${SUITES.map((s) => s.name).join(', ')}
                       (default: all; 'model' is the Llama-2-7B layer)
  --shape MxNxK        a product shape (repeatable); default: SPEC §7's shapes and 256x256x256
  --isa NAME[,NAME]    lowbit ISAs for the 1-thread rows (default: every usable one; --quick: the best)
  --threads N[,N]      thread counts (default: 1 and all ${os.availableParallelism()})
  --time MS            time per case, split over the rounds (default 300; --quick 60)
  --rounds N           interleaved rounds per group (default 3; --quick 2)
  --no-ort             skip onnxruntime-node
  --no-ggml            skip ggml (otherwise built once into build/ggml by scripts/ggml-peer.mjs:
                       llama.cpp's source from the npm package node-llama-cpp, about 2 minutes)
  --json               print only the JSON on stdout (progress still on stderr)
  --out DIR            where latest.json / .svg / .html / .md go (default: bench/results in a
                       checkout, ./lowbit-bench-results otherwise)
  --no-charts          skip latest.svg / .html / .md
  --compare OLD.json   the change of every row against an earlier run
  --report FILE.json   only draw the SVG / HTML of a results file (also the native bench's)
  -h, --help           this text`;

interface Options {
  quick: boolean; suites: string[]; shapes: Shape[]; isas: string[] | null; threads: number[]; timeMs: number; rounds: number;
  ort: boolean; ggml: boolean; json: boolean; outDir: string; charts: boolean; compare: string | null; report: string | null;
}

function list(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

function defaultOutDir(): string {
  const root = packageRoot();
  // A checkout has the bench's sources; an installed package only its compiled form.
  return fs.existsSync(path.join(root, 'bench', 'index.mts')) ? path.join(root, 'bench', 'results') : path.resolve('lowbit-bench-results');
}

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false }, suite: { type: 'string', multiple: true }, shape: { type: 'string', multiple: true },
      isa: { type: 'string', multiple: true }, threads: { type: 'string', multiple: true }, time: { type: 'string' }, rounds: { type: 'string' },
      'no-ort': { type: 'boolean', default: false }, 'no-ggml': { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, out: { type: 'string' },
      'no-charts': { type: 'boolean', default: false }, compare: { type: 'string' }, report: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick === true;
  const known = SUITES.map((s) => s.name);
  const suites = list(values.suite);
  for (const s of suites) if (!known.includes(s)) throw new RangeError(`--suite: unknown suite "${s}"; known: ${known.join(', ')}`);
  const shapes = list(values.shape).map((s) => {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(s);
    if (!m || [m[1], m[2], m[3]].some((d) => Number(d) < 1)) throw new RangeError(`--shape: "${s}" is not MxNxK (positive integers)`);
    return { M: Number(m[1]), N: Number(m[2]), K: Number(m[3]) };
  });
  const all = os.availableParallelism();
  const threads = list(values.threads).map((t) => {
    const n = Number(t);
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--threads: "${t}" is not a positive integer`);
    return n;
  });
  const num = (name: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!(n > 0)) throw new RangeError(`--${name}: "${v}" is not a positive number`);
    return n;
  };
  const isas = list(values.isa);
  return {
    quick, suites: suites.length ? suites : known, shapes: shapes.length ? shapes : [...(quick ? QUICK_SHAPES : FULL_SHAPES)],
    isas: isas.length ? isas : null, threads: [...new Set(threads.length ? threads : [1, all])].sort((a, b) => a - b),
    timeMs: num('time', values.time, quick ? 60 : 300), rounds: Math.round(num('rounds', values.rounds, quick ? 2 : 3)),
    ort: values['no-ort'] !== true, ggml: values['no-ggml'] !== true, json: values.json === true, outDir: values.out ? path.resolve(values.out) : defaultOutDir(),
    charts: values['no-charts'] !== true, compare: values.compare ?? null, report: values.report ?? null,
  };
}

// ---- yardsticks: peaks and bandwidth ----

function peaks(quick: boolean, progress: Progress): PeakResult[] {
  if (!loaded.binding) { progress.note('peak loops skipped: they need the native addon'); return []; }
  const out: PeakResult[] = [];
  for (const kind of peakKinds()) {
    progress.status(`peak loop ${kind}`);
    out.push({ kind, threads: 1, gops: measurePeak(kind, { minSeconds: quick ? 0.05 : 0.3 }) / 1e9 });
  }
  return out;
}

/**
 * Buffer sizes of the read-bandwidth curve: inside the caches (past a core's L2) up to one well
 * past the last-level cache. A row's memory roof is the bandwidth measured at the largest size
 * not above its working set (the smallest size for smaller sets): an upper bound, since a
 * bigger buffer reads no faster. So a product whose weights stay in L3 between calls is held to
 * the L3's rate, not DRAM's. Sizes are measured, not taken from the cache list: a VM may report
 * the whole package's L3.
 */
const CACHE_SIZES = [8 << 20, 16 << 20, 32 << 20, 128 << 20];

function bandwidths(quick: boolean, threads: readonly number[], progress: Progress): BandwidthResult[] {
  const n = loaded.binding;
  if (!n || typeof n.readBandwidth !== 'function') { progress.note('bandwidth skipped: the native addon is missing or predates readBandwidth'); return []; }
  const memBytes = (quick ? 256 : 1024) << 20;
  const out: BandwidthResult[] = [];
  for (const bytes of [...CACHE_SIZES, memBytes]) {
    const level = bytes === memBytes ? 'memory' : 'cache';
    for (const t of [...new Set([1, Math.max(...threads)])]) {
      progress.status(`read bandwidth: ${bytes >> 20} MiB on ${t} thread${t > 1 ? 's' : ''}`);
      out.push({ level, threads: t, bytes, gbps: n.readBandwidth(bytes, t, quick ? 0.1 : 0.3) / 1e9 });
    }
  }
  return out;
}

// ---- timing ----

const LOWBIT_ISAS = new Set(cpuInfo().isas);

async function timeGroups(cases: readonly Case[], o: Options, progress: Progress, onSkip: (id: string, reason: string) => void): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>();
  const groups = [...new Set(cases.map((c) => c.group))];
  const threadsBefore = getThreads(), isaBefore = cpuInfo().isa;
  for (const g of groups) {
    const inGroup = cases.filter((c) => c.group === g);
    const kept = new Map<string, Prepared>();
    const failed = new Set<string>();
    try {
      for (let round = 0; round < o.rounds; round++) {
        for (const c of inGroup) {
          if (failed.has(c.id)) { progress.finish(); continue; }
          progress.step(c.suite, `${c.kernel} ${c.isa} x${c.threads} ${c.shape}${o.rounds > 1 ? ` (round ${round + 1}/${o.rounds})` : ''}`);
          if (loaded.binding) {
            if (LOWBIT_ISAS.has(c.isa)) setIsa(c.isa); else setIsa(isaBefore);
            setThreads(c.peer ? threadsBefore : c.threads);
          }
          let p: Prepared | undefined = kept.get(c.id);
          try {
            if (!p) { p = await c.prepare(); if (!c.perRound) kept.set(c.id, p); }
            // At least 4 samples a row however slow its calls: 2 per round from 2 rounds on.
            const s = await timeRound(c.id, p.run, o.timeMs / o.rounds, Math.max(2, Math.ceil(4 / o.rounds)));
            samples.set(c.id, [...(samples.get(c.id) ?? []), ...s]);
          } catch (e) {
            // One case failing (a peer's session, memory) skips that row, not the bench.
            failed.add(c.id);
            samples.delete(c.id);
            onSkip(c.id, `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
          } finally {
            if (p && c.perRound) await p.dispose();
          }
          progress.finish();
        }
      }
    } finally {
      for (const p of kept.values()) await p.dispose();
      releaseOperands();
      releaseModels();
    }
  }
  if (loaded.binding) { setIsa(isaBefore); setThreads(threadsBefore); }
  return samples;
}

// ---- rows: figures, roofs, ratios ----

function buildRows(cases: readonly Case[], samples: ReadonlyMap<string, number[]>, pk: readonly PeakResult[], bw: readonly BandwidthResult[], bestIsa: string): Row[] {
  const rows: Row[] = [];
  for (const c of cases) {
    const s = samples.get(c.id);
    if (!s) continue;
    // Rows of batched calls are per call.
    const t = summarize(c.batch ? s.map((v) => v / c.batch!) : s);
    const perSec = 1000 / t.medianMs;
    const gops = c.unit === 'GOPS' ? c.ops * perSec / 1e9 : null;
    const gbps = c.unit === 'GB/s' ? c.bytes * perSec / 1e9 : null;
    const intensity = c.ops > 0 && c.bytes > 0 ? c.ops / c.bytes : null;
    const row: Row = {
      id: c.id, suite: c.suite, kernel: c.kernel, isa: c.isa, threads: c.threads, shape: c.shape,
      M: c.dims?.M ?? null, N: c.dims?.N ?? null, K: c.dims?.K ?? null, unit: c.unit,
      medianMs: t.medianMs, p10Ms: t.p10Ms, p90Ms: t.p90Ms, samples: t.samples, spread: (t.p90Ms - t.p10Ms) / t.medianMs,
      gops, gbps, ops: c.ops, bytes: c.bytes, intensity, roof: null, ofRoof: null,
      speedupVsFloat32: null, vsOnnxruntimeFloat32: null, vsOnnxruntimeInt8: null, vsOnnxruntimeNBits: null, vsOnnxruntimeNBitsAcc0: null, vsGgml: null, vsOpenblas: null, vsPlainJs: null,
      peer: c.peer,
    };
    // The roof: compute (the peak of the row's sequence x threads) or memory (intensity x the
    // read bandwidth of the level its bytes fit in), whichever is lower.
    // The bandwidth measured at the largest buffer not above the working set (the smallest
    // buffer for smaller sets), on the row's thread count (else the most threads measured).
    // A bigger buffer reads no faster, so a noisy dip is raised to the best larger buffer.
    const bwOf = (bytes: number): BandwidthResult | undefined => {
      const sizes = [...new Set(bw.map((b) => b.bytes))].sort((a, b) => a - b);
      const size = [...sizes].reverse().find((z) => z <= bytes) ?? sizes[0]!;
      const threadsAt = bw.some((b) => b.threads === c.threads) ? c.threads : Math.max(...bw.map((b) => b.threads));
      const candidates = bw.filter((b) => b.threads === threadsAt && b.bytes >= size);
      return candidates.reduce<BandwidthResult | undefined>((best, b) => (!best || b.gbps > best.gbps ? b : best), undefined);
    };
    const mem = bwOf(c.model ? c.bytes * c.model.copies : c.bytes);
    const peak = c.peakKind ? pk.find((p) => p.kind === c.peakKind) : undefined;
    if (c.unit === 'GB/s') {
      if (mem) row.roof = { bound: 'memory', name: `read ${mem.bytes >> 20} MiB x${mem.threads}`, value: mem.gbps };
    } else {
      const compute = peak ? peak.gops * c.threads : Infinity;
      const memory = mem && intensity ? intensity * mem.gbps : Infinity;
      if (compute <= memory && peak) row.roof = { bound: 'compute', name: `${peak.kind} x${c.threads}`, value: compute };
      else if (mem && Number.isFinite(memory)) row.roof = { bound: 'memory', name: `read ${mem.bytes >> 20} MiB x${mem.threads}`, value: memory };
    }
    if (row.roof) row.ofRoof = (gops ?? gbps ?? 0) / row.roof.value;
    if (c.model) {
      const memAll = bw.filter((b) => b.level === 'memory').sort((a, b) => b.threads - a.threads)[0];
      const weightGBps = c.model.weightBytes * perSec / 1e9;
      row.model = {
        weightBytes: c.model.weightBytes, weightGBps, ofBandwidth: memAll ? weightGBps / memAll.gbps : null,
        tokensPerSecond: c.model.tokensPerCall * perSec / 32, copies: c.model.copies,
      };
    }
    rows.push(row);
  }
  // Ratios: the other row's time over this row's, both from this run.
  const find = (pred: (r: Row) => boolean): Row | undefined => rows.find(pred);
  for (const r of rows) {
    if (r.unit !== 'GOPS') continue;
    const f32 = r.suite === 'model'
      ? find((o) => o.kernel === 'layer_f32' && o.shape === r.shape)
      : find((o) => o.kernel === 'sgemm_f32' && o.shape === r.shape && o.threads === r.threads && o.isa === (r.peer ? bestIsa : r.isa));
    if (f32 && f32 !== r) r.speedupVsFloat32 = f32.medianMs / r.medianMs;
    if (r.peer || r.suite === 'model') continue;
    for (const p of PEERS) {
      const o = rows.filter((x) => (p.kernels as readonly string[]).includes(x.kernel) && x.shape === r.shape && x.threads === r.threads)
        .reduce<Row | undefined>((best, x) => (!best || x.medianMs < best.medianMs ? x : best), undefined);
      if (o) r[p.field] = o.medianMs / r.medianMs;
    }
  }
  return rows;
}

/**
 * The ggml peer: built (once) by scripts/ggml-peer.mjs, whose progress goes to stderr, then
 * loaded by the addon. Its source string, or why its rows are skipped.
 */
function loadGgml(o: Options): { source: string } | { skipped: string } {
  const n = loaded.binding;
  if (!o.suites.includes('ggml')) return { skipped: 'the ggml suite is not selected' };
  if (!o.ggml) return { skipped: '--no-ggml' };
  if (!n) return { skipped: 'the native addon is not loaded' };
  if (typeof n.ggmlPeerLoad !== 'function') return { skipped: 'the native addon predates the ggml loader (npm rebuild lowbit)' };
  const script = path.join(packageRoot(), 'scripts', 'ggml-peer.mjs');
  if (!fs.existsSync(script)) return { skipped: 'the ggml peer builds from a checkout of lowbit (scripts/ggml-peer.mjs)' };
  const built = spawnSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) return { skipped: `building the ggml peer failed (scripts/ggml-peer.mjs exited ${built.status}; its reason is printed above the table)` };
  const why = n.ggmlPeerLoad(built.stdout.trim());
  return why === null ? { source: n.ggmlPeerSource!() } : { skipped: `the ggml peer did not load: ${why}` };
}

function peerStatus(ort: { version: string } | null, ortSkipped: string | null, openblasSkipped: string | null,
  ggml: { source: string } | { skipped: string }): PeerStatus[] {
  return [
    { name: 'onnxruntime-node', available: ort !== null, version: ort?.version ?? null, reason: ortSkipped },
    { name: 'ggml', available: 'source' in ggml, version: 'source' in ggml ? ggml.source : null, reason: 'skipped' in ggml ? ggml.skipped : null },
    { name: 'OpenBLAS', available: openblasSkipped === null, version: null, reason: openblasSkipped },
    { name: 'plain TypeScript loop', available: true, version: null, reason: null },
  ];
}

async function main(): Promise<number> {
  const start = Date.now();
  let o: Options | null;
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`lowbit bench: ${e instanceof Error ? e.message : String(e)}\n(lowbit bench --help lists the options)\n`);
    return 2;
  }
  if (!o) { process.stdout.write(HELP + '\n'); return 0; }
  if (o.report) {
    const results = JSON.parse(fs.readFileSync(o.report, 'utf8')) as Results;
    const dir = path.dirname(path.resolve(o.report)), base = path.basename(o.report, '.json');
    const written = await writeReport(results, dir, base);
    process.stdout.write(written.length ? `wrote ${written.join(', ')}\n` : '');
    return written.length ? 0 : 1;
  }
  const progress = new Progress(0, false);
  const info = cpuInfo(), native = loaded.binding;
  const usable = native ? info.isas : ['scalar'];
  if (o.isas) for (const i of o.isas) if (!usable.includes(i)) { process.stderr.write(`lowbit bench: --isa ${i} is not usable here; usable: ${usable.join(', ')}\n`); return 2; }
  const isas = o.isas ? usable.filter((i) => o!.isas!.includes(i)) : o.quick ? [usable[usable.length - 1]!] : usable;
  // The TS fallback runs on the calling thread only: rows on more threads would repeat it.
  if (!native) o.threads = [1];
  const m = machine();
  progress.note(`lowbit bench on ${m.cpu} (${m.arch}, ${m.cores} threads, backend ${m.backend}, ISAs ${usable.join(', ')})`);

  const wantsOrt = o.suites.includes('ort');
  const ort = wantsOrt && o.ort ? loadOrt() : null;
  const ortSkipped = !o.ort ? '--no-ort' : ort && 'error' in ort ? `onnxruntime-node did not load: ${ort.error}` : null;
  const openblasSkipped = !native ? 'the native addon is not loaded'
    : typeof native.openblasMissing !== 'function' ? 'the native addon predates the OpenBLAS loader (npm rebuild lowbit)'
    : native.openblasMissing();
  const ggml = loadGgml(o);
  const ctx: Context = {
    native, isas, threads: o.threads, shapes: o.shapes, quick: o.quick,
    ort: ort && !('error' in ort) ? ort : null, ortSkipped, openblasSkipped, ggmlSkipped: 'skipped' in ggml ? ggml.skipped : null, suites: o.suites,
  };
  const { cases, skipped } = declare(ctx, o.suites);

  const pk = peaks(o.quick, progress);
  const bw = bandwidths(o.quick, o.threads, progress);
  const run = new Progress(cases.length * o.rounds, false);
  const samples = await timeGroups(cases, o, run, (id, reason) => skipped.push({ id, reason }));
  run.end();
  const rows = buildRows(cases, samples, pk, bw, isas[isas.length - 1]!);

  const results: Results = {
    schemaVersion: SCHEMA_VERSION, generator: `lowbit bench (Node ${process.version})`, date: new Date().toISOString(),
    options: { quick: o.quick, timeMs: o.timeMs, rounds: o.rounds, suites: o.suites, shapes: o.shapes.map(shapeName), threads: o.threads, isas },
    machine: m, peaks: pk, bandwidths: bw, peers: peerStatus(ctx.ort, ortSkipped, openblasSkipped, ggml), rows, skipped,
    elapsedSeconds: 0,
  };
  fs.mkdirSync(o.outDir, { recursive: true });
  const jsonPath = path.join(o.outDir, 'latest.json');
  results.elapsedSeconds = (Date.now() - start) / 1000;
  fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  const written = [jsonPath];
  if (o.charts) written.push(...await writeReport(results, o.outDir, 'latest', (msg) => progress.note(msg)));
  if (o.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  } else {
    printTable(results, (s) => process.stdout.write(s));
    if (o.compare) compare(JSON.parse(fs.readFileSync(o.compare, 'utf8')) as Results, results, (s) => process.stdout.write(s));
    process.stdout.write(`\n${rows.length} rows in ${fmtDuration(results.elapsedSeconds)}; wrote ${written.map((w) => path.relative(process.cwd(), w) || w).join(', ')}\n`);
  }
  if (o.json && o.compare) compare(JSON.parse(fs.readFileSync(o.compare, 'utf8')) as Results, results, (s) => process.stderr.write(s));
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
