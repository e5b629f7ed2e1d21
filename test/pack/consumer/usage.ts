// Type-checked by test/pack/run.mjs against the installed package's .d.ts, as a CommonJS and as an
// ES module project (tsc --noEmit, module node16). The @ts-expect-error lines fail the check if
// the types ever accept them (an `any` would).
import { cpuInfo, dequantize, errorStats, matmul, matmulAsync, matmulInteger, prepack, quantize, type CpuInfo, type MatmulOptions, type QTensor } from 'lowbit';

const info: CpuInfo = cpuInfo();
const backend: 'native' | 'ts' = info.backend;
const y: Int32Array = matmulInteger(new Int8Array(6), [2, 3], new Uint8Array(6), [3, 2], 0, 128);
const q: QTensor = quantize(new Float32Array(64), [2, 32], { dtype: 'int4', axis: 1, blockSize: 32 });
const opts: MatmulOptions = { bias: new Float32Array(2), threads: 1, compute: 'int8' };
const out: Float32Array = matmul(new Float32Array(32), prepack(q), opts);
const later: Promise<Float32Array> = matmulAsync(new Float32Array(32), q);
const back: Float32Array = dequantize(q);
const snr: number = errorStats(back, back).sqnrDb;

// @ts-expect-error: a and b are typed arrays, not number[]
matmulInteger([1, 2], [1, 2], new Int8Array(2), [2, 1]);
// @ts-expect-error: 'int3' is not a dtype
quantize(new Float32Array(4), [4], { dtype: 'int3' });
// @ts-expect-error: compute is 'int8' or 'float32'
matmul(new Float32Array(32), q, { compute: 'fp16' });
// @ts-expect-error: cpuInfo().backend is 'native' | 'ts'
const wrong: 'gpu' = info.backend;

export { backend, y, out, later, snr, wrong };
