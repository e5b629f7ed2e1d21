/**
 * quantize / dequantize: lowbit chooses the scales and zero points (scheme, granularity,
 * calibration) and returns a QTensor, a plain serialisable object (SPEC §5).
 */
import { calibrate, type Calibration, type Grid, type ScaleRounding } from './calibrate';
import { DTYPES, dtypeOf8, isIntDType, isTyped, perByte, type IntDType } from './dtype';
import { checkShape, describe, rangeError, shapeSize, typeError } from './errors';
import { forEachElement, packBits, roundHalfEven, unpackBits, type Layout } from './fallback/quantize';
import { nf4Index, nf4Value } from './fallback/nf4';
import { dequantizeLinear, quantizeLinearRange } from './quantize_linear';
import { FLOAT16_MAX, FLOAT16_MIN_SUBNORMAL, firstNonFloat16, roundToFloat16 } from './float16';
import { abs, ceil, floor, fround, isFiniteNumber, max, min } from './math';

export type QDType = IntDType | 'nf4';
export type Scheme = 'symmetric' | 'asymmetric';
/** How scales are stored: float32, or IEEE binary16 (every scale then exactly representable in it). */
export type ScaleDType = 'float32' | 'float16';

export interface QuantizeOptions {
  dtype: QDType;
  /** 'symmetric' (default): zero point 0 (2^(bits-1) for unsigned dtypes), values in [-qmax, qmax]. */
  scheme?: Scheme;
  /** Per-channel along this axis; omitted: per tensor (or, with blockSize, the last axis). */
  axis?: number;
  /** Blocked along `axis`: one scale per blockSize consecutive elements; nf4 defaults to 64. */
  blockSize?: number;
  /** How the clipping range is chosen: 'minmax' (default), 'percentile', 'mse'. */
  calibration?: Calibration;
  /** For 'percentile': the percentile of |x| to clip at, in (0, 100]; default 99.9. */
  percentile?: number;
  /** nf4 only: quantize the block scales to 8 bits in blocks of 256 (bitsandbytes' double quantization). */
  doubleQuant?: boolean;
  /**
   * 'float32' (default), or 'float16': every chosen scale (nf4: absmax) is rounded to the nearest
   * binary16 value, ties to even, and the data quantized with the rounded scale (SPEC §2).
   * Not with doubleQuant (its scales are already 8-bit).
   */
  scaleDtype?: ScaleDType;
}

/** nf4 double quantization: the block absmax values as int8 in blocks of `blockSize`. */
export interface ScaleQuant {
  /** (absmax - offset) / scale, rounded half to even, in [-127, 127]. */
  data: Int8Array;
  /** One float32 scale per block of `blockSize` absmax values. */
  scale: Float32Array;
  /** The mean of the absmax values, subtracted before quantizing them. */
  offset: number;
  blockSize: number;
}

/**
 * A quantized tensor. `data`: Int8Array for int8, Uint8Array for uint8 and packed sub-byte
 * dtypes (nf4: code indices, two per byte). `scale`: one per tensor, per index of `axis`, or per
 * block (shape with `axis` replaced by ceil(dim / blockSize)); for nf4 it is the block absmax
 * (decoded from `scaleQuant` when double-quantized). `zeroPoint`: unpacked, one per scale;
 * absent means 0.
 */
export interface QTensor {
  dtype: QDType;
  shape: number[];
  data: Int8Array | Uint8Array;
  scale: Float32Array;
  zeroPoint?: Int8Array | Uint8Array;
  axis?: number;
  blockSize?: number;
  scheme: Scheme;
  scaleQuant?: ScaleQuant;
  /** 'float16': every scale is exactly a binary16 value (stored in 2 bytes when packed); absent means 'float32'. */
  scaleDtype?: ScaleDType;
}

const QMAX_SYM: Record<number, number> = { 8: 127, 4: 7, 2: 1 };

interface Plan {
  shape: number[];
  size: number;
  layout: Layout;
  axis: number | undefined;
  blockSize: number | undefined;
  nScales: number;
  rowLength: number;
}

