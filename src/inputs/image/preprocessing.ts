/** How an image becomes one model's tensor: the manifest's `input.preprocessing` of an image model. */
import type { DeepReadonly, FromSchema } from '../../schema/index.js';

export const imagePreprocessingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'width', 'height', 'channels', 'fit', 'background', 'mean', 'std'],
  properties: {
    type: { const: 'image' },
    width: { type: 'integer', minimum: 1, maximum: 4096 },
    height: { type: 'integer', minimum: 1, maximum: 4096 },
    channels: { enum: [1, 3] },
    // How an image of another aspect ratio is brought to width x height (sharp's `fit`).
    fit: { enum: ['contain', 'cover', 'fill'] },
    // Grey level (0-255) of letterbox bars and of transparent pixels.
    background: { type: 'integer', minimum: 0, maximum: 255 },
    // Tensor value = (pixel / 255 - mean[c]) / std[c].
    mean: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 },
    std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, maxItems: 3 },
    // How the model lays the tensor out (one example): channels, height, width (the default);
    // height, width, channels; or one flat vector in channels-first order (as PyTorch flattens).
    layout: { enum: ['nchw', 'nhwc', 'flat'] },
  },
} as const;

export type ImagePreprocessing = DeepReadonly<FromSchema<typeof imagePreprocessingSchema>>;

/** Where the value of channel `c` of pixel `i` (row-major) sits in a tensor laid out as `prep` says. */
export function tensorIndex(prep: ImagePreprocessing): (c: number, i: number) => number {
  const plane = prep.width * prep.height;
  const channels = prep.channels;
  return prep.layout === 'nhwc' ? (c, i) => i * channels + c : (c, i) => c * plane + i;
}
