/**
 * prepack / matmul: quantized linear layers (SPEC §4, §5). Weights are an int8 / uint8 QTensor of
 * shape [N, K] (one output channel per row), per tensor or per channel (axis 0), with or without
 * zero points. Activations are float32 rows, quantized per row to int8 on the fly, or a QTensor.
 *
 * The native backend runs the cache-blocked, threaded GEMM engine (docs/ARCHITECTURE.md); the
 * TS fallback computes the same bits. `matmulAsync` runs the product off the event loop.
 */
import { activeNative, getBackend, type BackendName } from './backend';
import { isTyped } from './dtype';
import { describe, rangeError, typeError } from './errors';
import { epilogueTs, linearAccTs, quantizeRowsTs } from './fallback/linear';
import { loaded } from './native';
import { checkQTensor, type QTensor } from './qtensor';

/** Weights packed by `prepack`: opaque, owned by lowbit until `free()` (or garbage collection). */
export interface PackedWeights {
  readonly kind: 'lowbit.PackedWeights';
  /** Output channels (rows of the weights). */
  readonly N: number;
  /** Input features (columns of the weights). */
  readonly K: number;
  readonly dtype: 'int8' | 'uint8';
  /** The backend that packed them; they are used on that backend only. */
  readonly backend: BackendName;
  /** Releases the packed memory now; using the weights afterwards is an error. */
  free(): void;
  readonly freed: boolean;
}

export interface MatmulOptions {
  /** One float32 per output channel, added last. */
  bias?: Float32Array;
  /** The caller's buffer for the M x N result (at least M * N floats); nothing is written on error. */
  out?: Float32Array;
  /**
   * Threads for this call (default: `getThreads()`, the pool's setting). Results are identical
   * for every count: threads split rows and columns of the output, never the sum over K.
   */
  threads?: number;
  /** 8 (default): activations in [-127, 127]; 7: in [-63, 63] (SPEC §5). */
  activationBits?: 7 | 8;
}

interface PackedState {
  N: number;
  K: number;
  dtype: 'int8' | 'uint8';
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array | null;
  handle: object | null;     // native
  weights: Int8Array | Uint8Array | null;  // TS backend: a copy of the N x K values
  freed: boolean;
  inFlight: number;  // matmulAsync calls still reading the packed memory: free() waits for them
}

const states = new WeakMap<object, PackedState>();

/** Checks that `w` is a QTensor lowbit can multiply by, and returns its parts. */
function checkWeights(FN: string, w: QTensor): { N: number; K: number; dtype: 'int8' | 'uint8'; scale: Float32Array; zeroPoint: Int8Array | Uint8Array | null } {
  checkQTensor(FN, w, 'w');
  if (w.dtype !== 'int8' && w.dtype !== 'uint8')
    throw rangeError(FN, `w.dtype ${describe(w.dtype)} is not supported by this version: int8 or uint8 weights (int4 / nf4 blocked weights come with the GEMM engine)`);
  if (w.shape.length !== 2) throw rangeError(FN, `w.shape must be [N, K] (one output channel per row), got [${w.shape.join(', ')}]`);
  if (w.blockSize !== undefined) throw rangeError(FN, 'w must be quantized per tensor or per channel (axis 0), not blocked, in this version');
  if (w.scale.length !== 1 && w.axis !== 0) throw rangeError(FN, `w's scales must be per tensor or per output channel (axis 0), got axis ${describe(w.axis)}`);
  return { N: w.shape[0]!, K: w.shape[1]!, dtype: w.dtype, scale: w.scale.slice(), zeroPoint: w.zeroPoint ? w.zeroPoint.slice() : null };
}

function release(state: PackedState): void {
  if (state.handle) loaded.binding!.packedFree(state.handle);
  state.handle = null;
  state.weights = null;
}

