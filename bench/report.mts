/**
 * What a run shows: the table (stdout), --compare against an earlier run, and the charts:
 * vega-lite specs rendered to SVG by vega's headless view (no canvas, no browser), one SVG
 * and one self-contained HTML page (charts inline, the table, the machine; opens offline).
 * vega / vega-lite are loaded on demand: where they are not installed the charts are skipped
 * with the reason, never the run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { PEERS, type PeerField, type Results, type Row } from './types.js';

type Write = (s: string) => void;

// ---- the table ----

const SHORT: Readonly<Record<PeerField, string>> = {
  vsOnnxruntimeFloat32: 'vs ort f32', vsOnnxruntimeInt8: 'vs ort i8', vsOnnxruntimeNBits: 'vs NBits4',
  vsOnnxruntimeNBitsAcc0: 'vs NBits0', vsGgml: 'vs ggml', vsOpenblas: 'vs BLAS', vsPlainJs: 'vs JS',
};
const NOISY = 0.1;

// `== null`: results of the native runner and of older runs lack the optional vsGgml.
const x = (v: number | null | undefined, digits = 2): string => (v == null ? '-' : `${v.toFixed(digits)}x`);
const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`);
const rate = (r: Row): string => { const v = r.gops ?? r.gbps ?? 0; return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); };
const ms = (v: number): string => (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v >= 0.01 ? v.toFixed(3) : v.toPrecision(2));

/** Rows grouped by shape, in run order. */
function byShape(rows: readonly Row[]): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rows) m.set(r.shape, [...(m.get(r.shape) ?? []), r]);
  return m;
}

function peerColumns(rows: readonly Row[]): PeerField[] {
  return PEERS.map((p) => p.field).filter((f) => rows.some((r) => r[f] != null));
}

interface Column { head: string; width: number; left?: boolean; cell(r: Row): string }

function columns(rows: readonly Row[]): Column[] {
  const cols: Column[] = [
    { head: 'kernel', width: 26, left: true, cell: (r) => r.kernel },
    { head: 'isa', width: 11, left: true, cell: (r) => r.isa },
    { head: 'thr', width: 3, cell: (r) => String(r.threads) },
    { head: 'median ms', width: 10, cell: (r) => ms(r.medianMs) },
    { head: 'p10-p90', width: 8, cell: (r) => `${(r.spread * 100).toFixed(0)}%${r.spread > NOISY ? '!' : ''}` },
    { head: 'GOPS|GB/s', width: 9, cell: (r) => `${rate(r)}${r.unit === 'GB/s' ? ' B' : ''}` },
    { head: 'of roof', width: 8, cell: (r) => (r.roof ? `${pct(r.ofRoof)}${r.roof.bound === 'memory' ? 'm' : 'c'}` : '-') },
    { head: 'vs f32', width: 7, cell: (r) => x(r.speedupVsFloat32) },
    ...peerColumns(rows).map((f): Column => ({ head: SHORT[f], width: Math.max(8, SHORT[f].length), cell: (r) => x(r[f]) })),
  ];
  if (rows.some((r) => r.model))
    cols.push({ head: 'model: weights GB/s, of mem, tok/s (32 layers)', width: 10, left: true,
      cell: (r) => (r.model ? `${r.model.weightGBps.toFixed(1)} GB/s, ${pct(r.model.ofBandwidth)}, ${r.model.tokensPerSecond.toFixed(r.model.tokensPerSecond < 10 ? 2 : 1)} tok/s` : '') });
  return cols;
}

