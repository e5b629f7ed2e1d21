/**
 * ONNX QuantizeLinear / DequantizeLinear (opset 21 semantics, plus int2 / uint2), and
 * DynamicQuantizeLinear. SPEC §3 is the contract; the differences from onnxruntime are
 * documented in README ("Differences from onnxruntime").
 */
import { activeNative } from './backend';
import { DTYPES, dtypeOf8, isIntDType, isTyped, perByte, type IntDType } from './dtype';
import { checkShape, describe, rangeError, shapeSize, typeError } from './errors';
import { dequantizeLinearTs, dynamicQuantizeLinearTs, packBits, quantizeLinearTs, unpackBits, type Layout } from './fallback/quantize';

export interface QuantizeLinearOptions {
  /** Target dtype; sub-byte dtypes are packed (SPEC §2). */
  dtype: IntDType;
  /** Quantization axis for per-axis and blocked scales (negative counts from the end). Default 1 (0 for 1-D), as ONNX. */
  axis?: number;
  /** Block size along `axis` for blocked scales; the last block may be short. */
  blockSize?: number;
  /** Shape of the tensor; default [length]. */
  shape?: readonly number[];
}

/** dequantizeLinear's options: the layout, and optionally the caller's buffer for the result. */
export interface DequantizeLinearOptions extends QuantizeLinearOptions {
  /**
   * Receives the values (its first `size` elements; the rest is left alone) and is returned:
   * reusing it saves allocating and page-faulting a fresh array on every call. Nothing is
   * written when the call throws.
   */
  out?: Float32Array;
}

/** A zero point: one value for every scale, or one per scale. */
export type QuantZeroPoint = number | Int8Array | Uint8Array | readonly number[];

/** The quantized tensor's storage: Int8Array for int8, Uint8Array for uint8 and packed dtypes. */
export type QuantizedData<D extends IntDType> = D extends 'int8' ? Int8Array : Uint8Array;

interface Resolved {
  dtype: IntDType;
  shape: number[];
  size: number;
  layout: Layout;
  scale: Float32Array;
  zp: Int32Array;
  /** Elements per packed row (each row starts on a byte boundary); the whole tensor when flat. */
  rowLength: number;
}

