/**
 * Math functions bound once at load. Hot loops call these instead of `Math.x` because a global
 * lookup is slow inside vm contexts such as jest's sandbox (every `Math` read goes through
 * the context's global object); a module-level binding is as fast as the builtin everywhere.
 */
export const { fround, floor, ceil, abs, min, max, sqrt, log10 } = Math;
export const { isFinite: isFiniteNumber, isNaN: isNaNNumber } = Number;
export const INF = Number.POSITIVE_INFINITY;
