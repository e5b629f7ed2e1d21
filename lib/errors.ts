/** Error helpers: every message names the function, the argument, what was expected and what was given. */

/** A short description of a value for error messages: its class, type, or value. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `Array(${v.length})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return typeof v;
}

export function typeError(fn: string, arg: string, expected: string, given: unknown): TypeError {
  return new TypeError(`${fn}: ${arg} must be ${expected}, got ${describe(given)}`);
}

export function rangeError(fn: string, message: string): RangeError {
  return new RangeError(`${fn}: ${message}`);
}

/** Checks a shape: an array of non-negative safe integers. Returns it as a plain number[]. */
export function checkShape(fn: string, arg: string, shape: unknown, minRank = 1): number[] {
  if (!Array.isArray(shape)) throw typeError(fn, arg, 'an array of non-negative integers', shape);
  if (shape.length < minRank) throw rangeError(fn, `${arg} must have at least ${minRank} dimension(s), got [${shape.join(', ')}]`);
  shape.forEach((d: unknown, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      throw rangeError(fn, `${arg}[${i}] must be a non-negative integer, got ${describe(d)}`);
  });
  return shape as number[];
}

/** Product of the dimensions, refusing sizes no typed array can hold. */
export function shapeSize(fn: string, arg: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > 2 ** 32) throw rangeError(fn, `${arg} [${shape.join(', ')}] has ${n} elements, more than a typed array can hold`);
  return n;
}
