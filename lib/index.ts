/**
 * lowbit — tensor quantization engine for Node.js.
 * Every export here is part of the public API (SPEC §5).
 */
export { matmulInteger, type ZeroPoint } from './matmul_integer';
export { cpuInfo, setIsa, getIsa, setBackend, getBackend, type CpuInfo, type BackendName } from './backend';
export { DTYPES, type IntDType } from './dtype';
