// The installed package's parity check, run by test/pack/run.mjs with any Node (x64, or the arm64
// Node under qemu-aarch64) from a consumer folder: on every ISA the CPU has, the native backend
// must give the TS fallback's results bit for bit (SPEC §4) for matmulInteger, quantizeLinear /
// dequantizeLinear and matmul with int8 / int4 / uint4 / int2 weights, on random shapes with odd
// sizes. Plain JS and small shapes, so it stays quick under emulation.
// Prints one line per failure, then a JSON summary as the last line: { info, checks, failures,
// seed, resolved } (resolved: the lowbit entry loaded, which the caller checks is the installed one).
'use strict';
const path = require('node:path');

const resolved = require.resolve('lowbit', { paths: [process.cwd()] });
const lowbit = require(resolved);
const { cpuInfo, setBackend, setIsa, matmulInteger, quantizeLinear, dequantizeLinear, quantize, matmul } = lowbit;

const seed = process.env.LOWBIT_SEED ? Number(process.env.LOWBIT_SEED) >>> 0 : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
let s = seed || 1;
function next() { // xorshift32
  s ^= s << 13; s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5; s >>>= 0;
  return s / 2 ** 32;
}
const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
const floats = (n, amp) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * amp);
const bytes = (signed, n) => (signed ? Int8Array : Uint8Array).from({ length: n }, () => (signed ? int(-128, 127) : int(0, 255)));
const same = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

// Cases are drawn once; each is a closure that computes its result on the backend in use.
const cases = [];
for (let i = 0; i < 20; i++) {
  const M = [1, 2, 3, 5, 8, 9, 17][int(0, 6)], N = int(1, 37), K = int(1, 150);
  const aSigned = next() < 0.5, bSigned = next() < 0.5;
  const a = bytes(aSigned, M * K), b = bytes(bSigned, K * N);
  const za = i % 3 === 0 ? (aSigned ? int(-128, 127) : int(0, 255)) : undefined;
  const zb = i % 3 === 0 ? (bSigned ? int(-128, 127) : int(0, 255)) : undefined;
  cases.push({ name: `matmulInteger ${M}x${N}x${K} ${aSigned ? 's8' : 'u8'}*${bSigned ? 's8' : 'u8'}${za === undefined ? '' : ' zp'}`,
    run: () => matmulInteger(a, [M, K], b, [K, N], za, zb) });
}
for (const dtype of ['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint2']) {
  const rows = int(1, 5), cols = int(1, 97), block = [16, 32, 33][int(0, 2)];
  const x = floats(rows * cols, 3);
  const nScales = rows * Math.ceil(cols / block);
  const scale = Float32Array.from({ length: nScales }, () => 0.01 + next() * 0.2);
  const opts = { dtype, axis: 1, blockSize: block, shape: [rows, cols] };
  cases.push({ name: `quantizeLinear ${dtype} ${rows}x${cols} block ${block}`, run: () => quantizeLinear(x, scale, null, opts) });
  // random stored values (packed rows for sub-byte dtypes), so dequantize gets the same input on both
  const perByte = { int8: 1, uint8: 1, int4: 2, uint4: 2, int2: 4, uint2: 4 }[dtype];
  const q = dtype === 'int8' ? bytes(true, rows * cols) : bytes(false, rows * Math.ceil(cols / perByte));
  cases.push({ name: `dequantizeLinear ${dtype} ${rows}x${cols} block ${block}`, run: () => dequantizeLinear(q, scale, null, opts) });
}
const weightKinds = [
  { dtype: 'int8', axis: 0 },
  { dtype: 'int4', axis: 1, blockSize: 32 },
  { dtype: 'uint4', axis: 1, blockSize: 32, scheme: 'asymmetric' },
  { dtype: 'int2', axis: 1, blockSize: 32 },
];
for (const wk of weightKinds) {
  const M = [1, 3, 8, 9][int(0, 3)], N = int(1, 33), K = int(1, 4) * 32 + int(0, 1) * int(1, 31);
  const w = floats(N * K, 1), x = floats(M * K, 2), bias = floats(N, 0.5);
  cases.push({ name: `quantize ${wk.dtype} ${N}x${K}`, run: () => {
    const q = quantize(w, [N, K], wk); // data, then scales, then zero points as one byte string
    return Buffer.concat([q.data, q.scale, q.zeroPoint ?? new Uint8Array(0)].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  } });
  cases.push({ name: `matmul ${wk.dtype} ${M}x${N}x${K}`, run: () => matmul(x, quantize(w, [N, K], wk), { bias }) });
}

const info = cpuInfo();
const failures = [];
let checks = 0;
setBackend('ts');
const want = cases.map((c) => c.run());
setBackend('native');
for (const isa of info.isas) {
  setIsa(isa);
  cases.forEach((c, i) => {
    checks++;
    let got;
    try {
      got = c.run();
    } catch (e) {
      failures.push(`${isa}: ${c.name}: threw ${e && e.message}`);
      return;
    }
    if (!same(got, want[i])) failures.push(`${isa}: ${c.name}: differs from the TS fallback`);
  });
}
setIsa(info.isa);
for (const f of failures) console.log(`FAIL ${f}`);
console.log(`parity: ${checks - failures.length}/${checks} bit-exact on ${info.isas.join(', ')} (seed ${seed}, ${path.basename(process.execPath)} ${process.arch})`);
console.log(JSON.stringify({ info, checks, failures, seed, resolved }));
