/**
 * A small ONNX writer, so that the tests make classifier graphs of any input shape without Python:
 * the protobuf of a ModelProto (graph, nodes, float, uint8 and int64 initializers, float inputs and
 * float or uint8 outputs (a head ending in QuantizeLinear) with fixed or symbolic dimensions, INT /
 * INTS / FLOAT attributes) encoded by hand after onnx.proto3's field numbers. Opset 13, IR version 8.
 */

type Dim = number | string;

export interface TensorValue {
  name: string;
  dims: readonly number[];
  /** float32 (FLOAT), uint8 (UINT8) or bigint64 (INT64) data, row-major. */
  data: Float32Array | Uint8Array | BigInt64Array;
}

export type AttributeValue = number | readonly number[] | { float: number };

export interface GraphNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface GraphSpec {
  input: { name: string; shape: readonly Dim[] };
  /** The output, float32 unless it says uint8 (a head's quantized bottleneck). */
  output: { name: string; shape: readonly Dim[]; elementType?: 'float32' | 'uint8' };
  nodes: readonly GraphNode[];
  initializers: readonly TensorValue[];
}

const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;

const elementTypeOf = (data: TensorValue['data']) => (data instanceof Float32Array ? FLOAT : data instanceof Uint8Array ? UINT8 : INT64);

/** Protobuf encoding: varints and length-delimited fields. */
class Writer {
  private readonly chunks: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.chunks.push(byte);
    } while (v !== 0n);
    return this;
  }

  private key(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    this.chunks.push(...bytes);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, write: (w: Writer) => void): this {
    const inner = new Writer();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated int64 field. */
  packed(field: number, values: readonly number[]): this {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function valueInfo(w: Writer, name: string, shape: readonly Dim[], elementType = FLOAT): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, elementType).message(2, (s) => {
        for (const d of shape) s.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      }),
    ),
  );
}

function attribute(w: Writer, name: string, value: AttributeValue): void {
  w.string(1, name);
  if (typeof value === 'number') w.int(3, value).int(20, 2);
  else if (Array.isArray(value)) {
    for (const v of value as readonly number[]) w.int(8, v);
    w.int(20, 7);
  } else w.float(2, (value as { float: number }).float).int(20, 1);
}

/** The bytes of an ONNX model of one input and one output. */
export function onnxModel(spec: GraphSpec): Uint8Array {
  const w = new Writer();
  w.int(1, 8).string(2, 'adaptive-zoo tests');
  w.message(7, (g) => {
    spec.nodes.forEach((node, i) =>
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `${node.op.toLowerCase()}_${i}`).string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {})) n.message(5, (a) => attribute(a, name, value));
      }),
    );
    g.string(2, 'graph');
    for (const t of spec.initializers) {
      g.message(5, (tensor) => {
        tensor.packed(1, t.dims).int(2, elementTypeOf(t.data)).string(8, t.name);
        tensor.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    g.message(11, (v) => valueInfo(v, spec.input.name, spec.input.shape));
    g.message(12, (v) => valueInfo(v, spec.output.name, spec.output.shape, spec.output.elementType === 'uint8' ? UINT8 : FLOAT));
  });
  w.message(8, (o) => o.string(1, '').int(2, 13));
  return w.finish();
}

/** A float initializer. */
export function floats(name: string, dims: readonly number[], values: ArrayLike<number>): TensorValue {
  const data = Float32Array.from(values);
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dims, data };
}

/** An int64 initializer (shapes, axes). */
export function int64s(name: string, values: readonly number[]): TensorValue {
  return { name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) };
}

/** A uint8 initializer (a QuantizeLinear's zero point). */
export function uint8s(name: string, dims: readonly number[], values: ArrayLike<number>): TensorValue {
  const data = Uint8Array.from(values);
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dims, data };
}