/** Granularity -> the element-to-scale layout (the same rules as quantizeLinear's). */
function plan(FN: string, shape: number[], axisOpt: unknown, blockOpt: unknown, defaultBlock: number | undefined): Plan {
  const rank = shape.length, size = shape.reduce((p, d) => p * d, 1);
  const blockSize = blockOpt ?? defaultBlock;
  if (blockSize !== undefined && (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 1))
    throw rangeError(FN, `opts.blockSize must be an integer >= 1, got ${describe(blockSize)}`);
  let axis: number | undefined;
  if (axisOpt !== undefined || blockSize !== undefined) {
    const a = axisOpt ?? rank - 1;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank)
      throw rangeError(FN, `opts.axis must be an integer in [${-rank}, ${rank - 1}] for shape [${shape.join(', ')}], got ${describe(a)}`);
    axis = a < 0 ? a + rank : a;
  }
  if (axis === undefined) return { shape, size, layout: { outer: 1, D: size, inner: 1, kind: 'tensor', block: 1 }, axis, blockSize, nScales: 1, rowLength: size };
  const D = shape[axis]!, outer = shape.slice(0, axis).reduce((p, d) => p * d, 1), inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  if (blockSize === undefined) return { shape, size, layout: { outer, D, inner, kind: 'axis', block: 1 }, axis, blockSize, nScales: D, rowLength: size };
  const rowLength = rank >= 2 && axis === rank - 1 ? D : size;
  return { shape, size, layout: { outer, D, inner, kind: 'block', block: blockSize }, axis, blockSize, nScales: outer * ceil(D / blockSize) * inner, rowLength };
}

/** The values of each scale group, gathered contiguously: group s is values[start[s] .. start[s+1]). */
function gatherGroups(x: Float32Array, p: Plan): { values: Float32Array; start: Int32Array } {
  const l = p.layout;
  if (p.nScales === 1) return { values: x, start: Int32Array.of(0, x.length) };
  // Groups that already lie contiguously, in scale order: no copy.
  if (l.kind === 'axis' && l.outer === 1) return { values: x, start: Int32Array.from({ length: p.nScales + 1 }, (_, s) => s * l.inner) };
  if (l.kind === 'block' && l.inner === 1) {
    const nb = ceil(l.D / l.block);
    return { values: x, start: Int32Array.from({ length: p.nScales + 1 }, (_, s) => (s === p.nScales ? x.length : floor(s / nb) * l.D + (s % nb) * l.block)) };
  }
  const start = new Int32Array(p.nScales + 1);
  forEachElement(p.layout, (_i, s) => { start[s + 1]!++; });
  for (let s = 0; s < p.nScales; s++) start[s + 1]! += start[s]!;
  const fill = start.slice(0, p.nScales), values = new Float32Array(x.length);
  forEachElement(p.layout, (i, s) => { values[fill[s]!++] = x[i]!; });
  return { values, start };
}

function checkOptions(FN: string, opts: unknown): Required<Pick<QuantizeOptions, 'dtype' | 'scheme' | 'calibration' | 'percentile'>> & QuantizeOptions {
  if (typeof opts !== 'object' || opts === null) throw typeError(FN, 'opts', 'an object with a dtype', opts);
  const o = opts as Partial<QuantizeOptions>;
  if (o.dtype !== 'nf4' && !isIntDType(o.dtype)) throw typeError(FN, 'opts.dtype', `one of ${[...Object.keys(DTYPES), 'nf4'].join(', ')}`, o.dtype);
  const scheme = o.scheme ?? 'symmetric';
  if (scheme !== 'symmetric' && scheme !== 'asymmetric') throw typeError(FN, 'opts.scheme', "'symmetric' or 'asymmetric'", o.scheme);
  const calibration = o.calibration ?? 'minmax';
  if (calibration !== 'minmax' && calibration !== 'percentile' && calibration !== 'mse')
    throw typeError(FN, 'opts.calibration', "'minmax', 'percentile' or 'mse'", o.calibration);
  const percentile = o.percentile ?? 99.9;
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100))
    throw rangeError(FN, `opts.percentile must be a number in (0, 100], got ${describe(o.percentile)}`);
  if (o.dtype === 'nf4' && (scheme !== 'symmetric' || calibration !== 'minmax'))
    throw rangeError(FN, `nf4 is symmetric absmax scaling: opts.scheme must be 'symmetric' and opts.calibration 'minmax', got ${describe(scheme)} / ${describe(calibration)}`);
  if (o.doubleQuant !== undefined && (typeof o.doubleQuant !== 'boolean' || (o.doubleQuant && o.dtype !== 'nf4')))
    throw rangeError(FN, `opts.doubleQuant is a boolean for dtype nf4 only, got ${describe(o.doubleQuant)} for ${describe(o.dtype)}`);
  if (o.scaleDtype !== undefined && o.scaleDtype !== 'float32' && o.scaleDtype !== 'float16')
    throw typeError(FN, 'opts.scaleDtype', "'float32' or 'float16'", o.scaleDtype);
  if (o.scaleDtype === 'float16' && o.doubleQuant === true)
    throw rangeError(FN, "opts.scaleDtype 'float16' cannot be combined with opts.doubleQuant: double-quantized scales are already 8-bit");
  return { ...o, dtype: o.dtype, scheme, calibration, percentile };
}

