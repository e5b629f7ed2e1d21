/**
 * prepack / matmul: quantized linear layers (SPEC §4, §5). Weights are a QTensor of shape [N, K]
 * (one output channel per row): int8 / uint8 per tensor, per channel (axis 0) or blocked along K
 * (axis 1); int4 / uint4 / int2 / uint2 / nf4 per channel or blocked along K. Activations are
 * float32 rows, quantized per row to int8 on the fly, or a QTensor. `compute: 'int8'` (every
 * integer dtype's default) sums exactly per group; `'float32'` (nf4's only mode) dequantizes the
 * weights and sums in float32.
 *
 * Both backends implement `LinearBackend` with the same signatures: the native one runs the
 * GEMM engine (docs/ARCHITECTURE.md), the TS fallback computes the same bits (int8 compute) or
 * the same values within SPEC §4's tolerance (float32 compute). `matmulAsync` runs the native
 * product off the event loop.
 */
import { activeNative, getBackend, type BackendName } from './backend';
import { DTYPES, isTyped } from './dtype';
import { describe, rangeError, typeError } from './errors';
import { epilogueTs, linearAccTs, quantizeRowsTs } from './fallback/linear';
import { float16BitsOfExact } from './float16';
import { groupedWeightsFromQTensor, linearGroupedF32Ts, linearGroupedInt8Ts, type GroupedWeightsTs } from './fallback/lowbit_linear';
import { loaded, type NativeBinding } from './native';
import { checkQTensor, type QDType, type QTensor } from './qtensor';

export type Compute = 'int8' | 'float32';

/** Weights packed by `prepack`: opaque, owned by lowbit until `free()` (or garbage collection). */
export interface PackedWeights {
  readonly kind: 'lowbit.PackedWeights';
  /** Output channels (rows of the weights). */
  readonly N: number;
  /** Input features (columns of the weights). */
  readonly K: number;
  readonly dtype: QDType;
  /** Values per scale along K (K for per tensor / per channel weights). */
  readonly groupSize: number;
  /** The backend that packed them; they are used on that backend only. */
  readonly backend: BackendName;
  /** The kernel the weights were packed for (e.g. 'ggemm_u4s8_avx512vnni'; 'ts' on the TS backend). */
  readonly kernel: string;
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
  /** 'int8' (default for integer weights: exact per-group sums) or 'float32' (weight-only; nf4's only mode). */
  compute?: Compute;
}

/** The weights as a backend holds them. */
interface Packed {
  native: object | null;  // the addon's handle
  raw: { q: Int8Array | Uint8Array; scale: Float32Array; zeroPoint: Int8Array | Uint8Array | null } | null;  // TS: 8-bit, one group
  grouped: GroupedWeightsTs | null;  // TS: everything else
}

/** One product's activations: float rows or a QTensor's integers with scales (per tensor or per row). */
type Activations =
  | { kind: 'float'; x: Float32Array; bits: 7 | 8 }
  | { kind: 'q8'; q: Int8Array | Uint8Array; scale: Float32Array; zeroPoint: Int8Array | Uint8Array | null };

/** What the native adapter and the TS fallback both implement. */
interface LinearBackend {
  prepack(w: QTensor, parts: WeightParts): Packed;
  free(p: Packed): void;
  kernel(p: Packed): string;
  linear(a: Activations, M: number, p: Packed, compute: Compute, bias: Float32Array | null, out: Float32Array, threads: number): void;
  linearAsync(a: Activations, M: number, p: Packed, compute: Compute, bias: Float32Array | null, out: Float32Array, threads: number): Promise<void>;
}

interface WeightParts { N: number; K: number; dtype: QDType; groupSize: number; groups: number; raw: boolean }

const DTYPE_CODE: Record<QDType, number> = { int8: 1, uint8: 2, int4: 3, uint4: 4, int2: 5, uint2: 6, nf4: 7 };