/** Validates everything but the data; works out the layout of scales over the tensor. */
function resolve(fn: string, length: number | null, scale: unknown, zeroPoint: unknown, opts: unknown): Resolved {
  if (typeof opts !== 'object' || opts === null) throw typeError(fn, 'opts', 'an object with a dtype', opts);
  const o = opts as Partial<QuantizeLinearOptions>;
  if (!isIntDType(o.dtype)) throw typeError(fn, 'opts.dtype', `one of ${Object.keys(DTYPES).join(', ')}`, o.dtype);
  const dtype = o.dtype;
  let shape: number[];
  if (o.shape === undefined) {
    if (length === null) throw typeError(fn, 'opts.shape', `the tensor's shape (packed ${dtype} data does not tell its element count)`, o.shape);
    shape = [length];
  } else shape = checkShape(fn, 'opts.shape', o.shape, 0).slice();
  const size = shapeSize(fn, 'opts.shape', shape);
  if (length !== null && size !== length) throw rangeError(fn, `opts.shape [${shape.join(', ')}] holds ${size} elements but the data has ${length}`);

  // Scales: a number or a Float32Array; each finite and > 0 once rounded to float32.
  let scales: Float32Array;
  if (typeof scale === 'number') scales = Float32Array.of(scale);
  else if (isTyped(scale, 'Float32Array')) scales = scale;
  else throw typeError(fn, 'scale', 'a number or a Float32Array', scale);
  for (let i = 0; i < scales.length; i++) {
    const s = scales[i]!;
    if (!(s > 0 && s < Infinity))
      throw rangeError(fn, `scale${typeof scale === 'number' ? '' : `[${i}]`} must be finite and > 0 (as float32), got ${typeof scale === 'number' ? describe(scale) : describe(s)}`);
  }

  // Granularity.
  const rank = shape.length;
  const blocked = o.blockSize !== undefined;
  if (blocked && (typeof o.blockSize !== 'number' || !Number.isSafeInteger(o.blockSize) || o.blockSize < 1))
    throw rangeError(fn, `opts.blockSize must be an integer >= 1, got ${describe(o.blockSize)}`);
  const kind: Layout['kind'] = blocked ? 'block' : scales.length === 1 ? 'tensor' : 'axis';
  let axis = 0;
  if (kind !== 'tensor' || o.axis !== undefined) {
    const a = o.axis ?? (rank > 1 ? 1 : 0);
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank)
      throw rangeError(fn, `opts.axis must be an integer in [${-rank}, ${rank - 1}] for shape [${shape.join(', ')}], got ${describe(a)}`);
    axis = a < 0 ? a + rank : a;
  }
  const D = rank ? shape[axis]! : 1;
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const block = blocked ? o.blockSize! : 1;
  if (kind === 'axis' && scales.length !== D)
    throw rangeError(fn, `scale has ${scales.length} values; per-axis scales need one per index of axis ${axis} (${D}) of shape [${shape.join(', ')}]`);
  if (kind === 'block') {
    const expected = outer * Math.ceil(D / block) * inner;
    if (scales.length !== expected)
      throw rangeError(fn, `scale has ${scales.length} values; blocks of ${block} along axis ${axis} of shape [${shape.join(', ')}] need ${expected}`);
  }

  // Zero points: a number for all, or one per scale, in the dtype's range.
  const { min, max, signed } = DTYPES[dtype];
  const zp = new Int32Array(scales.length);
  if (typeof zeroPoint === 'number') {
    // One value for every scale: checked once (a per-scale array of copies cost milliseconds
    // for blocked tensors with hundreds of thousands of scales).
    if (!Number.isInteger(zeroPoint) || zeroPoint < min || zeroPoint > max)
      throw rangeError(fn, `zeroPoint must be an integer in the ${dtype} range [${min}, ${max}], got ${describe(zeroPoint)}`);
    zp.fill(zeroPoint);
  } else if (zeroPoint !== undefined && zeroPoint !== null) {
    let values: ArrayLike<unknown>;
    if (Array.isArray(zeroPoint)) values = zeroPoint;
    else if (ArrayBuffer.isView(zeroPoint)) {
      const cls = dtypeOf8(zeroPoint);
      if (cls === undefined || (cls === 'int8') !== signed)
        throw typeError(fn, 'zeroPoint', `an unpacked ${signed ? 'Int8Array' : 'Uint8Array'} for dtype ${dtype}, a number or a number[]`, zeroPoint);
      values = zeroPoint as Int8Array | Uint8Array;
    } else throw typeError(fn, 'zeroPoint', 'a number, a number[] or an Int8Array / Uint8Array', zeroPoint);
    if (values.length !== scales.length) throw rangeError(fn, `zeroPoint has ${values.length} values but there are ${scales.length} scales`);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw rangeError(fn, `zeroPoint[${i}] must be an integer in the ${dtype} range [${min}, ${max}], got ${describe(v)}`);
      zp[i] = v;
    }
  }
  // SPEC §2: rows are packed independently when blocked along the last axis of a 2-D+ tensor.
  const rowLength = blocked && rank >= 2 && axis === rank - 1 ? D : size;
  return { dtype, shape, size, layout: { outer, D, inner, kind, block }, scale: scales, zp, rowLength };
}

/** The lb_qlayout arguments of the native binding: outer, axisLen, inner, block, rowLen. */
function nativeLayout(r: Resolved): [number, number, number, number, number] {
  const l = r.layout;
  return [l.outer, l.D, l.inner, l.kind === 'block' ? l.block : 0, r.rowLength];
}

/** Bytes a packed tensor of `size` elements in rows of `rowLength` takes. */
function packedBytes(dtype: IntDType, size: number, rowLength: number): number {
  return rowLength === 0 ? 0 : (size / rowLength) * Math.ceil(rowLength / perByte(dtype));
}

/**
 * ONNX QuantizeLinear: q = saturate(round_half_even(x / scale) + zeroPoint). `scale` is one
 * number, or a Float32Array with one value per index of `opts.axis` or per block. NaN gives the
 * zero point; ±Inf and every out-of-range value saturate by sign. Sub-byte dtypes come back packed.
 */
export function quantizeLinear<D extends IntDType>(x: Float32Array, scale: number | Float32Array, zeroPoint: QuantZeroPoint | undefined | null, opts: QuantizeLinearOptions & { dtype: D }): QuantizedData<D> {
  return quantizeLinearRange('quantizeLinear', x, scale, zeroPoint, opts, null) as QuantizedData<D>;
}

/**
 * quantizeLinear with the saturation range narrowed to `range` (inside the dtype's), as the
 * symmetric scheme of `quantize` needs ([-127, 127] for int8); null = the dtype's range.
 */