/**
 * Quantizes `x` (shape `shape`) choosing scales and zero points by the scheme, granularity and
 * calibration in `opts`. NaN and ±Inf have no scale: the first one is a RangeError naming its index.
 */
export function quantize(x: Float32Array, shape: readonly number[], opts: QuantizeOptions): QTensor {
  const FN = 'quantize';
  if (!isTyped(x, 'Float32Array')) throw typeError(FN, 'x', 'a Float32Array', x);
  const s = checkShape(FN, 'shape', shape, 0).slice();
  const size = shapeSize(FN, 'shape', s);
  if (size !== x.length) throw rangeError(FN, `shape [${s.join(', ')}] holds ${size} elements but x has ${x.length}`);
  const o = checkOptions(FN, opts);
  for (let i = 0; i < x.length; i++)
    if (!isFiniteNumber(x[i])) throw rangeError(FN, `x[${i}] is ${x[i]}: quantize derives its scales from the data, which must be finite`);
  const p = plan(FN, s, o.axis, o.blockSize, o.dtype === 'nf4' ? 64 : undefined);
  const half = o.scaleDtype === 'float16';
  if (o.dtype === 'nf4') return quantizeNf4(FN, x, p, o.doubleQuant === true, half);

  const dtype = o.dtype, bits = DTYPES[dtype].bits;
  const symmetric = o.scheme === 'symmetric';
  const zp0 = symmetric && !DTYPES[dtype].signed ? 1 << (bits - 1) : 0;
  const grid: Grid = symmetric
    ? { qmin: zp0 - QMAX_SYM[bits]!, qmax: zp0 + QMAX_SYM[bits]!, symmetric, zeroPoint: zp0 }
    : { qmin: DTYPES[dtype].min, qmax: DTYPES[dtype].max, symmetric, zeroPoint: 0 };
  const { values, start } = gatherGroups(x, p);
  const scale = new Float32Array(p.nScales);
  const zeroPoint = DTYPES[dtype].signed ? new Int8Array(p.nScales) : new Uint8Array(p.nScales);
  for (let g = 0; g < p.nScales; g++) {
    // float16: calibration rounds each candidate scale and derives the zero point from it.
    const round: ScaleRounding | null = half ? (v) => scaleToFloat16(FN, g, v) : null;
    const c = calibrate(values.subarray(start[g]!, start[g + 1]!), grid, o.calibration, o.percentile, round);
    scale[g] = c.scale;
    zeroPoint[g] = c.zeroPoint;
  }
  const data = quantizeLinearRange(FN, x, scale, zeroPoint, { dtype, shape: s, axis: p.axis, blockSize: p.blockSize }, [grid.qmin, grid.qmax]);
  const q: QTensor = { dtype, shape: s, data, scale, scheme: o.scheme };
  if (!symmetric || zp0 !== 0) q.zeroPoint = zeroPoint;
  if (p.axis !== undefined) q.axis = p.axis;
  if (p.blockSize !== undefined) q.blockSize = p.blockSize;
  if (half) q.scaleDtype = 'float16';
  return q;
}

/**
 * A chosen scale (finite, > 0, or an nf4 absmax >= 0) rounded to binary16, ties to even. A
 * positive scale below 2^-25 would round to 0, which is no scale: it becomes 2^-24, the
 * smallest positive binary16 value, instead (the values it quantizes are then smaller than
 * the scale). A scale from 65520 on would round to Inf and cannot be stored: a RangeError.
 */
function scaleToFloat16(FN: string, index: number, v: number): number {
  const r = roundToFloat16(v);
  if (r === Infinity)
    throw rangeError(FN, `the scale of block ${index} is ${v}, beyond the largest binary16 value ${FLOAT16_MAX}: opts.scaleDtype 'float16' cannot store it`);
  return r === 0 && v > 0 ? FLOAT16_MIN_SUBNORMAL : r;
}

