// CommonJS consumer of the installed package (test/pack/run.mjs runs it in a clean project).
'use strict';
const assert = require('node:assert/strict');
const lowbit = require('lowbit');

const info = lowbit.cpuInfo();
assert.equal(info.backend, 'native', `cpuInfo().backend: the prebuild did not load (${JSON.stringify(info)})`);
assert.equal(info.isa, info.isas[info.isas.length - 1], 'the best usable ISA is in use by default');
// SPEC §4: 255·(-128) + 255·(-128) + 1·15 = -65265 exactly (a saturating int16 path gives -32753).
assert.deepEqual(Array.from(lowbit.matmulInteger(new Uint8Array([255, 255, 1]), [1, 3], new Int8Array([-128, -128, 15]), [3, 1])), [-65265]);
// [[1, 2, 3], [4, 5, 6]] x [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
assert.deepEqual(Array.from(lowbit.matmulInteger(new Int8Array([1, 2, 3, 4, 5, 6]), [2, 3], new Int8Array([7, 8, 9, 10, 11, 12]), [3, 2])), [58, 64, 139, 154]);
// an int4 layer (blocks of 32) on the native kernels and on the TS fallback: bit-identical
const N = 24, K = 96, M = 3;
const w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 0.37));
const x = Float32Array.from({ length: M * K }, (_, i) => Math.cos(i * 0.11) * 2);
const q = lowbit.quantize(w, [N, K], { dtype: 'int4', axis: 1, blockSize: 32 });
const yNative = lowbit.matmul(x, q);
lowbit.setBackend('ts');
const yTs = lowbit.matmul(x, q);
lowbit.setBackend('native');
assert.ok(Buffer.from(yNative.buffer).equals(Buffer.from(yTs.buffer)), 'int4 matmul: native and TS fallback differ');
assert.ok(yNative.some((v) => v !== 0), 'int4 matmul gave all zeros');
console.log(`smoke (require): ok, ${info.arch} ${info.isa}, int4 ${M}x${N}x${K} bit-exact`);
