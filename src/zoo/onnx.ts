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
  /** ONNX's element type (TensorProto.DataType): 1 is float32, the only one the service feeds. */
  elementType: number;
}

export const FLOAT32 = 1;

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

export function openOnnxModel(file: string, options: SessionOptions): OnnxModel {
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
    inputs,
    outputs,
    run(data, shape) {
      const result = session.run({ [inputName]: new Tensor('float32', data, shape) }, { [outputName]: null }, {});
      const output = result[outputName];
      if (!(output instanceof Tensor) || !(output.data instanceof Float32Array)) {
        throw new Error(`${file}: output ${outputName} is not a float32 tensor`);
      }
      return output.data;
    },
    dispose: () => session.dispose(),
  };
}