export function quantizeLinearRange(FN: string, x: Float32Array, scale: number | Float32Array, zeroPoint: QuantZeroPoint | undefined | null, opts: QuantizeLinearOptions, range: [number, number] | null): Int8Array | Uint8Array {
  if (!isTyped(x, 'Float32Array')) throw typeError(FN, 'x', 'a Float32Array', x);
  const r = resolve(FN, x.length, scale, zeroPoint, opts);
  const [qmin, qmax] = range ?? [DTYPES[r.dtype].min, DTYPES[r.dtype].max];
  const native = activeNative();
  if (native) {
    const out = r.dtype === 'int8' ? new Int8Array(r.size) : new Uint8Array(packedBytes(r.dtype, r.size, r.rowLength));
    native.quantizeLinear(x, r.scale, r.zp, DTYPES[r.dtype].code, ...nativeLayout(r), out, qmin, qmax);
    return out;
  }
  const q = new Int32Array(r.size);
  quantizeLinearTs(x, r.scale, r.zp, qmin, qmax, r.layout, q);
  if (r.dtype === 'int8') return Int8Array.from(q);
  if (r.dtype === 'uint8') return Uint8Array.from(q);
  return packBits(q, r.dtype, r.rowLength);
}

/**
 * ONNX DequantizeLinear: x = (q - zeroPoint) * scale in float32. `q` is an Int8Array (int8), a
 * Uint8Array (uint8) or packed bytes (sub-byte dtypes, with `opts.shape` giving the count).
 */
export function dequantizeLinear(q: Int8Array | Uint8Array, scale: number | Float32Array, zeroPoint: QuantZeroPoint | undefined | null, opts: DequantizeLinearOptions): Float32Array {
  const FN = 'dequantizeLinear';
  const cls = dtypeOf8(q);
  const dtype = (opts as Partial<QuantizeLinearOptions> | null)?.dtype;
  const bytewise = dtype === 'int8' || dtype === 'uint8';
  if (cls === undefined || (bytewise && cls !== dtype) || (!bytewise && cls !== 'uint8'))
    throw typeError(FN, 'q', `${dtype === 'int8' ? 'an Int8Array' : 'a Uint8Array'}${bytewise || !isIntDType(dtype) ? '' : ` of packed ${dtype}`} for dtype ${describe(dtype)}`, q);
  const r = resolve(FN, bytewise ? q.length : null, scale, zeroPoint, opts);
  if (!bytewise) {
    const need = packedBytes(r.dtype, r.size, r.rowLength);
    if (q.length !== need) throw rangeError(FN, `q has ${q.length} bytes but ${r.size} packed ${r.dtype} values of shape [${r.shape.join(', ')}] take ${need}`);
  }
  const given = opts.out;
  if (given !== undefined && (!isTyped(given, 'Float32Array') || given.length < r.size))
    throw typeError(FN, 'opts.out', `a Float32Array of at least ${r.size} values`, given);
  const native = activeNative();
  const out = given ? given.subarray(0, r.size) : new Float32Array(r.size);
  if (native) {
    native.dequantizeLinear(q, r.scale, r.zp, DTYPES[r.dtype].code, ...nativeLayout(r), out);
    return given ?? out;
  }
  let values: Int32Array;
  if (bytewise) values = Int32Array.from(q);
  else values = unpackBits(q as Uint8Array, r.dtype, r.rowLength, r.size);
  dequantizeLinearTs(values, r.scale, r.zp, r.layout, out);
  return given ?? out;
}

/**
 * ONNX DynamicQuantizeLinear: uint8, range widened to include 0, scale = (max - min) / 255,
 * zeroPoint = saturate(round_half_even(0 - min / scale)); a zero (or underflowing) range gives
 * scale 1 and zero point 0. NaN is left out of the range and quantizes to the zero point; ±Inf
 * has no finite scale and is a RangeError.
 */
export function dynamicQuantizeLinear(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  const FN = 'dynamicQuantizeLinear';
  if (!isTyped(x, 'Float32Array')) throw typeError(FN, 'x', 'a Float32Array', x);
  for (let i = 0; i < x.length; i++)
    if (x[i] === Infinity || x[i] === -Infinity) throw rangeError(FN, `x[${i}] is ${x[i]}: no finite scale covers it`);
  return dynamicQuantizeLinearTs(x);
}