export function printTable(res: Results, write: Write): void {
  const m = res.machine;
  write(`\nlowbit ${m.lowbitVersion} on ${m.cpu} (${m.arch}, ${m.cores} threads, ${m.os}); Node ${m.node ?? '-'}; backend ${m.backend}, default ISA ${m.isa}\n`);
  if (res.peaks.length) write(`peaks, 1 thread (GOPS; GFLOPS for float kinds): ${res.peaks.map((p) => `${p.kind} ${p.gops.toFixed(1)}`).join(', ')}\n`);
  if (res.bandwidths.length) write(`read bandwidth (GB/s): ${res.bandwidths.map((b) => `${b.level} ${b.bytes >> 20} MiB x${b.threads} ${b.gbps.toFixed(1)}`).join(', ')}\n`);
  for (const p of res.peers) write(`peer ${p.name}: ${p.available ? `measured${p.version ? ` (${p.version})` : ''}` : `skipped (${p.reason})`}\n`);
  for (const [shape, rows] of byShape(res.rows)) {
    const cols = columns(rows);
    write(`\n== ${shape} ${'='.repeat(Math.max(0, 60 - shape.length))}\n`);
    write(cols.map((c) => (c.left ? c.head.padEnd(c.width) : c.head.padStart(c.width))).join(' ') + '\n');
    for (const r of rows) write(cols.map((c) => (c.left ? c.cell(r).padEnd(c.width) : c.cell(r).padStart(c.width))).join(' ') + '\n');
  }
  write(`\nGOPS = 2·M·N·K / s; "B" marks GB/s rows. of roof: the row's rate over the lower of its compute peak ("c": the\n` +
    `peak loop of its instruction sequence x threads) and intensity x read bandwidth ("m"). vs f32: lowbit's float32\n` +
    `GEMM on the same shape, ISA and threads, its time over the row's; vs <peer>: the peer's time over the row's, same\n` +
    `shape and threads, same run. "!": p10-p90 spread over ${NOISY * 100}% of the median: a noisy row.\n`);
  const noisy = res.rows.filter((r) => r.spread > NOISY).length;
  if (noisy) write(`${noisy} of ${res.rows.length} rows are noisy (spread > ${NOISY * 100}%).\n`);
  if (res.skipped.length) {
    write(`\nskipped (${res.skipped.length}):\n`);
    const reasons = new Map<string, string[]>();
    for (const s of res.skipped) reasons.set(s.reason, [...(reasons.get(s.reason) ?? []), s.id]);
    for (const [reason, ids] of reasons) write(`  ${reason}: ${ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', ')}\n`);
  }
}

// ---- --compare ----

/** Per row (joined on id): old and new median, the speed change; flagged where the p10-p90 ranges do not overlap. */
export function compare(old: Results, cur: Results, write: Write): void {
  const before = new Map(old.rows.map((r) => [r.id, r]));
  write(`\ncompared with ${old.date} (${old.machine.cpu}): speed = old time / new time; "*": the two runs' p10-p90 ranges do not overlap\n`);
  write(`${'row'.padEnd(64)} ${'old ms'.padStart(10)} ${'new ms'.padStart(10)} ${'speed'.padStart(8)}\n`);
  let changed = 0, joined = 0;
  for (const r of cur.rows) {
    const o = before.get(r.id);
    if (!o) continue;
    joined++;
    const sig = r.p90Ms < o.p10Ms || r.p10Ms > o.p90Ms;
    if (sig) changed++;
    write(`${r.id.padEnd(64)} ${ms(o.medianMs).padStart(10)} ${ms(r.medianMs).padStart(10)} ${x(o.medianMs / r.medianMs).padStart(8)}${sig ? ' *' : ''}\n`);
  }
  write(`${joined} rows in both runs, ${changed} changed beyond the spread; ${cur.rows.length - joined} new, ${old.rows.filter((r) => !cur.rows.some((c) => c.id === r.id)).length} gone\n`);
}

// ---- charts ----

interface VegaLite { compile(spec: object): { spec: object } }
interface VegaView { toSVG(): Promise<string>; finalize(): void }
interface Vega { View: new (runtime: object, opts: { renderer: 'none' }) => VegaView; parse(spec: object): object }

