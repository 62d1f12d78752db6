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
  },
} as const;

export type WindowPreprocessing = DeepReadonly<FromSchema<typeof windowPreprocessingSchema>>;
