/**
 * lowbit — tensor quantization engine for Node.js.
 * Every export here is part of the public API (SPEC §5).
 */
export { matmulInteger, type MatmulIntegerOptions, type ZeroPoint } from './matmul_integer';
export { quantizeLinear, dequantizeLinear, dynamicQuantizeLinear, type QuantizeLinearOptions, type DequantizeLinearOptions, type QuantZeroPoint, type QuantizedData } from './quantize_linear';
export { packInt4, unpackInt4, packUint4, unpackUint4, packInt2, unpackInt2, packUint2, unpackUint2 } from './pack';
export { quantize, dequantize, bitsPerWeight, type QTensor, type QDType, type QuantizeOptions, type Scheme, type ScaleQuant, type ScaleDType } from './qtensor';
export { roundToFloat16, isFloat16Exact } from './float16';
export { NF4_CODE } from './fallback/nf4';
export type { Calibration } from './calibrate';
export { prepack, matmul, matmulAsync, type PackedWeights, type MatmulOptions, type Compute } from './matmul';
export { errorStats, type ErrorStats } from './stats';
export { cpuInfo, setIsa, getIsa, setBackend, getBackend, setThreads, getThreads, type CpuInfo, type BackendName } from './backend';
export { DTYPES, type IntDType } from './dtype';
export { measurePeak, peakKinds, PEAK_KINDS, type PeakKind, type MeasurePeakOptions } from './peak';
