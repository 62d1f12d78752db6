/**
 * What an ONNX file says of itself that onnxruntime does not tell: how many parameters its
 * initializers hold, read from the protobuf (ModelProto.graph.initializer dims), and the operator
 * its output comes out of (a Softmax: probabilities, not logits). Offline only: importing a zoo.
 */

/** A protobuf field: its number, and its value as a varint or a byte range. */
interface Field {
  field: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

/** Reads the varint at `at` of `buffer`: its value and where the next field starts. */
function readVarint(buffer: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let i = at; ; i++) {
    if (i >= buffer.length) throw new Error('truncated varint');
    const byte = buffer[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7n;
  }
}

function* fields(buffer: Uint8Array): Generator<Field> {
  let i = 0;
  while (i < buffer.length) {
    const [key, next] = readVarint(buffer, i);
    i = next;
    const field = Number(key >> 3n);
    switch (Number(key & 7n)) {
      case 0: {
        const [value, after] = readVarint(buffer, i);
        i = after;
        yield { field, varint: value };
        break;
      }
      case 1:
        i += 8;
        break;
      case 2: {
        const [length, start] = readVarint(buffer, i);
        i = start + Number(length);
        if (i > buffer.length) throw new Error('truncated field');
        yield { field, bytes: buffer.subarray(start, i) };
        break;
      }
      case 5:
        i += 4;
        break;
      default:
        throw new Error(`unknown wire type ${key & 7n}`);
    }
  }
}

/** The packed or repeated varints of field `number` of `message`. */
function varints(message: Uint8Array, number: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields(message)) {
    if (f.field !== number) continue;
    if (f.varint !== undefined) out.push(f.varint);
    else if (f.bytes !== undefined) for (let i = 0; i < f.bytes.length; ) {
      const [value, next] = readVarint(f.bytes, i);
      out.push(value);
      i = next;
    }
  }
  return out;
}

function bytesOf(message: Uint8Array, number: number): Uint8Array[] {
  return [...fields(message)].filter((f) => f.field === number && f.bytes !== undefined).map((f) => f.bytes!);
}

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? '' : new TextDecoder().decode(bytes));

/** INT32 and INT64 initializers are shapes and indices, not weights. */
const INDEX_TYPES = new Set([6, 7]);

export interface OnnxInfo {
  /** Numbers the initializers hold (weights, biases, quantisation scales). */
  parameters: number;
  /** The operator that produces the graph's first output. */
  outputOp: string | undefined;
}

/** Reads `model` (the bytes of an ONNX file); throws when the bytes are not an ONNX model. */
export function onnxInfo(model: Uint8Array): OnnxInfo {
  const graph = bytesOf(model, 7)[0];
  if (graph === undefined) throw new Error('no graph: not an ONNX model');
  let parameters = 0;
  for (const tensor of bytesOf(graph, 5)) {
    const type = Number(varints(tensor, 2)[0] ?? 0n);
    if (INDEX_TYPES.has(type)) continue;
    parameters += varints(tensor, 1).reduce((n, d) => n * Number(d), 1);
  }
  const output = text(bytesOf(bytesOf(graph, 12)[0] ?? new Uint8Array(), 1)[0]);
  let outputOp: string | undefined;
  for (const node of bytesOf(graph, 1)) {
    if (bytesOf(node, 2).some((o) => text(o) === output)) outputOp = text(bytesOf(node, 4)[0]);
  }
  return { parameters, outputOp };
}