/** nf4: per block absmax a (0 for an all-zero block, which holds index 7), index of the code nearest x / a. */
function quantizeNf4(FN: string, x: Float32Array, p: Plan, doubleQuant: boolean, half: boolean): QTensor {
  const { values, start } = gatherGroups(x, p);
  let absmax: Float32Array = new Float32Array(p.nScales);
  for (let g = 0; g < p.nScales; g++) {
    let a = 0;
    for (let i = start[g]!; i < start[g + 1]!; i++) a = max(a, abs(values[i]!));
    // float16: a rounded-down absmax maps the block's extreme slightly beyond ±1, which
    // nf4Index clamps to code 0 / 15.
    absmax[g] = half ? scaleToFloat16(FN, g, a) : a;
  }
  let scaleQuant: ScaleQuant | undefined;
  if (doubleQuant) {
    scaleQuant = quantizeScales(absmax);
    absmax = decodeScales(scaleQuant);
  }
  const idx = new Int32Array(x.length);
  forEachElement(p.layout, (i, g) => { idx[i] = absmax[g]! > 0 ? nf4Index(fround(x[i]! / absmax[g]!)) : 7; });
  const q: QTensor = { dtype: 'nf4', shape: p.shape, data: packBits(idx, 'uint4', p.rowLength), scale: absmax, scheme: 'symmetric', axis: p.axis, blockSize: p.blockSize };
  if (scaleQuant) q.scaleQuant = scaleQuant;
  if (half) q.scaleDtype = 'float16';
  return q;
}

const SCALE_BLOCK = 256;

/** Double quantization: absmax - mean, as int8 symmetric in blocks of 256 with a float32 scale each. */
function quantizeScales(absmax: Float32Array): ScaleQuant {
  let sum = 0;
  for (const a of absmax) sum += a;
  const offset = fround(absmax.length ? sum / absmax.length : 0);
  const blocks = ceil(absmax.length / SCALE_BLOCK);
  const data = new Int8Array(absmax.length), scale = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    const end = min(absmax.length, (b + 1) * SCALE_BLOCK);
    for (let i = b * SCALE_BLOCK; i < end; i++) amax = max(amax, abs(fround(absmax[i]! - offset)));
    const s = fround(amax / 127);
    scale[b] = s > 0 ? s : 1;
    for (let i = b * SCALE_BLOCK; i < end; i++) {
      const v = roundHalfEven(fround(fround(absmax[i]! - offset) / scale[b]!));
      data[i] = max(-127, min(127, v));
    }
  }
  return { data, scale, offset, blockSize: SCALE_BLOCK };
}

/** absmax = max(0, q * scale + offset) in float32 (a block decoding below 0 holds zeros). */
function decodeScales(sq: ScaleQuant): Float32Array {
  const out = new Float32Array(sq.data.length);
  for (let i = 0; i < out.length; i++) out[i] = max(0, fround(fround(sq.data[i]! * sq.scale[floor(i / sq.blockSize)]!) + sq.offset));
  return out;
}