/** Packs quantized weights once for repeated `matmul` calls. The weights are copied. */
export function prepack(w: QTensor): PackedWeights {
  const FN = 'prepack';
  const parts = checkWeights(FN, w);
  const native = activeNative();
  const state: PackedState = { ...parts, handle: null, weights: null, freed: false, inFlight: 0 };
  if (native) state.handle = native.prepack(w.data, parts.N, parts.K);
  else state.weights = w.data.slice();
  const packed: PackedWeights = Object.freeze({
    kind: 'lowbit.PackedWeights' as const,
    N: parts.N,
    K: parts.K,
    dtype: parts.dtype,
    backend: native ? 'native' as const : 'ts' as const,
    free(): void {
      if (state.freed) return;
      state.freed = true;
      if (state.inFlight === 0) release(state);
    },
    get freed(): boolean { return state.freed; },
  });
  states.set(packed, state);
  return packed;
}

/** One checked call: what `matmul` and `matmulAsync` share. */
interface Call {
  state: PackedState;
  temporary: PackedWeights | null;  // weights packed for this call only, freed after it
  x: Float32Array | QTensor;
  M: number;
  bits: 7 | 8;
  bias: Float32Array | null;
  threads: number;  // 0 = the pool's setting
  result: Float32Array;  // M x N: the caller's `out` (a view of its first M x N values) or new
  out: Float32Array | undefined;
}

function prepare(FN: string, x: Float32Array | QTensor, w: QTensor | PackedWeights, opts: MatmulOptions): Call {
  if (typeof opts !== 'object' || opts === null) throw typeError(FN, 'opts', 'an object', opts);
  const bits = opts.activationBits ?? 8;
  if (bits !== 8 && bits !== 7) throw rangeError(FN, `opts.activationBits must be 8 or 7, got ${describe(opts.activationBits)}`);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 1024))
    throw rangeError(FN, `opts.threads must be an integer in [1, 1024], got ${describe(opts.threads)}`);

  // The weights: packed already, or packed for this call only.
  let state = typeof w === 'object' && w !== null ? states.get(w) : undefined;
  if (state?.freed) throw typeError(FN, 'w', 'live packed weights, not ones released with free()', 'freed PackedWeights');
  let temporary: PackedWeights | null = null;
  if (!state) {
    if (typeof w !== 'object' || w === null || (w as PackedWeights).kind === 'lowbit.PackedWeights')
      throw typeError(FN, 'w', 'a QTensor or weights from prepack()', w);
    temporary = prepack(w as QTensor);
    state = states.get(temporary)!;
  }
  try {
    const backend = getBackend();
    if ((state.handle !== null) !== (backend === 'native'))
      throw rangeError(FN, `w was packed on the ${state.handle ? 'native' : 'ts'} backend but the ${backend} backend is in use: prepack again after setBackend()`);
    const { N, K } = state;
    if (opts.bias !== undefined && (!isTyped(opts.bias, 'Float32Array') || opts.bias.length !== N))
      throw typeError(FN, 'opts.bias', `a Float32Array of ${N} values (one per output channel)`, opts.bias);

    // The activations.
    let M: number;
    if (isTyped(x, 'Float32Array')) {
      if (K === 0 ? x.length !== 0 : x.length % K !== 0)
        throw rangeError(FN, `x has ${x.length} values, not a whole number of rows of K = ${K}`);
      M = K === 0 ? 0 : x.length / K;
    } else if (typeof x === 'object' && x !== null && 'dtype' in x) {
      checkQTensor(FN, x, 'x');
      if ((x.dtype !== 'int8' && x.dtype !== 'uint8') || x.shape.length !== 2 || x.shape[1] !== K || x.blockSize !== undefined || (x.scale.length !== 1 && x.axis !== 0))
        throw rangeError(FN, `x as a QTensor must be int8 / uint8 of shape [M, ${K}], per tensor or per row (axis 0); got ${x.dtype} [${x.shape.join(', ')}]`);
      M = x.shape[0]!;
    } else throw typeError(FN, 'x', 'a Float32Array or a QTensor', x);

    const out = opts.out;
    if (out !== undefined && (!isTyped(out, 'Float32Array') || out.length < M * N))
      throw typeError(FN, 'opts.out', `a Float32Array of at least ${M * N} values (M x N = ${M} x ${N})`, out);
    // Every check is above and the products fail before writing (an infinite row is found
    // before any output), so `out` can take the result directly.
    const result = out ? out.subarray(0, M * N) : new Float32Array(M * N);
    return { state, temporary, x, M, bits, bias: opts.bias ?? null, threads: opts.threads ?? 0, result, out };
  } catch (e) {
    temporary?.free();
    throw e;
  }
}

