/**
 * @jest-environment ./test/helpers/shared-typed-arrays-env.js
 */
/**
 * lowbit against onnxruntime-node (the ONNX reference implementation) on MatMulInteger.
 * Where both are exact they must agree bit for bit. onnxruntime 1.30's AVX2 kernel saturates
 * int16 pair sums for uint8 x int8 inputs; wherever the two differ, lowbit must equal the
 * exact (BigInt) answer, and the cases are printed.
 */
import { matmulInteger } from '../lib';
import { oneNodeModel, type OnnxType } from '../bench/onnx_model';
import { fill8, makeRng } from './helpers/random';
import { matmulIntegerBigInt } from './helpers/reference';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | null = null;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ort = require('onnxruntime-node') as Ort;
} catch (e) {
  console.log(`SKIP onnxruntime tests: onnxruntime-node did not load (${(e as Error).message.split('\n')[0]})`);
}
const it = ort ? test : test.skip;
const rng = makeRng('onnxruntime.test');

async function ortMatMulInteger(a: Int8Array | Uint8Array, b: Int8Array | Uint8Array, M: number, N: number, K: number, za: number, zb: number): Promise<Int32Array> {
  const at: OnnxType = a instanceof Int8Array ? 'int8' : 'uint8', bt: OnnxType = b instanceof Int8Array ? 'int8' : 'uint8';
  const model = oneNodeModel({ op: 'MatMulInteger', inputs: ['A', 'B', 'za', 'zb'], outputs: ['Y'] },
    [{ name: 'A', type: at, shape: [M, K] }, { name: 'B', type: bt, shape: [K, N] }, { name: 'za', type: at, shape: [] }, { name: 'zb', type: bt, shape: [] }],
    [{ name: 'Y', type: 'int32', shape: [M, N] }]);
  const session = await ort!.InferenceSession.create(model);
  const zaT = at === 'int8' ? new Int8Array([za]) : new Uint8Array([za]), zbT = bt === 'int8' ? new Int8Array([zb]) : new Uint8Array([zb]);
  const out = await session.run({ A: new ort!.Tensor(at, a, [M, K]), B: new ort!.Tensor(bt, b, [K, N]), za: new ort!.Tensor(at, zaT, []), zb: new ort!.Tensor(bt, zbT, []) });
  await session.release();
  return out.Y!.data as Int32Array;
}

it('agrees with onnxruntime MatMulInteger wherever onnxruntime is exact, and is exact where it is not', async () => {
  let differ = 0;
  for (let iter = 0; iter < 24; iter++) {
    const M = rng.int(1, 12), N = rng.int(1, 40), K = rng.int(1, 200);
    const aSigned = iter % 4 >= 2, bSigned = iter % 2 === 0;
    const pattern = iter % 3 === 0 ? 'extreme' : 'random';
    const a = fill8(aSigned, M * K, pattern, rng.int), b = fill8(bSigned, K * N, pattern, rng.int);
    const za = fill8(aSigned, 1, 'random', rng.int)[0]!, zb = fill8(bSigned, 1, 'random', rng.int)[0]!;
    const ours = matmulInteger(a, [M, K], b, [K, N], za, zb);
    const theirs = await ortMatMulInteger(a, b, M, N, K, za, zb);
    const exact = matmulIntegerBigInt(a, b, M, N, K, [za], [zb]);
    expect(Array.from(ours)).toEqual(Array.from(exact));
    if (Buffer.compare(Buffer.from(theirs.buffer, theirs.byteOffset, theirs.byteLength), Buffer.from(ours.buffer)) !== 0) {
      differ++;
      const i = theirs.findIndex((v, j) => v !== ours[j]);
      console.log(`onnxruntime differs (A ${aSigned ? 'int8' : 'uint8'}, B ${bSigned ? 'int8' : 'uint8'}, ${pattern}, ${M}x${N}x${K}): Y[${i}] onnxruntime ${theirs[i]}, exact ${exact[i]}`);
    }
  }
  console.log(`onnxruntime MatMulInteger differed from the exact answer in ${differ} of 24 cases`);
});

it('agrees with onnxruntime bit for bit on inputs that cannot saturate int16 pair sums', async () => {
  for (let iter = 0; iter < 12; iter++) {
    const M = rng.int(1, 12), N = rng.int(1, 40), K = rng.int(1, 300);
    const a = new Uint8Array(M * K).map(() => rng.int(0, 127)), b = fill8(true, K * N, 'random', rng.int);
    const ours = matmulInteger(a, [M, K], b, [K, N], 0, 0);
    const theirs = await ortMatMulInteger(a, b, M, N, K, 0, 0);
    expect(Array.from(ours)).toEqual(Array.from(theirs));
  }
});

it('the documented case: 255*-128*2 + 15 is -65265 (onnxruntime on AVX2 hosts says -32753)', async () => {
  const a = new Uint8Array([255, 255, 1]), b = new Int8Array([-128, -128, 15]);
  expect(Array.from(matmulInteger(a, [1, 3], b, [3, 1]))).toEqual([-65265]);
  console.log(`onnxruntime on this host: ${(await ortMatMulInteger(a, b, 1, 1, 3, 0, 0))[0]}`);
});