async function loadVega(): Promise<{ vega: Vega; vl: VegaLite } | { error: string }> {
  try {
    const vega = (await import('vega')) as unknown as Vega;
    const vl = (await import('vega-lite')) as unknown as VegaLite;
    return { vega, vl };
  } catch (e) {
    return { error: `vega / vega-lite are not installed (npm install vega vega-lite to draw the charts): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
}

const VERSUS_FLOAT32 = 'lowbit float32 (same ISA)';
/** The quantized products the speed-up chart shows (the table has every row). */
const HEADLINE = ['matmul_w8a8', 'matmul_w4a8_g32', 'matmul_w2a8_g32', 'matmul_nf4_g64_f32'];

/** The model layer: each format's speed-up over float32 and its tokens per second. */
function modelSpec(res: Results): object | null {
  const data = res.rows.filter((r) => r.model).map((r) => ({
    layer: r.kernel.replace('layer_', ''), size: r.shape.replace('llama2-7b layer, ', ''), ratio: r.speedupVsFloat32 ?? 1,
    label: `${(r.speedupVsFloat32 ?? 1).toFixed(2)}x, ${r.model!.tokensPerSecond.toFixed(r.model!.tokensPerSecond < 10 ? 2 : 1)} tok/s`,
  }));
  if (!data.length) return null;
  return {
    title: { text: 'One Llama-2-7B decoder layer, weights from memory: speed-up over float32, and tokens/s over 32 layers', anchor: 'start' },
    data: { values: data },
    facet: { column: { field: 'size', type: 'nominal', title: null, header: { labelFontWeight: 'bold' }, sort: [...new Set(data.map((d) => d.size))] } },
    spec: {
      width: 300, height: { step: 16 },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' }, encoding: {
          y: { field: 'layer', type: 'nominal', title: null, sort: null },
          x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'speed-up over float32 (x, log scale)' }, x2: { datum: 1 } } },
        { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: {
          y: { field: 'layer', type: 'nominal', sort: null }, x: { field: 'ratio', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    },
  };
}

/** Speed-up bars: each lowbit product row against lowbit float32 and each peer, per shape and thread count. */
function speedupSpec(res: Results): object | null {
  const labels = new Map<string, string>(PEERS.map((p) => [p.field, p.label]));
  const best = res.machine.isa;
  const data: { shape: string; threads: string; kernel: string; versus: string; ratio: number }[] = [];
  for (const r of res.rows) {
    if (r.peer || r.unit !== 'GOPS' || !HEADLINE.includes(r.kernel) || r.suite === 'overhead' || (r.isa !== best && r.isa !== res.options.isas[res.options.isas.length - 1])) continue;
    const put = (versus: string, v: number | null | undefined): void => { if (v != null) data.push({ shape: r.shape, threads: `${r.threads} thread${r.threads > 1 ? 's' : ''}`, kernel: r.kernel, versus, ratio: v }); };
    put(VERSUS_FLOAT32, r.speedupVsFloat32);
    for (const p of PEERS) put(labels.get(p.field)!, r[p.field]);
  }
  if (!data.length) return null;
  return {
    title: { text: 'Speed-up of lowbit\'s quantized products (time of the other / time of lowbit; right of 1 = lowbit faster)', anchor: 'start' },
    data: { values: data },
    facet: { row: { field: 'shape', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' }, sort: [...new Set(data.map((d) => d.shape))] },
      column: { field: 'threads', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } } },
    spec: {
      width: 380, height: { step: 8 },  // per bar (the step of the yOffset band)
      layer: [
        { mark: { type: 'bar' },
          encoding: {
            y: { field: 'kernel', type: 'nominal', title: null, sort: null },
            yOffset: { field: 'versus', type: 'nominal', sort: null },
            // Bars start at 1 (no change): a log axis has no zero.
            x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'speed-up (x, log scale)' },
            x2: { datum: 1 },
            color: { field: 'versus', type: 'nominal', title: 'lowbit versus', sort: null, legend: { orient: 'top', columns: 2, labelLimit: 400 } },
            tooltip: [{ field: 'kernel' }, { field: 'versus' }, { field: 'ratio', format: '.2f' }],
          } },
        { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
          encoding: {
            y: { field: 'kernel', type: 'nominal', sort: null }, yOffset: { field: 'versus', type: 'nominal', sort: null },
            x: { field: 'ratio', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.2~f' },
          } },
        { mark: { type: 'rule', color: '#333', strokeDash: [4, 3] }, encoding: { x: { datum: 1 } } },
      ],
    },
  };
}

/** Roofline: GOPS against ops per byte, every product row a point; the measured peaks and bandwidths as lines. */
function rooflineSpec(res: Results): object | null {
  const pts = res.rows.filter((r) => r.gops !== null && r.intensity !== null).map((r) => ({
    intensity: r.intensity!, gops: r.gops!, kernel: r.kernel, who: r.peer ? 'peer' : r.suite === 'model' ? 'lowbit (model layer)' : 'lowbit',
    threads: `${r.threads} thread${r.threads > 1 ? 's' : ''}`, id: r.id,
  }));
  if (!pts.length) return null;
  const T = Math.max(...res.rows.map((r) => r.threads), 1);
  const xmin = Math.min(...pts.map((p) => p.intensity)) / 2, xmax = Math.max(...pts.map((p) => p.intensity)) * 2;
  const lines: { name: string; kind: string; intensity: number; gops: number }[] = [];
  for (const p of res.peaks) for (const xv of [xmin, xmax]) lines.push({ name: `peak ${p.kind} x${T}`, kind: 'compute peak', intensity: xv, gops: p.gops * T });
  for (const b of res.bandwidths) if (b.threads === T || res.bandwidths.every((o) => o.threads !== T))
    for (const xv of [xmin, xmax]) lines.push({ name: `read ${b.level} (${b.bytes >> 20} MiB) x${b.threads}: ${b.gbps.toFixed(0)} GB/s`, kind: 'read bandwidth', intensity: xv, gops: b.gbps * xv });
  const ymax = Math.max(...pts.map((p) => p.gops), ...res.peaks.map((p) => p.gops * T)) * 1.5;
  const ymin = Math.min(...pts.map((p) => p.gops)) / 2;
  const clipped = lines.filter((l) => l.gops >= ymin / 4);
  return {
    title: { text: `Roofline: achieved GOPS against arithmetic intensity (ops per byte moved); lines at ${T} thread${T > 1 ? 's' : ''}`, anchor: 'start' },
    width: 820, height: 480,
    layer: [
      ...(clipped.length === 0 ? [] : [{ data: { values: clipped }, mark: { type: 'line', strokeWidth: 1.5, clip: true },
        encoding: {
          x: { field: 'intensity', type: 'quantitative', scale: { type: 'log', domain: [xmin, xmax] }, title: 'arithmetic intensity (operations per byte)' },
          y: { field: 'gops', type: 'quantitative', scale: { type: 'log', domain: [ymin, ymax] }, title: 'GOPS (2·M·N·K / s)' },
          color: { field: 'name', type: 'nominal', title: 'roofs (measured)', scale: { scheme: 'tableau20' }, legend: { orient: 'right', labelLimit: 640 } },
          strokeDash: { field: 'kind', type: 'nominal', title: 'roof', scale: { domain: ['compute peak', 'read bandwidth'], range: [[1, 0], [6, 3]] } },
        } }]),
      { data: { values: pts }, mark: { type: 'point', filled: true, size: 60, opacity: 0.85 },
        encoding: {
          x: { field: 'intensity', type: 'quantitative', scale: { type: 'log', domain: [xmin, xmax] }, title: 'arithmetic intensity (operations per byte)' },
          y: { field: 'gops', type: 'quantitative', scale: { type: 'log', domain: [ymin, ymax] }, title: 'GOPS (2·M·N·K / s)' },
          color: { field: 'kernel', type: 'nominal', title: 'kernel', scale: { scheme: 'category20' }, legend: { orient: 'right', columns: 1, symbolLimit: 40, labelLimit: 640 } },
          shape: { field: 'threads', type: 'nominal', title: 'threads' },
          tooltip: [{ field: 'id' }, { field: 'gops', format: '.1f' }, { field: 'intensity', format: '.2f' }],
        } },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function htmlTable(res: Results): string {
  const parts: string[] = [];
  for (const [shape, rows] of byShape(res.rows)) {
    const cols = columns(rows);
    parts.push(`<h3>${escapeHtml(shape)}</h3><table><thead><tr>${cols.map((c) => `<th>${escapeHtml(c.head)}</th>`).join('')}</tr></thead><tbody>` +
      rows.map((r) => `<tr${r.spread > NOISY ? ' class="noisy"' : ''}>${cols.map((c) => `<td${c.left ? ' class="l"' : ''}>${escapeHtml(c.cell(r))}</td>`).join('')}</tr>`).join('') +
      '</tbody></table>');
  }
  return parts.join('\n');
}

function html(res: Results, svg: string | null, note: string | null): string {
  const m = res.machine;
  let text = '';
  printTable(res, (s) => { text += s; });
  const legend = text.slice(text.indexOf('GOPS = 2'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lowbit bench: ${escapeHtml(m.cpu)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
table { border-collapse: collapse; margin: 4px 0 16px; font: 12px/1.3 ui-monospace, monospace; }
th, td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: right; white-space: nowrap; }
td.l, th:first-child { text-align: left; } tr.noisy td { background: #fff4e0; }
pre { font-size: 12px; white-space: pre-wrap; } .chart svg { max-width: 100%; height: auto; }
</style></head><body>
<h1>lowbit bench</h1>
<p><b>${escapeHtml(m.cpu)}</b> (${escapeHtml(m.arch)}, ${m.cores} threads, ${escapeHtml(m.os)}), Node ${escapeHtml(m.node ?? '-')}, lowbit ${escapeHtml(m.lowbitVersion)},
backend ${escapeHtml(m.backend)}, default ISA ${escapeHtml(m.isa)} (usable: ${escapeHtml(m.isas.join(', '))}); ${escapeHtml(res.date)}, ${escapeHtml(res.generator)}${res.options.quick ? ', --quick' : ''}.</p>
<p>Caches: ${escapeHtml(m.caches.map((c) => `L${c.level} ${c.type} ${c.bytes >= 1 << 20 ? `${(c.bytes / 2 ** 20).toFixed(0)} MiB` : `${c.bytes >> 10} KiB`}`).join(', ') || 'unknown')}.
Peaks (1 thread): ${escapeHtml(res.peaks.map((p) => `${p.kind} ${p.gops.toFixed(1)}`).join(', ') || 'not measured')}.
Read bandwidth: ${escapeHtml(res.bandwidths.map((b) => `${b.level} ${b.bytes >> 20} MiB x${b.threads}: ${b.gbps.toFixed(1)} GB/s`).join(', ') || 'not measured')}.</p>
<p>Peers: ${escapeHtml(res.peers.map((p) => `${p.name} ${p.available ? `measured${p.version ? ` ${p.version}` : ''}` : `skipped (${p.reason})`}`).join('; ') || 'none')}.</p>
<div class="chart">${svg ?? `<p>${escapeHtml(note ?? 'no charts')}</p>`}</div>
<h2>Table</h2>
${htmlTable(res)}
<pre>${escapeHtml(legend)}</pre>
</body></html>
`;
}

/**
 * A short Markdown summary (README's results section is one): per product shape and thread
 * count, the headline kernels and peers in GOPS on the default ISA, then the model layer.
 */
export function markdown(res: Results, svgName: string | null): string {
  const m = res.machine, isa = res.options.isas[res.options.isas.length - 1] ?? m.isa;
  const out: string[] = [];
  out.push(`Measured on **${m.cpu}** (${m.arch}, ${m.cores} threads, ${m.os}), lowbit ${m.lowbitVersion}, Node ${m.node ?? '-'}, ISA ${isa}, ` +
    `${res.date.slice(0, 10)}${res.options.quick ? ', --quick' : ''}; ${res.rows.length} rows in ${Math.round(res.elapsedSeconds)} s. ` +
    `Peaks (1 thread): ${res.peaks.filter((p) => /vfmadd|vpdpbusd|tdpbusd|sdot|fmla/.test(p.kind)).map((p) => `${p.kind} ${p.gops.toFixed(0)}`).join(', ') || '-'} G/s; ` +
    `read bandwidth ${res.bandwidths.filter((b) => b.level === 'memory').map((b) => `x${b.threads} ${b.gbps.toFixed(1)}`).join(', ') || '-'} GB/s.`);
  const cols: [string, string][] = [['sgemm_f32', 'float32 (lowbit)'], ['openblas_sgemm', 'OpenBLAS'], ['ort_fp32', 'ort float32'], ['js_f32_loop', 'plain JS'],
    ['matmul_w8a8', 'int8 w8a8'], ['ort_int8_dynamic', 'ort int8'], ['matmul_w4a8_g32', 'int4 g32'], ['ort_matmulnbits4_acc4', 'ort NBits acc 4'],
    ['ggml_q4_0', 'ggml Q4_0'], ['ggml_q4_K', 'ggml Q4_K'], ['matmul_nf4_g64_f32', 'nf4 g64']];
  const products = res.rows.filter((r) => r.unit === 'GOPS' && r.suite !== 'model' && r.suite !== 'overhead');
  const shapes = [...new Set(products.map((r) => r.shape))];
  const threads = [...new Set(products.map((r) => r.threads))].sort((a, b) => a - b);
  const present = cols.filter(([k]) => products.some((r) => r.kernel === k));
  if (shapes.length) {
    out.push('', `GOPS (2·M·N·K / s), median; in brackets the speed-up over lowbit's float32 on the same shape and threads:`, '');
    out.push(`| shape | threads | ${present.map(([, h]) => h).join(' | ')} |`, `| --- | --- |${present.map(() => ' --- |').join('')}`);
    for (const sh of shapes) for (const t of threads) {
      const cell = (k: string): string => {
        const r = products.find((x) => x.shape === sh && x.threads === t && x.kernel === k && (x.peer || x.isa === isa));
        if (!r) return '–';
        return `${r.gops!.toFixed(r.gops! < 10 ? 2 : 0)}${r.speedupVsFloat32 !== null ? ` (${r.speedupVsFloat32.toFixed(r.speedupVsFloat32 < 0.1 ? 3 : 1)}×)` : ''}${r.spread > NOISY ? '!' : ''}`;
      };
      if (present.some(([k]) => cell(k) !== '–')) out.push(`| ${sh} | ${t} | ${present.map(([k]) => cell(k)).join(' | ')} |`);
    }
  }
  const model = res.rows.filter((r) => r.model);
  if (model.length) {
    out.push('', 'One Llama-2-7B decoder layer (seven products), weights cycled from memory:', '',
      '| layer | threads | ms per layer | weights GB/s | of memory read bandwidth | tokens/s, 32 layers (M per call) | vs float32 |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of model) out.push(`| ${r.kernel}, ${r.shape.replace('llama2-7b layer, ', '')} | ${r.threads} | ${ms(r.medianMs)}${r.spread > NOISY ? '!' : ''} | ${r.model!.weightGBps.toFixed(1)} | ${pct(r.model!.ofBandwidth)} | ${r.model!.tokensPerSecond.toFixed(r.model!.tokensPerSecond < 10 ? 2 : 1)} | ${x(r.speedupVsFloat32)} |`);
  }
  const call = (k: string): Row | undefined => res.rows.find((r) => r.suite === 'overhead' && r.kernel === k);
  const lc = call('matmul_w8a8'), oc = call('ort_int8_dynamic');
  if (lc) out.push('', `Call overhead, a 1×64×64 product on 1 thread: lowbit \`matmul\` ${(lc.medianMs * 1e3).toFixed(2)} µs per call` +
    `${oc ? `, onnxruntime-node \`session.run\` (int8 graph) ${(oc.medianMs * 1e3).toFixed(2)} µs` : ''}.`);
  out.push('', `"!": p10–p90 spread over ${NOISY * 100}% of the median.`);
  if (svgName) out.push('', `![speed-ups and roofline](${svgName})`);
  return out.join('\n') + '\n';
}

/** Renders <dir>/<base>.svg, .html and .md; returns the files written (no SVG when vega is missing). */
export async function writeReport(res: Results, dir: string, base: string, note: Write = (s) => process.stderr.write(s + '\n')): Promise<string[]> {
  const specs = [speedupSpec(res), modelSpec(res), rooflineSpec(res)].filter((s): s is object => s !== null);
  const lib = specs.length ? await loadVega() : { error: 'no product rows to chart' };
  let svg: string | null = null, why: string | null = null;
  if ('error' in lib) {
    why = `charts skipped: ${lib.error}`;
    note(why);
  } else {
    const spec = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', vconcat: specs, spacing: 40, config: { font: 'sans-serif', view: { stroke: '#ccc' }, legend: { labelLimit: 640 } } };
    const view = new lib.vega.View(lib.vega.parse(lib.vl.compile(spec).spec), { renderer: 'none' });
    svg = await view.toSVG();
    view.finalize();
  }
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  if (svg) { const p = path.join(dir, `${base}.svg`); fs.writeFileSync(p, svg); written.push(p); }
  const h = path.join(dir, `${base}.html`);
  fs.writeFileSync(h, html(res, svg, why));
  written.push(h);
  const md = path.join(dir, `${base}.md`);
  fs.writeFileSync(md, markdown(res, svg ? `${base}.svg` : null));
  written.push(md);
  return written;
}
