/**
 * onnxruntime-node as the bench's peer for the quantized linear layer (`matmul`): the same
 * product as onnxruntime runs it in a deployed model.
 *
 *   int8 dynamic:  X -> DynamicQuantizeLinear -> MatMulInteger(Xq, W int8, Xzp[, Wzp]) -> Cast(float)
 *                  -> Mul by Mul(X_scale, W_scale)        (what onnxruntime's quantize_dynamic emits)
 *   float32:       X -> MatMul(X, W float)
 *
 * The weights and their scales are initializers (constants), so onnxruntime prepacks them at
 * session creation, and its level-'all' optimizer fuses the int8 graph into one
 * DynamicQuantizeMatMul node (`optimizedOpTypes` shows what it made; onnxruntime 1.30 fuses it at
 * opsets 13 to 21 alike). The opset is 13, what exported transformer models typically carry.
 * Weights arrive as lowbit's [N, K] (one output channel per row) and are transposed to ONNX's
 * [K, N]; the int8 values and scales are lowbit's own, so both engines multiply the same numbers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { QTensor } from '../lib/qtensor';
import { graphModel, nodeOpTypes, type Initializer } from './onnx_model';

export type Ort = typeof import('onnxruntime-node');
export type OrtSession = import('onnxruntime-node').InferenceSession;

/** onnxruntime-node, or why it did not load (the bench then skips its rows). */
export function loadOrt(): { ort: Ort; version: string } | { error: string } {
  try {
    // Loaded on demand: a missing or broken native binary must not stop lowbit's own bench.
    const ort = require('onnxruntime-node') as Ort;
    let version = 'unknown';
    try { version = (require('onnxruntime-node/package.json') as { version: string }).version; } catch { /* version only labels output */ }
    return { ort, version };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
}

/** Opset of the bench models (see the header). */
export const ORT_OPSET = 13;

function transpose<T extends Int8Array | Uint8Array | Float32Array>(src: T, rows: number, cols: number, make: (n: number) => T): T {
  const dst = make(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c]!;
  return dst;
}

/**
 * The int8 dynamic-quantization model for x [M, K] times lowbit's int8 / uint8 weights `w`
 * [N, K] (per tensor, or per output channel on axis 0; zero points if `w` has them). Input "X",
 * output "Y" float32 [M, N].
 */
export function int8DynamicModel(w: QTensor, M: number): Uint8Array {
  if ((w.dtype !== 'int8' && w.dtype !== 'uint8') || w.shape.length !== 2 || w.blockSize !== undefined || (w.scale.length !== 1 && w.axis !== 0))
    throw new RangeError('int8DynamicModel: w must be an int8 / uint8 QTensor [N, K], per tensor or per channel on axis 0');
  const [N, K] = w.shape as [number, number];
  const perChannel = w.scale.length !== 1;
  const data = w.dtype === 'int8'
    ? transpose(w.data as Int8Array, N, K, (n) => new Int8Array(n))
    : transpose(w.data as Uint8Array, N, K, (n) => new Uint8Array(n));
  const scaleShape = perChannel ? [N] : [];
  const inits: Initializer[] = [
    { name: 'W', type: w.dtype, shape: [K, N], data },
    { name: 'W_scale', type: 'float', shape: scaleShape, data: w.scale },
  ];
  const mmInputs = ['Xq', 'W', 'Xzp'];
  if (w.zeroPoint) {
    inits.push({ name: 'W_zp', type: w.dtype, shape: scaleShape, data: w.zeroPoint });
    mmInputs.push('W_zp');
  }
  return graphModel([
    { op: 'DynamicQuantizeLinear', inputs: ['X'], outputs: ['Xq', 'X_scale', 'Xzp'] },
    { op: 'MatMulInteger', inputs: mmInputs, outputs: ['Yi'] },
    { op: 'Cast', inputs: ['Yi'], outputs: ['Yf'], attributes: { to: 1 /* float */ } },
    // The activation scale first: the fusion takes this Mul's inputs as (a_scale, b_scale).
    { op: 'Mul', inputs: ['X_scale', 'W_scale'], outputs: ['S'] },
    { op: 'Mul', inputs: ['Yf', 'S'], outputs: ['Y'] },
  ], [{ name: 'X', type: 'float', shape: [M, K] }], [{ name: 'Y', type: 'float', shape: [M, N] }], ORT_OPSET, inits);
}

/**
 * onnxruntime's 4-bit weight-only MatMul (com.microsoft MatMulNBits) on lowbit's symmetric int4
 * QTensor [N, K] in blocks along K (axis 1, K a multiple of the block): the same values, as
 * uint4 with MatMulNBits' default zero point 8 (a nibble q of int4 is q + 8 = q ^ 8 there), the
 * same scales. accuracy_level 4 quantizes activations to int8 (as lowbit's compute 'int8'), 0
 * computes in float32. Input "X", output "Y".
 */
export function matMulNBitsModel(w: QTensor, M: number, accuracyLevel: 0 | 4): Uint8Array {
  if (w.dtype !== 'int4' || w.shape.length !== 2 || w.axis !== 1 || w.blockSize === undefined || w.zeroPoint !== undefined)
    throw new RangeError('matMulNBitsModel: w must be a symmetric int4 QTensor [N, K] blocked along axis 1');
  const [N, K] = w.shape as [number, number], block = w.blockSize;
  if (K % block !== 0 || block < 16 || (block & (block - 1)) !== 0) throw new RangeError(`matMulNBitsModel: K = ${K} must be a multiple of a power-of-two block >= 16, got ${block}`);
  const data = new Uint8Array(w.data.length);
  for (let i = 0; i < data.length; i++) data[i] = w.data[i]! ^ 0x88;
  return graphModel([{ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['X', 'B', 'S'], outputs: ['Y'],
    attributes: { K, N, bits: 4, block_size: block, accuracy_level: accuracyLevel } }],
  [{ name: 'X', type: 'float', shape: [M, K] }], [{ name: 'Y', type: 'float', shape: [M, N] }], ORT_OPSET,
  [{ name: 'B', type: 'uint8', shape: [N, K / block, block / 2], data }, { name: 'S', type: 'float', shape: [N * (K / block)], data: w.scale }]);
}

/** The float32 model: x [M, K] times lowbit-layout weights `w` [N, K]. Input "X", output "Y". */
export function fp32MatMulModel(w: Float32Array, M: number, N: number, K: number): Uint8Array {
  if (w.length !== N * K) throw new RangeError(`fp32MatMulModel: w has ${w.length} values, not N x K = ${N * K}`);
  const data = transpose(w, N, K, (n) => new Float32Array(n));
  return graphModel([{ op: 'MatMul', inputs: ['X', 'W'], outputs: ['Y'] }],
    [{ name: 'X', type: 'float', shape: [M, K] }], [{ name: 'Y', type: 'float', shape: [M, N] }], ORT_OPSET,
    [{ name: 'W', type: 'float', shape: [K, N], data }]);
}

/**
 * A CPU session with every graph optimization, `threads` intra-op threads (1: the calling
 * thread only) and sequential execution, as a deployment tuned for one model would use.
 */
export function createSession(ort: Ort, model: Uint8Array, threads: number, extra: Partial<import('onnxruntime-node').InferenceSession.SessionOptions> = {}): Promise<OrtSession> {
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', ...extra,
  });
}

/** The op types of the graph onnxruntime runs for `model` after its level-'all' optimizations. */
export async function optimizedOpTypes(ort: Ort, model: Uint8Array): Promise<string[]> {
  const file = path.join(os.tmpdir(), `lowbit-ort-optimized-${process.pid}-${Date.now()}.onnx`);
  // logSeverityLevel 3: onnxruntime warns that a level-'all' graph may be host-specific; it is only read here.
  const session = await createSession(ort, model, 1, { optimizedModelFilePath: file, logSeverityLevel: 3 });
  try {
    return nodeOpTypes(new Uint8Array(fs.readFileSync(file)));
  } finally {
    await session.release();
    fs.rmSync(file, { force: true });
  }
}

/** Feeds for a bench model: X = x as [M, K]. */
export function feeds(ort: Ort, x: Float32Array, M: number, K: number): Record<string, import('onnxruntime-node').Tensor> {
  return { X: new ort.Tensor('float32', x, [M, K]) };
}