function nativeBackend(nb: NativeBinding): LinearBackend {
  const call = (a: Activations, M: number, p: Packed, compute: Compute, bias: Float32Array | null, out: Float32Array, threads: number, async: boolean): Promise<void> | void => {
    if (a.kind === 'float') {
      const args = [a.x, M, p.native!, bias, a.bits, compute === 'float32' ? 1 : 0, out, threads] as const;
      return async ? nb.linearAsync(...args) : nb.linear(...args);
    }
    const args = [a.q, M, a.scale, a.zeroPoint, p.native!, bias, out, threads] as const;
    return async ? nb.linearQ8Async(...args) : nb.linearQ8(...args);
  };
  return {
    prepack(w, parts) {
      const bits = parts.dtype === 'nf4' ? 4 : DTYPES[parts.dtype].bits;
      // Blocked along K: each row starts on a byte; per tensor / per channel: one packed stream.
      const ld = bits === 8 ? parts.K : w.blockSize !== undefined ? Math.ceil((parts.K * bits) / 8) : 0;
      const zp = w.zeroPoint ? Int32Array.from(w.zeroPoint) : null;
      // float16 scales go as binary16 (checkWeights found them exact): the packed weights keep
      // them in 2 bytes, so an int4 g32 product streams 4.5 bits a weight instead of 5.
      const scale = w.scaleDtype === 'float16' ? float16BitsOfExact(w.scale) : w.scale;
      return { native: nb.prepack(w.data, DTYPE_CODE[parts.dtype], parts.N, parts.K, ld, w.blockSize ?? 0, scale, zp), raw: null, grouped: null };
    },
    free(p) { if (p.native) nb.packedFree(p.native); p.native = null; },
    kernel(p) { return nb.packedInfo(p.native!).kernel; },
    linear(a, M, p, compute, bias, out, threads) { call(a, M, p, compute, bias, out, threads, false); },
    async linearAsync(a, M, p, compute, bias, out, threads) { await call(a, M, p, compute, bias, out, threads, true); },
  };
}

let nativeAdapter: LinearBackend | null = null;  // made once, on the first native prepack

const tsBackend: LinearBackend = {
  prepack(w, parts) {
    if (parts.raw)
      return { native: null, grouped: null, raw: { q: w.data.slice(), scale: w.scale.length === 1 ? new Float32Array(parts.N).fill(w.scale[0]!) : w.scale.slice(), zeroPoint: w.zeroPoint ? expandZp(w.zeroPoint, parts.N) : null } };
    return { native: null, raw: null, grouped: groupedWeightsFromQTensor(w) };
  },
  free(p) { p.raw = null; p.grouped = null; },
  kernel() { return 'ts'; },
  linear(a, M, p, compute, bias, out) {
    const g = p.grouped ?? rawAsGrouped(p.raw!);
    if (compute === 'float32') {
      if (a.kind !== 'float') throw new Error('unreachable: float32 compute takes float activations');
      // As the native backend (lb_linear_f32): a row holding ±Inf is refused in either mode.
      for (let i = 0; i < M * g.K; i++) if (a.x[i] === Infinity || a.x[i] === -Infinity) throw new RangeError('infinite activation');
      return linearGroupedF32Ts(a.x, M, g, bias, out);
    }
    let q: Int8Array | Uint8Array, scale: Float32Array, zp: Int8Array | Uint8Array | null = null;
    if (a.kind === 'float') {
      const rows = quantizeRowsTs(a.x, M, g.K, a.bits === 8 ? 127 : 63);
      if ('badRow' in rows) throw new RangeError('infinite activation');
      q = rows.q;
      scale = rows.scale;
    } else ({ q, scale, zeroPoint: zp } = a);
    if (p.raw) {  // 8-bit, one group: the int8 engine's epilogue, y = float(acc) * s (+ bias)
      epilogueTs(linearAccTs(q, M, g.K, zp, p.raw.q, g.N, p.raw.zeroPoint), M, g.N, scale, p.raw.scale, bias, out);
    } else linearGroupedInt8Ts(q, M, zp, scale, g, bias, out);
  },
  async linearAsync(a, M, p, compute, bias, out, threads) { this.linear(a, M, p, compute, bias, out, threads); },
};

