/**
 * A minimal ONNX model writer for reference tests: one node, graph inputs and outputs, encoded
 * as protobuf by hand (ModelProto, GraphProto, NodeProto, ValueInfoProto field numbers from
 * onnx.proto). Enough to run single ops in onnxruntime-node.
 */
export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, uint4: 21, int4: 22 } as const;
export type OnnxType = keyof typeof ONNX_TYPE;

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
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const int = (field: number, v: number): number[] => [...key(field, 0), ...varint(v)];
const bytes = (field: number, b: number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, Array.from(Buffer.from(s, 'utf8')));

export interface ValueInfo { name: string; type: OnnxType; shape: readonly number[] }
export interface NodeSpec { op: string; inputs: readonly string[]; outputs: readonly string[]; attributes?: Record<string, number> }

function valueInfo(v: ValueInfo): number[] {
  const dims = v.shape.flatMap((d) => bytes(1, int(1, d)));
  const tensorType = [...int(1, ONNX_TYPE[v.type]), ...bytes(2, dims)];
  return [...str(1, v.name), ...bytes(2, bytes(1, tensorType))];
}

function node(n: NodeSpec, index: number): number[] {
  const attrs = Object.entries(n.attributes ?? {}).flatMap(([name, value]) =>
    bytes(5, [...str(1, name), ...int(3, value), ...int(20, 2 /* AttributeType.INT */)]));
  return [...n.inputs.flatMap((i) => str(1, i)), ...n.outputs.flatMap((o) => str(2, o)), ...str(3, `${n.op}_${index}`), ...str(4, n.op), ...attrs];
}

/** A one-node model at the given opset. */
export function oneNodeModel(spec: NodeSpec, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], opset = 21): Uint8Array {
  return graphModel([spec], inputs, outputs, opset);
}

/** A model of several nodes, in order, at the given opset. */
export function graphModel(nodes: readonly NodeSpec[], inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], opset = 21): Uint8Array {
  const graph = [...nodes.flatMap((n, i) => bytes(1, node(n, i))), ...str(2, 'g'), ...inputs.flatMap((i) => bytes(11, valueInfo(i))), ...outputs.flatMap((o) => bytes(12, valueInfo(o)))];
  const model = [...int(1, 8 /* IR version */), ...str(2, 'lowbit-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, opset)])];
  return Uint8Array.from(model);
}
