/** How a window of sensor samples becomes one model's tensor: the manifest's `input.preprocessing` of a window model. */
import type { DeepReadonly, FromSchema } from '../../schema/index.js';

export const windowPreprocessingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'length', 'channels', 'channelNames', 'sampleRateHz'],
  properties: {
    type: { const: 'window' },
    // Samples a request carries, each with `channels` values; the model input is [length, channels].
    length: { type: 'integer', minimum: 1, maximum: 65536 },
    channels: { type: 'integer', minimum: 1, maximum: 64 },
    channelNames: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, minItems: 1 },
    sampleRateHz: { type: 'number', exclusiveMinimum: 0 },
    // How the model lays a window out (one example): samples by channels (the default), channels
    // by samples (as a 1-D convolution takes it), or one flat vector, sample after sample.
    layout: { enum: ['time-major', 'channels-first', 'flat'] },
  },
} as const;

export type WindowPreprocessing = DeepReadonly<FromSchema<typeof windowPreprocessingSchema>>;

/** `data` of `rows` x `cols` (row-major) as `cols` x `rows`. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** A time-major window (sample after sample) in the layout `prep` asks for. */
export function toLayout(samples: Float32Array, prep: WindowPreprocessing): Float32Array {
  return prep.layout === 'channels-first' ? transposed(samples, prep.length, prep.channels) : samples;
}

/** A window in `prep`'s layout back in time-major order. */
export function fromLayout(tensor: Float32Array, prep: WindowPreprocessing): Float32Array {
  return prep.layout === 'channels-first' ? transposed(tensor, prep.channels, prep.length) : tensor;
}