function expandZp(zp: Int8Array | Uint8Array, N: number): Int8Array | Uint8Array {
  if (zp.length === N) return zp.slice();
  const out = zp instanceof Int8Array ? new Int8Array(N) : new Uint8Array(N);
  return out.fill(zp[0]!);
}

/** 8-bit one-group weights seen as grouped weights (for the float32 compute mode). */
function rawAsGrouped(r: NonNullable<Packed['raw']>): GroupedWeightsTs {
  const N = r.scale.length, K = N ? r.q.length / N : 0;
  return { dtype: r.q instanceof Int8Array ? 'int8' : 'uint8', N, K, G: K || 1, groups: K ? 1 : 0, q: r.q, scale: r.scale,
    zeroPoint: r.zeroPoint ? Int32Array.from(r.zeroPoint) : null };
}

interface PackedState {
  parts: WeightParts;
  backend: LinearBackend;
  backendName: BackendName;
  packed: Packed;
  freed: boolean;
  inFlight: number;  // matmulAsync calls still reading the packed memory: free() waits for them
}

const states = new WeakMap<object, PackedState>();

/** Checks that `w` is a QTensor lowbit can multiply by, and returns its parts. */
function checkWeights(FN: string, w: QTensor): WeightParts {
  checkQTensor(FN, w, 'w');
  if (w.shape.length !== 2) throw rangeError(FN, `w.shape must be [N, K] (one output channel per row), got [${w.shape.join(', ')}]`);
  const [N, K] = w.shape as [number, number];
  const eight = w.dtype === 'int8' || w.dtype === 'uint8';
  const blocked = w.blockSize !== undefined, perChannel = !blocked && w.axis === 0, perTensor = !blocked && w.axis === undefined;
  if (blocked && w.axis !== 1)
    throw rangeError(FN, `w must be blocked along K (axis 1), got blocks along axis ${describe(w.axis)}`);
  if (!blocked && !perChannel && !(perTensor && eight))
    throw rangeError(FN, `w (${w.dtype}) must be ${eight ? 'per tensor, ' : ''}per output channel (axis 0) or blocked along K (axis 1 with blockSize), got axis ${describe(w.axis)}`);
  const groupSize = blocked && w.blockSize! < K ? w.blockSize! : K;
  const groups = K === 0 ? 0 : Math.ceil(K / groupSize);
  return { N, K, dtype: w.dtype, groupSize, groups, raw: eight && groups <= 1 };
}

function release(state: PackedState): void {
  state.backend.free(state.packed);
}

