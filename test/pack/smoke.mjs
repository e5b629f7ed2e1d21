// ES module consumer of the installed package: named imports (Node's static detection of the
// CommonJS exports through index.mjs), the same functions as require() gives.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as ns from 'lowbit';
import { cpuInfo, matmulInteger } from 'lowbit';

const cjs = createRequire(import.meta.url)('lowbit');
const names = (o) => Object.keys(o).filter((k) => k !== 'default' && k !== '__esModule').sort();
assert.deepEqual(names(ns), names(cjs), 'import * from "lowbit" and require("lowbit") export different names');
assert.equal(ns.matmul, cjs.matmul, 'the ES module entry re-exports the CommonJS functions');
assert.equal(cpuInfo().backend, 'native');
assert.deepEqual(Array.from(matmulInteger(new Uint8Array([255, 255, 1]), [1, 3], new Int8Array([-128, -128, 15]), [3, 1])), [-65265]);
console.log(`smoke (import): ok, ${names(ns).length} named exports`);
