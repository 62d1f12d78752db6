/**
 * The one module that imports onnxruntime-node. Everything else sees an `OnnxModel`: a session
 * created once at start-up, run on float32 tensors, and disposed at shutdown.
 *
 * Runs are synchronous, on onnxruntime-node's native session. Its public `InferenceSession.run`
 * calls the same native run, but from a `setImmediate` callback: under load a request whose model
 * was chosen then waited there behind every request parsed in the meantime, and behind their runs,
 * so its budget was spent after the choice that was meant to keep it (`npm run bench:late`, fashion,
 * 16 connections, maxLatencyMs 10: 8.2% of answers late and 75% shed through the public run, 0.2 to
 * 0.4% late and 0.2% shed through the native one). Run to completion, a request is answered as soon
 * as its model has run. The native session (`dist/binding`) is the package's own, not its documented
 * API: an upgrade of onnxruntime-node must keep it (every zoo model runs through it in
 * test/zoo/repository.test.ts).
 */
import { Tensor } from 'onnxruntime-node';
import { binding, initOrt, type Binding } from 'onnxruntime-node/dist/binding.js';

export interface TensorInfo {
  name: string;
  /** Dimensions as ONNX declares them: numbers, or names for symbolic ones (the batch). */
  shape: readonly (number | string)[];
  /** ONNX's element type (TensorProto.DataType): 1 is float32, the only one the service feeds; 2 is uint8, a head's output. */
  elementType: number;
}

export const FLOAT32 = 1;
/** ONNX's uint8: what a head's QuantizeLinear gives. */
export const UINT8 = 2;

export interface OnnxModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Runs the model on `batch` examples laid out contiguously in `data`, on this thread; returns the output. */
  run(data: Float32Array, shape: readonly number[]): Float32Array;
  dispose(): void;
}

export interface SessionOptions {
  /** Threads onnxruntime uses inside one operator. */
  intraOpThreads: number;
}

/** A symbolic dimension is -1 in the native metadata, with its name beside it. */
function describe(meta: readonly Binding.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) => ({
    name: m.name,
    shape: m.isTensor ? m.shape.map((dim, i) => (dim === -1 ? (m.symbolicDimensions[i] ?? '?') : dim)) : [],
    elementType: m.type,
  }));
}

interface OpenedSession {
  session: Binding.InferenceSession;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Runs it on one float32 input; returns its first output's data. */
  run(data: Float32Array, shape: readonly number[]): unknown;
}

function openSession(file: string, options: SessionOptions): OpenedSession {
  initOrt();
  const session = new binding.InferenceSession();
  session.loadModel(file, {
    intraOpNumThreads: options.intraOpThreads,
    // Operators of these small graphs form a chain: parallel execution of the graph only adds
    // scheduling overhead.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  const inputName = inputs[0]?.name;
  const outputName = outputs[0]?.name;
  if (inputName === undefined || outputName === undefined) {
    session.dispose();
    throw new Error(`${file} has no input or no output`);
  }
  return {
    session,
    inputs,
    outputs,
    run(data, shape) {
      const result = session.run({ [inputName]: new Tensor('float32', data, shape) }, { [outputName]: null }, {});
      const output = result[outputName];
      return output instanceof Tensor ? output.data : undefined;
    },
  };
}

/** A session whose output is checked to be of one typed-array kind on every run. */
function openTyped<T extends Float32Array | Uint8Array>(file: string, options: SessionOptions, kind: new (length: number) => T, dtype: string) {
  const { session, inputs, outputs, run } = openSession(file, options);
  return {
    inputs,
    outputs,
    run(data: Float32Array, shape: readonly number[]): T {
      const output = run(data, shape);
      if (!(output instanceof kind)) throw new Error(`${file}: output ${outputs[0]!.name} is not a ${dtype} tensor`);
      return output;
    },
    dispose: () => session.dispose(),
  };
}

export function openOnnxModel(file: string, options: SessionOptions): OnnxModel {
  return openTyped(file, options, Float32Array, 'float32');
}

/** A graph that takes float32 and gives uint8 codes: a split route's head (its bottleneck, quantized). */
export interface OnnxEncoder {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Runs the graph on `batch` examples laid out contiguously in `data`; returns its uint8 output. */
  run(data: Float32Array, shape: readonly number[]): Uint8Array;
  dispose(): void;
}

export function openOnnxEncoder(file: string, options: SessionOptions): OnnxEncoder {
  return openTyped(file, options, Uint8Array, 'uint8');
}

/** The inputs and outputs a graph declares, read by onnxruntime, which then lets it go. */
export function describeOnnxFile(file: string): { inputs: TensorInfo[]; outputs: TensorInfo[] } {
  const { session, inputs, outputs } = openSession(file, { intraOpThreads: 1 });
  session.dispose();
  return { inputs, outputs };
}
