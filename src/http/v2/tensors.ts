/**
 * Tensors of the Open Inference Protocol as they come and go: the datatypes the specification lists,
 * read from JSON `data` (flat or nested) or from the binary tensor data extension (raw
 * little-endian values; BYTES as 4-byte little-endian lengths, each followed by its bytes), and
 * the outputs written back either way.
 */
import { BadRequestError, InvalidInputError } from '../../errors/index.js';

/** Numeric datatypes, each with its size in bytes and how a little-endian value is read. */
const NUMERIC = {
  BOOL: { bytes: 1, read: (v: DataView, at: number) => v.getUint8(at) },
  UINT8: { bytes: 1, read: (v: DataView, at: number) => v.getUint8(at) },
  INT8: { bytes: 1, read: (v: DataView, at: number) => v.getInt8(at) },
  UINT16: { bytes: 2, read: (v: DataView, at: number) => v.getUint16(at, true) },
  INT16: { bytes: 2, read: (v: DataView, at: number) => v.getInt16(at, true) },
  UINT32: { bytes: 4, read: (v: DataView, at: number) => v.getUint32(at, true) },
  INT32: { bytes: 4, read: (v: DataView, at: number) => v.getInt32(at, true) },
  UINT64: { bytes: 8, read: (v: DataView, at: number) => Number(v.getBigUint64(at, true)) },
  INT64: { bytes: 8, read: (v: DataView, at: number) => Number(v.getBigInt64(at, true)) },
  FP32: { bytes: 4, read: (v: DataView, at: number) => v.getFloat32(at, true) },
  FP64: { bytes: 8, read: (v: DataView, at: number) => v.getFloat64(at, true) },
} as const;

export type NumericDatatype = keyof typeof NUMERIC;
/** Every datatype this service takes; FP16 and BF16 have no JavaScript type and are refused by name. */
export const DATATYPES = [...(Object.keys(NUMERIC) as NumericDatatype[]), 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

export const isNumeric = (datatype: Datatype): datatype is NumericDatatype => datatype !== 'BYTES';

/** A value of a request, named for an error message, without echoing a structure of any size. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value)?.slice(0, 40) ?? typeof value;
}

/**
 * Row-major values of JSON `data`, flat or nested no deeper than `shape` (so that a deeply nested
 * body is refused before it can exhaust the stack), as float32; BOOL takes true and false.
 * Non-finite numbers pass: the input kind's own checks name the sample or pixel.
 */
export function numbersOf(data: readonly unknown[], shape: readonly number[], datatype: NumericDatatype): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'number' || (datatype === 'BOOL' && typeof value === 'boolean')) {
      if (n < size) out[n] = Number(value);
      n++;
    } else if (Array.isArray(value)) {
      if (depth === shape.length) throw new BadRequestError(`tensor data is nested deeper than its shape [${shape.join(', ')}]`);
      for (const v of value) walk(v, depth + 1);
    } else {
      throw new BadRequestError(`tensor data of datatype ${datatype} must hold numbers only, found ${kindOf(value)}`);
    }
  };
  walk(data, 0);
  if (n !== size) throw new InvalidInputError(`the tensor holds ${n} values; its shape needs ${size}`);
  return out;
}

/**
 * The uint8 codes of JSON UINT8 `data` (a head's bottleneck), flat or nested no deeper than
 * `shape`: each an integer from 0 to 255, taken as it is.
 */
export function codesOf(data: readonly unknown[], shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(size);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0 || value > 255) throw new BadRequestError(`UINT8 tensor data holds integers from 0 to 255, not ${kindOf(value)}`);
      if (n < size) out[n] = value;
      n++;
    } else if (Array.isArray(value)) {
      if (depth === shape.length) throw new BadRequestError(`tensor data is nested deeper than its shape [${shape.join(', ')}]`);
      for (const v of value) walk(v, depth + 1);
    } else {
      throw new BadRequestError(`tensor data of datatype UINT8 must hold numbers only, found ${kindOf(value)}`);
    }
  };
  walk(data, 0);
  if (n !== size) throw new InvalidInputError(`the tensor holds ${n} values; its shape needs ${size}`);
  return out;
}

/** The uint8 codes of a binary UINT8 tensor of `count` elements, as they are. */
export function codesFromBinary(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length !== count) throw new InvalidInputError(`the binary tensor has ${bytes.length} bytes; ${count} values of UINT8 take ${count}`);
  return bytes;
}

/** The byte strings of JSON BYTES `data`: strings (an encoded file as base64), flat or nested. */
export function stringsOf(data: readonly unknown[], count: number): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value) && depth < 8) for (const v of value) walk(v, depth + 1);
    else throw new BadRequestError(`BYTES tensor data must hold strings (base64 of an encoded image), found ${kindOf(value)}`);
  };
  walk(data, 0);
  if (out.length !== count) throw new InvalidInputError(`the tensor holds ${out.length} values; its shape needs ${count}`);
  return out;
}

/** Row-major values of a binary tensor of `count` elements of `datatype`, as float32. */
export function numbersFromBinary(bytes: Uint8Array, count: number, datatype: NumericDatatype): Float32Array {
  const { bytes: size, read } = NUMERIC[datatype];
  if (bytes.length !== count * size) {
    throw new InvalidInputError(`the binary tensor has ${bytes.length} bytes; ${count} values of ${datatype} take ${count * size}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * size);
  return out;
}

/** The elements of a binary BYTES tensor: each a 4-byte little-endian length and that many bytes. */
export function bytesFromBinary(bytes: Uint8Array, count: number): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new InvalidInputError('a BYTES element is cut short in its 4-byte length');
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.length) throw new InvalidInputError(`a BYTES element of ${length} bytes runs past the tensor's binary data`);
    out.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (out.length !== count) throw new InvalidInputError(`the binary BYTES tensor holds ${out.length} elements; its shape needs ${count}`);
  return out;
}

/** An output tensor as the response carries it. */
export interface OutputTensor {
  name: string;
  datatype: 'FP32' | 'INT64' | 'BYTES';
  shape: number[];
  data: (number | string)[];
}

/** The binary form of an output's data (binary tensor data extension). */
export function outputBinary(output: OutputTensor): Buffer {
  switch (output.datatype) {
    case 'FP32':
      return Buffer.from(Float32Array.from(output.data as number[]).buffer);
    case 'INT64':
      return Buffer.from(BigInt64Array.from((output.data as number[]).map((v) => BigInt(v))).buffer);
    case 'BYTES':
      return Buffer.concat(
        (output.data as string[]).flatMap((s) => {
          const text = Buffer.from(s, 'utf8');
          const length = Buffer.alloc(4);
          length.writeUInt32LE(text.length);
          return [length, text];
        }),
      );
  }
}
