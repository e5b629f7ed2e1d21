/**
 * A minimal ONNX model writer for the onnxruntime comparisons (reference tests and the bench):
 * nodes, graph inputs and outputs, and constant initializers, encoded as protobuf by hand
 * (ModelProto, GraphProto, NodeProto, ValueInfoProto, TensorProto field numbers from
 * onnx.proto), plus a reader of a model's node op types (to see what onnxruntime's optimizer made
 * of a graph). Messages are built as lists of byte chunks, so initializers of hundreds of MB are
 * copied once, into the final buffer.
 */
export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, uint4: 21, int4: 22 } as const;
export type OnnxType = keyof typeof ONNX_TYPE;

type Parts = Uint8Array[];

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}
const size = (p: Parts): number => p.reduce((s, c) => s + c.length, 0);
const int = (field: number, v: number): Parts => [Uint8Array.from([...varint((field << 3) | 0), ...varint(v)])];
const msg = (field: number, body: Parts): Parts => [Uint8Array.from([...varint((field << 3) | 2), ...varint(size(body))]), ...body];
const str = (field: number, s: string): Parts => msg(field, [new Uint8Array(Buffer.from(s, 'utf8'))]);

export interface ValueInfo { name: string; type: OnnxType; shape: readonly number[] }
export interface NodeSpec { op: string; inputs: readonly string[]; outputs: readonly string[]; attributes?: Record<string, number>; domain?: string }
/**
 * A constant tensor of the graph (TensorProto raw_data, little-endian as on every host lowbit
 * builds for). int4 / uint4 data is packed two values a byte, low nibble first.
 */
export interface Initializer { name: string; type: OnnxType; shape: readonly number[]; data: Float32Array | Int32Array | Int8Array | Uint8Array }

function valueInfo(v: ValueInfo): Parts {
  const dims = v.shape.flatMap((d) => msg(1, int(1, d)));
  const tensorType = [...int(1, ONNX_TYPE[v.type]), ...msg(2, dims)];
  return [...str(1, v.name), ...msg(2, msg(1, tensorType))];
}

function node(n: NodeSpec, index: number): Parts {
  const attrs = Object.entries(n.attributes ?? {}).flatMap(([name, value]) =>
    msg(5, [...str(1, name), ...int(3, value), ...int(20, 2 /* AttributeType.INT */)]));
  return [...n.inputs.flatMap((i) => str(1, i)), ...n.outputs.flatMap((o) => str(2, o)), ...str(3, `${n.op}_${index}`), ...str(4, n.op), ...(n.domain ? str(7, n.domain) : []), ...attrs];
}

function tensor(t: Initializer): Parts {
  const count = t.shape.reduce((p, d) => p * d, 1);
  const bytes = t.type === 'int4' || t.type === 'uint4' ? Math.ceil(count / 2) : count * (t.type === 'float' || t.type === 'int32' ? 4 : 1);
  if (t.data.byteLength !== bytes) throw new RangeError(`initializer ${t.name}: ${t.data.byteLength} bytes of data for ${t.type} [${t.shape.join(', ')}] (${bytes} expected)`);
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return [...t.shape.flatMap((d) => int(1, d)), ...int(2, ONNX_TYPE[t.type]), ...str(8, t.name), ...msg(9, [raw])];
}

/** A one-node model at the given opset. */
export function oneNodeModel(spec: NodeSpec, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], opset = 21, initializers: readonly Initializer[] = []): Uint8Array {
  return graphModel([spec], inputs, outputs, opset, initializers);
}

/** A model of several nodes, in order, at the given opset, with constant initializers. */
export function graphModel(nodes: readonly NodeSpec[], inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], opset = 21, initializers: readonly Initializer[] = []): Uint8Array {
  const graph = [
    ...nodes.flatMap((n, i) => msg(1, node(n, i))), ...str(2, 'g'), ...initializers.flatMap((t) => msg(5, tensor(t))),
    ...inputs.flatMap((i) => msg(11, valueInfo(i))), ...outputs.flatMap((o) => msg(12, valueInfo(o))),
  ];
  // One opset import for the default domain, and version 1 of every other domain a node uses
  // (com.microsoft for onnxruntime's contrib ops such as MatMulNBits).
  const domains = [...new Set(nodes.map((n) => n.domain).filter((d): d is string => !!d))];
  const model = [...int(1, 8 /* IR version */), ...str(2, 'lowbit'), ...msg(7, graph), ...msg(8, [...str(1, ''), ...int(2, opset)]),
    ...domains.flatMap((d) => msg(8, [...str(1, d), ...int(2, 1)]))];
  const out = new Uint8Array(size(model));
  let at = 0;
  for (const p of model) { out.set(p, at); at += p.length; }
  return out;
}

/** Walks the fields of one protobuf message: calls `onField` with each field number and, for length-delimited fields, its bytes. */
function fields(buf: Uint8Array, onField: (field: number, body: Uint8Array | null) => void): void {
  let at = 0;
  const readVarint = (): number => {
    let v = 0, mul = 1, byte: number;
    do {
      if (at >= buf.length) throw new RangeError('truncated protobuf varint');
      byte = buf[at++]!;
      v += (byte & 0x7f) * mul;  // arithmetic, not bit operations: lengths may pass 2^31
      mul *= 128;
    } while (byte & 0x80);
    return v;
  };
  while (at < buf.length) {
    const k = readVarint(), field = Math.floor(k / 8), wire = k % 8;
    if (wire === 0) { readVarint(); onField(field, null); }
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const n = readVarint();
      if (at + n > buf.length) throw new RangeError('truncated protobuf field');
      onField(field, buf.subarray(at, at + n));
      at += n;
    } else throw new RangeError(`unsupported protobuf wire type ${wire}`);
  }
}

/** The op types of a model's top-level graph nodes, in order, "domain.op" outside the default domain. */
export function nodeOpTypes(model: Uint8Array): string[] {
  const ops: string[] = [];
  const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  fields(model, (f, graph) => {
    if (f !== 7 || !graph) return;
    fields(graph, (g, nodeBytes) => {
      if (g !== 1 || !nodeBytes) return;
      let op = '', domain = '';
      fields(nodeBytes, (n, b) => {
        if (n === 4 && b) op = text(b);
        else if (n === 7 && b) domain = text(b);
      });
      ops.push(domain ? `${domain}.${op}` : op);
    });
  });
  return ops;
}
