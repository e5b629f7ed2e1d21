/**
 * Threads: results never depend on the thread count (SPEC §4), and concurrent calls from
 * worker_threads share the native thread pool safely.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { dequantizeLinear, getThreads, matmul, quantize, quantizeLinear, setBackend, setThreads } from '../lib';
import { loaded } from '../lib/native';
import { makeRng } from './helpers/random';

const rng = makeRng('threads.test');
const it = loaded.binding ? test : test.skip;
if (!loaded.binding) console.log(`SKIP thread tests: the native addon did not load (${loaded.error})`);
afterAll(() => setThreads(0));

function data(n: number): Float32Array {
  return new Float32Array(n).map(() => (rng.next() - 0.5) * 10 ** rng.int(-2, 3));
}

it('setThreads / getThreads, with range checks', () => {
  setThreads(3);
  expect(getThreads()).toBe(3);
  setThreads();
  expect(getThreads()).toBeGreaterThanOrEqual(1);
  expect(() => setThreads(-1)).toThrow(/setThreads: n must be an integer in \[0, 1024\], got -1/);
  expect(() => setThreads(1.5)).toThrow(RangeError);
});

it('quantizeLinear / dequantizeLinear / quantize give the TS fallback\'s bytes on 1, 2, 3 and 7 threads', () => {
  // Large enough for many 64K-element tasks, with layouts whose runs straddle task edges.
  const layouts = [
    { shape: [300_001] },
    { shape: [3, 100_003], axis: 0 },
    { shape: [100_003, 3], axis: 1 },
    { shape: [1001, 333], axis: 1, blockSize: 32 },
    { shape: [333, 1001], axis: 0, blockSize: 7 },
    { shape: [3, 100_003], axis: 1, blockSize: 64 }, // packed rows longer than a task
  ];
  for (const dtype of ['int8', 'uint4', 'int2'] as const) {
    for (const l of layouts) {
      const size = l.shape.reduce((p, d) => p * d, 1);
      const x = data(size);
      const axis = l.axis ?? 0;
      const nScale = l.axis === undefined ? 1 : l.blockSize ? (size / l.shape[axis]!) * Math.ceil(l.shape[axis]! / l.blockSize) : l.shape[axis]!;
      const scale = new Float32Array(nScale).map(() => Math.fround(0.01 + rng.next()));
      const opts = { dtype, shape: l.shape, axis: l.axis, blockSize: l.blockSize };
      setBackend('ts');
      const wantQ = quantizeLinear(x, scale, 1, opts);
      const want = { q: Buffer.from(wantQ.buffer).toString('base64'), x: Buffer.from(dequantizeLinear(wantQ, scale, 1, opts).buffer).toString('base64') };
      setBackend('native');
      const results = [1, 2, 3, 7].map((threads) => {
        setThreads(threads);
        const q = quantizeLinear(x, scale, 1, opts);
        return { threads, q: Buffer.from(q.buffer).toString('base64'), x: Buffer.from(dequantizeLinear(q, scale, 1, opts).buffer).toString('base64') };
      });
      for (const r of results) expect({ ...opts, ...r }).toEqual({ ...opts, ...want, threads: r.threads });
    }
  }
  const w = data(512 * 1024);
  setThreads(1);
  const one = quantize(w, [512, 1024], { dtype: 'int4', blockSize: 64, calibration: 'mse' });
  setThreads(2);
  const two = quantize(w, [512, 1024], { dtype: 'int4', blockSize: 64, calibration: 'mse' });
  expect(Buffer.from(two.data.buffer).equals(Buffer.from(one.data.buffer))).toBe(true);
});

it('worker_threads calling in parallel share the pool and get correct results', async () => {
  const lib = path.resolve(__dirname, '..', 'dist', 'lib', 'index.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const l = require(${JSON.stringify(lib)});
    const x = new Float32Array(workerData.n).map((_, i) => Math.sin(i + workerData.seed) * 7);
    let sum = 0;
    for (let rep = 0; rep < 5; rep++) {
      const q = l.quantizeLinear(x, 0.05, 0, { dtype: 'int8' });
      for (let i = 0; i < q.length; i += 4099) sum += q[i];
    }
    parentPort.postMessage(sum);`;
  const n = 400_000;
  const expected = (seed: number): number => {
    const x = new Float32Array(n).map((_, i) => Math.sin(i + seed) * 7);
    const q = quantizeLinear(x, 0.05, 0, { dtype: 'int8' });
    let s = 0;
    for (let i = 0; i < q.length; i += 4099) s += q[i]!;
    return 5 * s;
  };
  setThreads(2);
  const sums = await Promise.all([1, 2, 3, 4].map((seed) => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { n, seed } });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  expect(sums).toEqual([1, 2, 3, 4].map(expected));
});

it('worker_threads running matmul / matmulAsync at once get the single-threaded bits', async () => {
  const lib = path.resolve(__dirname, '..', 'dist', 'lib', 'index.js');
  // Each worker packs its own weights and multiplies with the pool (threads 2) while the
  // others do the same: regions overlap, so some run serially on their caller's thread.
  const M = 40, N = 256, K = 512;  // above the engine's threshold for going parallel
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const l = require(${JSON.stringify(lib)});
    const { M, N, K, seed } = workerData;
    const x = new Float32Array(M * K).map((_, i) => Math.sin(i * 0.37 + seed) * 3);
    const w = l.quantize(new Float32Array(N * K).map((_, i) => Math.cos(i * 0.11 + seed)), [N, K], { dtype: 'int8', axis: 0 });
    const p = l.prepack(w);
    (async () => {
      const out = [];
      for (let rep = 0; rep < 3; rep++) {
        const y = seed % 2 ? await l.matmulAsync(x, p, { threads: 2 }) : l.matmul(x, p, { threads: 2 });
        out.push(Buffer.from(y.buffer).toString('base64'));
      }
      p.free();
      parentPort.postMessage(out);
    })();`;
  const expected = (seed: number): string => {
    setThreads(1);
    const x = new Float32Array(M * K).map((_, i) => Math.sin(i * 0.37 + seed) * 3);
    const w = quantize(new Float32Array(N * K).map((_, i) => Math.cos(i * 0.11 + seed)), [N, K], { dtype: 'int8', axis: 0 });
    return Buffer.from(matmul(x, w).buffer).toString('base64');
  };
  const results = await Promise.all([1, 2, 3, 4].map((seed) => new Promise<string[]>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { M, N, K, seed } });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  results.forEach((r, i) => expect(r).toEqual(new Array(3).fill(expected(i + 1))));
});