/**
 * y = x · wᵀ (+ bias) for a quantized linear layer, M x N float32. `x` is float32 with K
 * values per row (quantized per row to int8, SPEC §4) or a QTensor [M, K] (int8 / uint8, per
 * tensor or per row). `w` is a QTensor [N, K] or weights from `prepack`. Identical results on
 * every ISA, thread count and backend.
 */
export function matmul(x: Float32Array | QTensor, w: QTensor | PackedWeights, opts: MatmulOptions = {}): Float32Array {
  return runNow('matmul', x, w, opts);
}

function runNow(FN: string, x: Float32Array | QTensor, w: QTensor | PackedWeights, opts: MatmulOptions): Float32Array {
  const c = prepare(FN, x, w, opts);
  try {
    const { state, M, bits, bias, threads, result } = c;
    const { N, K } = state;
    const native = activeNative();
    if (isTyped(c.x, 'Float32Array')) {
      if (native) {
        try {
          native.linear(c.x, M, state.handle!, state.scale, state.zeroPoint, bias, bits, result, threads);
        } catch (e) {
          throw infinityError(FN, c.x, K, e);
        }
      } else {
        const rows = quantizeRowsTs(c.x, M, K, bits === 8 ? 127 : 63);
        if ('badRow' in rows) throw infinityError(FN, c.x, K, null);
        epilogueTs(linearAccTs(rows.q, M, K, null, state.weights!, N, state.zeroPoint), M, N, rows.scale, state.scale, bias, result);
      }
    } else {
      const q = c.x as QTensor;
      let acc: Int32Array;
      if (native) {
        acc = new Int32Array(M * N);
        native.matmulIntegerPacked(q.data, M, q.zeroPoint ?? null, state.handle!, state.zeroPoint, acc, threads);
      } else acc = linearAccTs(q.data, M, K, q.zeroPoint ?? null, state.weights!, N, state.zeroPoint);
      epilogueTs(acc, M, N, q.scale, state.scale, bias, result);
    }
    return c.out ?? result;
  } finally {
    c.temporary?.free();
  }
}

/**
 * `matmul` off the event loop: the product runs on a libuv worker thread (and the lowbit
 * thread pool) and the promise resolves to the result, bit-identical to `matmul`'s. Errors
 * reject it: the same TypeError / RangeError naming the argument as `matmul`. Do not modify x,
 * bias or out until the promise settles; `free()` on the weights meanwhile is deferred until
 * the product is done. On the TS backend the product runs on the main thread.
 */
export async function matmulAsync(x: Float32Array | QTensor, w: QTensor | PackedWeights, opts: MatmulOptions = {}): Promise<Float32Array> {
  const FN = 'matmulAsync';
  const native = activeNative();
  if (!native) return runNow(FN, x, w, opts);
  const c = prepare(FN, x, w, opts);
  const { state, M, bits, bias, threads, result } = c;
  const { N, K } = state;
  state.inFlight++;
  try {
    if (isTyped(c.x, 'Float32Array')) {
      try {
        await native.linearAsync(c.x, M, state.handle!, state.scale, state.zeroPoint, bias, bits, result, threads);
      } catch (e) {
        throw infinityError(FN, c.x, K, e);
      }
    } else {
      const q = c.x as QTensor;
      const acc = new Int32Array(M * N);
      await native.matmulIntegerPackedAsync(q.data, M, q.zeroPoint ?? null, state.handle!, state.zeroPoint, acc, threads);
      epilogueTs(acc, M, N, q.scale, state.scale, bias, result);
    }
    return c.out ?? result;
  } finally {
    if (--state.inFlight === 0 && state.freed) release(state);
    c.temporary?.free();
  }
}

/** A RangeError naming the first ±Inf in x (its row has no finite scale), or the original error. */
function infinityError(FN: string, x: Float32Array, K: number, original: unknown): Error {
  const i = x.findIndex((v) => v === Infinity || v === -Infinity);
  if (i < 0) return original instanceof Error ? original : new Error(String(original));
  return rangeError(FN, `x[${i}] (row ${Math.floor(i / K)}) is ${x[i]}: that row has no finite scale`);
}