/** Packs quantized weights once for repeated `matmul` calls. The weights are copied. */
export function prepack(w: QTensor): PackedWeights {
  const FN = 'prepack';
  const parts = checkWeights(FN, w);
  const nb = activeNative();
  const backend = nb ? (nativeAdapter ??= nativeBackend(nb)) : tsBackend;
  const state: PackedState = { parts, backend, backendName: nb ? 'native' : 'ts', packed: backend.prepack(w, parts), freed: false, inFlight: 0 };
  const kernel = backend.kernel(state.packed);
  const packed: PackedWeights = Object.freeze({
    kind: 'lowbit.PackedWeights' as const,
    N: parts.N,
    K: parts.K,
    dtype: parts.dtype,
    groupSize: parts.groupSize,
    backend: state.backendName,
    kernel,
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
  a: Activations;
  M: number;
  compute: Compute;
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
  if (opts.compute !== undefined && opts.compute !== 'int8' && opts.compute !== 'float32')
    throw typeError(FN, 'opts.compute', "'int8' or 'float32'", opts.compute);

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
    if (state.backendName !== backend)
      throw rangeError(FN, `w was packed on the ${state.backendName} backend but the ${backend} backend is in use: prepack again after setBackend()`);
    const { N, K, dtype } = state.parts;
    const compute: Compute = opts.compute ?? (dtype === 'nf4' ? 'float32' : 'int8');
    if (dtype === 'nf4' && compute !== 'float32')
      throw rangeError(FN, `nf4 weights compute in float32 only (weight-only): opts.compute must be 'float32', got ${describe(opts.compute)}`);
    if (opts.bias !== undefined && (!isTyped(opts.bias, 'Float32Array') || opts.bias.length !== N))
      throw typeError(FN, 'opts.bias', `a Float32Array of ${N} values (one per output channel)`, opts.bias);

    // The activations.
    let M: number, a: Activations;
    if (isTyped(x, 'Float32Array')) {
      if (K === 0 ? x.length !== 0 : x.length % K !== 0)
        throw rangeError(FN, `x has ${x.length} values, not a whole number of rows of K = ${K}`);
      M = K === 0 ? 0 : x.length / K;
      a = { kind: 'float', x, bits };
    } else if (typeof x === 'object' && x !== null && 'dtype' in x) {
      checkQTensor(FN, x, 'x');
      if ((x.dtype !== 'int8' && x.dtype !== 'uint8') || x.shape.length !== 2 || x.shape[1] !== K || x.blockSize !== undefined || (x.scale.length !== 1 && x.axis !== 0))
        throw rangeError(FN, `x as a QTensor must be int8 / uint8 of shape [M, ${K}], per tensor or per row (axis 0); got ${x.dtype} [${x.shape.join(', ')}]`);
      if (compute !== 'int8') throw rangeError(FN, `x as a QTensor needs opts.compute 'int8', got ${describe(compute)}`);
      M = x.shape[0]!;
      a = { kind: 'q8', q: x.data, scale: x.scale, zeroPoint: x.zeroPoint ?? null };
    } else throw typeError(FN, 'x', 'a Float32Array or a QTensor', x);

    const out = opts.out;
    if (out !== undefined && (!isTyped(out, 'Float32Array') || out.length < M * N))
      throw typeError(FN, 'opts.out', `a Float32Array of at least ${M * N} values (M x N = ${M} x ${N})`, out);
    // Every check is above and the products fail before writing (an infinite row is found
    // before any output), so `out` can take the result directly.
    const result = out ? out.subarray(0, M * N) : new Float32Array(M * N);
    return { state, temporary, a, M, compute, bias: opts.bias ?? null, threads: opts.threads ?? 0, result, out };
  } catch (e) {
    temporary?.free();
    throw e;
  }
}

/**
 * y = x · wᵀ (+ bias) for a quantized linear layer, M x N float32. `x` is float32 with K
 * values per row (quantized per row to int8, SPEC §4) or a QTensor [M, K] (int8 / uint8, per
 * tensor or per row). `w` is a QTensor [N, K] or weights from `prepack`. With compute 'int8'
 * the results are identical on every ISA, thread count and backend, and a NaN in `x` quantizes
 * to 0 (as `quantizeLinear` maps NaN to the zero point); with compute 'float32' it makes its
 * row's outputs NaN. ±Infinity in `x` is a RangeError in either mode (a row with no finite scale).
 */
export function matmul(x: Float32Array | QTensor, w: QTensor | PackedWeights, opts: MatmulOptions = {}): Float32Array {
  const FN = 'matmul';
  const c = prepare(FN, x, w, opts);
  try {
    try {
      c.state.backend.linear(c.a, c.M, c.state.packed, c.compute, c.bias, c.result, c.threads);
    } catch (e) {
      throw c.a.kind === 'float' ? infinityError(FN, c.a.x, c.state.parts.K, e) : e;
    }
    return c.out ?? c.result;
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
  const c = prepare(FN, x, w, opts);
  const { state } = c;
  state.inFlight++;
  try {
    try {
      await state.backend.linearAsync(c.a, c.M, state.packed, c.compute, c.bias, c.result, c.threads);
    } catch (e) {
      throw c.a.kind === 'float' ? infinityError(FN, c.a.x, state.parts.K, e) : e;
    }
    return c.out ?? c.result;
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

