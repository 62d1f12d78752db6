/**
 * `zoo.json`, beside a team's ONNX files: what the graphs cannot say. Everything is optional: a
 * folder of `<id>.onnx` and `labels.txt` alone imports, each model an uncompressed one fed images
 * scaled to 0..1 or raw windows. Preprocessing given at the top applies to every model, a model's
 * own wins; the command line's --mean and --std come between.
 */
import { COMPRESSION_METHODS } from '../../zoo/manifest-schema.js';
import type { FromSchema } from '../../schema/index.js';

const numbers = { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 } as const;

/** The preprocessing fields a team may set; the rest come from the graph and the data. */
export const preprocessingHintsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Images: the size where the graph leaves it open (a flat input, symbolic dimensions).
    width: { type: 'integer', minimum: 1, maximum: 4096 },
    height: { type: 'integer', minimum: 1, maximum: 4096 },
    fit: { enum: ['contain', 'cover', 'fill'] },
    background: { type: 'integer', minimum: 0, maximum: 255 },
    // Tensor value = (pixel / 255 - mean[c]) / std[c]; one value serves every channel.
    mean: numbers,
    std: { ...numbers, items: { type: 'number', exclusiveMinimum: 0 } },
    // Where the graph's shape could be read either way (a square window, a 3x3x3 image).
    layout: { enum: ['nchw', 'nhwc', 'flat', 'time-major', 'channels-first'] },
    // Windows: the rate the samples were taken at, and the channels' names.
    sampleRateHz: { type: 'number', exclusiveMinimum: 0 },
    channelNames: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 64 }, minItems: 1 },
  },
} as const;

export type PreprocessingHints = FromSchema<typeof preprocessingHintsSchema>;

export const zooSpecSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    // What the zoo was trained on, and what the premodel and test parts are: the manifest's splits.
    splits: {
      type: 'object',
      additionalProperties: false,
      properties: { zoo: { type: 'string' }, premodel: { type: 'string' }, test: { type: 'string' } },
    },
    preprocessing: preprocessingHintsSchema,
    models: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          description: { type: 'string' },
          compression: {
            type: 'object',
            additionalProperties: false,
            required: ['method'],
            properties: { method: { enum: COMPRESSION_METHODS }, parent: { type: ['string', 'null'] } },
          },
          preprocessing: preprocessingHintsSchema,
          // What the output holds; by default, probabilities when the graph ends in a Softmax, else logits.
          output: { enum: ['logits', 'probabilities'] },
          // Views the model was trained to be invariant to (an image's "mirror").
          testTimeAugmentation: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          macs: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

export type ZooSpec = FromSchema<typeof zooSpecSchema>;
export type ModelSpec = NonNullable<ZooSpec['models']>[string];
