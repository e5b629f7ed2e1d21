/**
 * The benchmark as a product: a tiny real run (one small shape, --quick) writes latest.json that
 * bench/results.schema.json accepts, holds every row its suites declare (or says why not), prints
 * only JSON with --json, and draws the charts; --compare, --report and the option errors work.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import Ajv from 'ajv';

import { loaded } from '../lib/native';
import { declare, type Context } from '../bench/suites';
import type { Results } from '../bench/types';

const root = path.resolve(__dirname, '..');
const bench = path.join(root, 'dist', 'bench', 'index.mjs');
const SUITES = 'matmulInteger,int8,lowbit,float32,ort';
const nativeOnly = loaded.binding ? describe : describe.skip;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bench, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, LOWBIT_ISA: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function validator(): (data: unknown) => string | null {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'bench', 'results.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/ } });
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? null : ajv.errorsText(validate.errors));
}

nativeOnly('a tiny bench run', () => {
  let dir = '';
  let results: Results;
  let stdout = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-bench-'));
    const r = run(['--quick', '--shape', '4x256x256', '--suite', SUITES, '--time', '20', '--json', '--out', dir]);
    if (r.status !== 0) throw new Error(`bench exited ${r.status}: ${r.stderr}`);
    stdout = r.stdout;
    results = JSON.parse(fs.readFileSync(path.join(dir, 'latest.json'), 'utf8')) as Results;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('--json prints only the JSON on stdout, the same as latest.json', () => {
    expect(JSON.parse(stdout)).toEqual(results);
  });

  test('latest.json follows bench/results.schema.json', () => {
    expect(validator()(results)).toBeNull();
    expect(results.rows.length).toBeGreaterThan(10);
  });

  test('the schema rejects a row that lost a field or has a wrong unit', () => {
    const v = validator();
    const broken = structuredClone(results) as unknown as { rows: Record<string, unknown>[] };
    delete broken.rows[0]!.speedupVsFloat32;
    expect(v(broken)).toMatch(/speedupVsFloat32/);
    const badUnit = structuredClone(results) as unknown as { rows: Record<string, unknown>[] };
    badUnit.rows[0]!.unit = 'FLOPS';
    expect(v(badUnit)).not.toBeNull();
  });

  test('every row the suites declare is measured, or skipped with its reason', () => {
    const ortPeer = results.peers.find((p) => p.name === 'onnxruntime-node')!;
    const blas = results.peers.find((p) => p.name === 'OpenBLAS')!;
    const ctx: Context = {
      native: loaded.binding, isas: results.options.isas, threads: results.options.threads, quick: true,
      shapes: results.options.shapes.map((s) => { const [M, N, K] = s.split('x').map(Number); return { M: M!, N: N!, K: K! }; }),
      ort: null, ortSkipped: ortPeer.available ? null : ortPeer.reason, openblasSkipped: blas.available ? null : blas.reason, ggmlSkipped: null, suites: SUITES.split(','),
    };
    const declared = declare(ctx, SUITES.split(','));
    const measured = new Set(results.rows.map((r) => r.id));
    const skipped = new Map(results.skipped.map((s) => [s.id, s.reason]));
    for (const c of declared.cases) expect(measured.has(c.id) || skipped.has(c.id) ? c.id : `missing ${c.id}`).toBe(c.id);
    for (const s of declared.skipped) expect(skipped.get(s.id)).toBe(s.reason);
    // Run-time failures are allowed only with a reason; here none is expected.
    expect(results.rows.length).toBe(declared.cases.length);
    expect(new Set(results.rows.map((r) => r.id)).size).toBe(results.rows.length);
  });

  test('ratios come from rows of the same run', () => {
    const byId = new Map(results.rows.map((r) => [r.id, r]));
    const w8 = results.rows.find((r) => r.kernel === 'matmul_w8a8' && r.threads === 1)!;
    const f32 = byId.get(`float32/sgemm_f32/${w8.isa}/x1/4x256x256`)!;
    expect(w8.speedupVsFloat32).toBeCloseTo(f32.medianMs / w8.medianMs, 10);
    const js = byId.get('float32/js_f32_loop/js/x1/4x256x256')!;
    expect(w8.vsPlainJs).toBeCloseTo(js.medianMs / w8.medianMs, 10);
    if (results.peers.find((p) => p.name === 'onnxruntime-node')!.available) {
      const ort = byId.get('ort/ort_int8_dynamic/ort-cpu/x1/4x256x256')!;
      expect(w8.vsOnnxruntimeInt8).toBeCloseTo(ort.medianMs / w8.medianMs, 10);
    } else {
      expect(w8.vsOnnxruntimeInt8).toBeNull();
    }
    for (const r of results.rows) {
      expect(r.p10Ms).toBeLessThanOrEqual(r.medianMs);
      expect(r.medianMs).toBeLessThanOrEqual(r.p90Ms);
      if (r.unit === 'GOPS') expect(r.gops).toBeCloseTo(r.ops / r.medianMs / 1e6, 6);
    }
  });

  test('peaks and bandwidths are measured, and every lowbit product row has a roof', () => {
    expect(results.peaks.length).toBeGreaterThan(0);
    expect(results.bandwidths.map((b) => b.level).sort()).toEqual(expect.arrayContaining(['cache', 'memory']));
    for (const r of results.rows.filter((x) => !x.peer && x.isa !== 'scalar')) {
      expect(r.roof).not.toBeNull();
      expect(r.ofRoof).toBeGreaterThan(0);
    }
  });

  test('the charts: an SVG with labelled axes, an HTML page embedding it and the table', () => {
    const svg = fs.readFileSync(path.join(dir, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/arithmetic intensity/);
    expect(svg).toMatch(/speed-up \(x, log scale\)/);
    const html = fs.readFileSync(path.join(dir, 'latest.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('matmul_w8a8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);  // offline: no scripts, nothing fetched
  });

  test('--compare joins the rows by id; --report redraws any results file', () => {
    const copy = path.join(dir, 'old.json');
    fs.copyFileSync(path.join(dir, 'latest.json'), copy);
    const r = run(['--quick', '--shape', '4x256x256', '--suite', 'int8', '--no-ort', '--time', '10', '--no-charts', '--out', path.join(dir, 'again'), '--compare', copy]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/compared with/);
    expect(r.stdout).toMatch(/int8\/matmul_w8a8\/\S+\/x1\/4x256x256\s+[\d.]+\s+[\d.]+\s+[\d.]+x/);
    const rep = run(['--report', copy]);
    expect(rep.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'old.svg'), 'utf8')).toMatch(/^<svg/);
  });
});

test('--help lists the options; a bad option is an error that names it', () => {
  const h = run(['--help']);
  expect(h.status).toBe(0);
  for (const opt of ['--quick', '--suite', '--shape', '--isa', '--threads', '--json', '--compare', '--report', '--no-ort']) expect(h.stdout).toContain(opt);
  const bad = run(['--shape', '4x4']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--shape: "4x4" is not MxNxK/);
  const unknown = run(['--suite', 'nope']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/unknown suite "nope"/);
});

// The C bench writes the same schema (built by npm run test:native / npm test's CMake step;
// skipped until that binary exists).
const nativeBench = path.join(root, 'build', 'native', 'lowbit_bench');
(fs.existsSync(nativeBench) ? test : test.skip)('lowbit_bench --json writes rows the schema accepts, and --report draws them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-native-bench-'));
  try {
    const file = path.join(dir, 'native.json');
    // Unset, not empty: the C bench reads any LOWBIT_ISA as the one ISA to run.
    const env = { ...process.env };
    delete env.LOWBIT_ISA;
    const r = spawnSync(nativeBench, ['--shape', '4x256x256', '--no-scalar', '--min-ms', '5', '--json', file], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    const results = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
    expect(validator()(results)).toBeNull();
    expect(results.machine.node).toBeNull();
    const kernels = new Set(results.rows.map((x) => x.kernel));
    for (const k of ['matmulInteger', 'matmul_w8a8', 'matmul_w4a8_g32', 'sgemm_f32']) expect(kernels.has(k)).toBe(true);
    const w8 = results.rows.find((x) => x.kernel === 'matmul_w8a8')!;
    const f32 = results.rows.find((x) => x.kernel === 'sgemm_f32' && x.isa === w8.isa)!;
    expect(w8.speedupVsFloat32).toBeCloseTo(f32.medianMs / w8.medianMs, 3);
    const rep = run(['--report', file]);
    expect(rep.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'native.svg'), 'utf8')).toMatch(/^<svg/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The addon's bench support (native/src/bench_support.cpp).
(loaded.binding ? test : test.skip)('readBandwidth measures a buffer and refuses bad sizes; OpenBLAS is found or says why', () => {
  const n = loaded.binding!;
  const bps = n.readBandwidth!(1 << 20, 1, 0);
  expect(bps).toBeGreaterThan(1e8);  // 1 MiB from cache: far above 0.1 GB/s on any machine
  expect(() => n.readBandwidth!(100, 1, 0)).toThrow(/readBandwidth/);
  expect(() => n.readBandwidth!(1 << 20, 1, -1)).toThrow(/readBandwidth/);
  const missing = n.openblasMissing!();
  const M = 3, N = 5, K = 7;
  const a = Float32Array.from({ length: M * K }, (_, i) => (i % 5) - 2), b = Float32Array.from({ length: N * K }, (_, i) => (i % 3) - 1);
  const out = new Float32Array(M * N), ref = new Float32Array(M * N);
  if (missing === null) {
    n.openblasSgemmNT!(a, b, M, N, K, out, 1);
    n.sgemmNT(a, b, M, N, K, ref);
    expect(Array.from(out)).toEqual(Array.from(ref));  // small integers: exact in float32 either way
  } else {
    expect(missing).toMatch(/libopenblas/);
    expect(() => n.openblasSgemmNT!(a, b, M, N, K, out, 1)).toThrow(/libopenblas/);
  }
  expect(() => n.openblasSgemmNT!(a, b, M, N, K + 1, out, 1)).toThrow(/sizes do not match/);
});
