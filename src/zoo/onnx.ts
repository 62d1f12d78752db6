/**
 * The one module that imports onnxruntime-node. Everything else sees an `OnnxModel`: a session
 * created once at start-up, run on float32 tensors, and disposed at shutdown.
 */
import * as ort from 'onnxruntime-node';

export interface TensorInfo {
  name: string;
  /** Dimensions as ONNX declares them: numbers, or names for symbolic ones (the batch). */
  shape: readonly (number | string)[];
  type: string;
}

export interface OnnxModel {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Runs the model on `batch` examples laid out contiguously in `data`; returns the output. */
  run(data: Float32Array, shape: readonly number[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface SessionOptions {
  /** Threads onnxruntime uses inside one operator. */
  intraOpThreads: number;
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, shape: [...m.shape], type: m.type }
      : { name: m.name, shape: [], type: 'non-tensor' },
  );
}

export async function openOnnxModel(file: string, options: SessionOptions): Promise<OnnxModel> {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: options.intraOpThreads,
    // Operators of these small graphs form a chain: parallel execution of the graph only adds
    // scheduling overhead.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputs = describe(session.inputMetadata);
  const outputs = describe(session.outputMetadata);
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (inputName === undefined || outputName === undefined) {
    await session.release();
    throw new Error(`${file} has no input or no output`);
  }
  return {
    inputs,
    outputs,
    async run(data, shape) {
      const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };
      const result = await session.run(feeds);
      const output = result[outputName];
      if (output === undefined || !(output.data instanceof Float32Array)) {
        throw new Error(`${file}: output ${outputName} is not a float32 tensor`);
      }
      return output.data;
    },
    dispose: () => session.release(),
  };
}