/** Validates a QTensor (one lowbit may not have made) and returns its plan. */
export function checkQTensor(FN: string, q: unknown, arg = 'q'): { t: QTensor; p: Plan } {
  if (typeof q !== 'object' || q === null) throw typeError(FN, arg, 'a QTensor object', q);
  const t = q as QTensor;
  if (t.dtype !== 'nf4' && !isIntDType(t.dtype)) throw typeError(FN, `${arg}.dtype`, `one of ${[...Object.keys(DTYPES), 'nf4'].join(', ')}`, t.dtype);
  const s = checkShape(FN, `${arg}.shape`, t.shape, 0).slice();
  shapeSize(FN, `${arg}.shape`, s);
  if (t.scheme !== 'symmetric' && t.scheme !== 'asymmetric') throw typeError(FN, `${arg}.scheme`, "'symmetric' or 'asymmetric'", t.scheme);
  const p = plan(FN, s, t.axis, t.blockSize, undefined);
  if (!isTyped(t.scale, 'Float32Array')) throw typeError(FN, `${arg}.scale`, 'a Float32Array', t.scale);
  if (t.scale.length !== p.nScales) throw rangeError(FN, `${arg}.scale has ${t.scale.length} values but the granularity of ${arg} needs ${p.nScales}`);
  const nf4 = t.dtype === 'nf4';
  for (let i = 0; i < t.scale.length; i++) {
    const v = t.scale[i]!;
    if (!(nf4 ? v >= 0 : v > 0) || v === Infinity) throw rangeError(FN, `${arg}.scale[${i}] must be finite and ${nf4 ? '>= 0' : '> 0'}, got ${v}`);
  }
  if (t.scaleDtype !== undefined && t.scaleDtype !== 'float32' && t.scaleDtype !== 'float16')
    throw typeError(FN, `${arg}.scaleDtype`, "absent, 'float32' or 'float16'", t.scaleDtype);
  if (t.scaleDtype === 'float16') {
    if (t.scaleQuant !== undefined) throw rangeError(FN, `${arg}.scaleDtype 'float16' cannot be combined with ${arg}.scaleQuant (8-bit scales)`);
    const i = firstNonFloat16(t.scale);
    if (i >= 0) throw rangeError(FN, `${arg}.scale[${i}] must be exactly representable in binary16 (${arg}.scaleDtype is 'float16'), got ${t.scale[i]}`);
  }
  const unpacked = t.dtype === 'int8' || t.dtype === 'uint8';
  const wantClass = t.dtype === 'int8' ? 'int8' : 'uint8';
  if (dtypeOf8(t.data) !== wantClass) throw typeError(FN, `${arg}.data`, `${wantClass === 'int8' ? 'an Int8Array' : 'a Uint8Array'} for dtype ${t.dtype}`, t.data);
  const bytes = unpacked ? p.size : p.rowLength === 0 ? 0 : (p.size / p.rowLength) * ceil(p.rowLength / perByte(nf4 ? 'uint4' : (t.dtype as IntDType)));
  if (t.data.length !== bytes) throw rangeError(FN, `${arg}.data has ${t.data.length} bytes but shape [${s.join(', ')}] of ${t.dtype} takes ${bytes}`);
  if (t.zeroPoint !== undefined) {
    if (nf4) throw rangeError(FN, `${arg}.zeroPoint must be absent for nf4`);
    const { min, max, signed } = DTYPES[t.dtype as IntDType];
    if (dtypeOf8(t.zeroPoint) !== (signed ? 'int8' : 'uint8')) throw typeError(FN, `${arg}.zeroPoint`, `${signed ? 'an Int8Array' : 'a Uint8Array'} for dtype ${t.dtype}`, t.zeroPoint);
    if (t.zeroPoint.length !== t.scale.length) throw rangeError(FN, `${arg}.zeroPoint has ${t.zeroPoint.length} values but ${arg}.scale has ${t.scale.length}`);
    const bad = t.zeroPoint.findIndex((v: number) => v < min || v > max);
    if (bad >= 0) throw rangeError(FN, `${arg}.zeroPoint[${bad}] must be an integer in the ${t.dtype} range [${min}, ${max}], got ${t.zeroPoint[bad]}`);
  }
  if (t.scaleQuant !== undefined) {
    const sq = t.scaleQuant;
    if (!nf4) throw rangeError(FN, `${arg}.scaleQuant is for nf4 only`);
    if (!isTyped(sq.data, 'Int8Array') || !isTyped(sq.scale, 'Float32Array') || typeof sq.offset !== 'number' || sq.blockSize !== SCALE_BLOCK ||
        sq.data.length !== t.scale.length || sq.scale.length !== ceil(t.scale.length / SCALE_BLOCK))
      throw typeError(FN, `${arg}.scaleQuant`, `{ data: Int8Array(${t.scale.length}), scale: Float32Array(${ceil(t.scale.length / SCALE_BLOCK)}), offset, blockSize: ${SCALE_BLOCK} }`, sq);
    const decoded = decodeScales(sq);
    const bad = decoded.findIndex((v, i) => v !== t.scale[i]);
    if (bad >= 0) throw rangeError(FN, `${arg}.scale[${bad}] = ${t.scale[bad]} disagrees with ${arg}.scaleQuant, which decodes to ${decoded[bad]}`);
  }
  return { t: { ...t, shape: s }, p };
}

/** Dequantizes a QTensor to float32: (q - zeroPoint) * scale, or the nf4 code value times absmax. */
export function dequantize(q: QTensor): Float32Array {
  const FN = 'dequantize';
  const { t, p } = checkQTensor(FN, q);
  if (t.dtype !== 'nf4')
    return dequantizeLinear(t.data, t.scale, t.zeroPoint ?? null, { dtype: t.dtype, shape: t.shape, axis: t.axis, blockSize: t.blockSize });
  const idx = unpackBits(t.data as Uint8Array, 'uint4', p.rowLength, p.size);
  const out = new Float32Array(p.size);
  forEachElement(p.layout, (i, g) => { out[i] = nf4Value(idx[i]!, t.scale[g]!); });
  return out;
}

/** Storage of a QTensor in bits per element: data, scales, zero points and second-level scales. */
export function bitsPerWeight(q: QTensor): number {
  const { t, p } = checkQTensor('bitsPerWeight', q);
  if (p.size === 0) return 0;
  const scaleBits = t.scaleQuant ? t.scaleQuant.data.length * 8 + t.scaleQuant.scale.length * 32 + 32 : t.scale.length * (t.scaleDtype === 'float16' ? 16 : 32);
  const zpBits = t.zeroPoint ? t.zeroPoint.length * (t.dtype === 'nf4' ? 0 : DTYPES[t.dtype].bits) : 0;
  return (t.data.length * 8 + scaleBits + zpBits) / p.size;
}
