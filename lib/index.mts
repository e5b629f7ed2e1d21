// ES module entry: the same exports as the CommonJS build (Node detects them statically).
export * from './index.js';
