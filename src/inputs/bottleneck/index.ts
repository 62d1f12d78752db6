/**
 * The bottleneck kind (split computing, as BottleFit): a device runs a head, the first layers of
 * a task's model ending in a narrow layer quantized to uint8, and sends those codes instead of the
 * raw input; the service routes among the head's tails as it routes among a task's models. A
 * request names its head (v1 `{"input": {"bottleneck": "<base64>", "head": "<id>"}}`, v2 a UINT8
 * tensor `bottleneck` with `parameters.head`); the head's tails zoo is bound here, so the codes
 * are checked against its bottleneck shape. Each tail takes them dequantized with its own scale
 * and zero point. The premodel's features are the dequantized codes themselves: the head has
 * already learned a summary of the input, and nothing of the raw input is left to look at.
 */
import { BadRequestError, InvalidInputError, UnsupportedMediaTypeError } from '../../errors/index.js';
import { decodeBase64 } from '../base64.js';
import type { DecodeLimits, Input, InputKind, PreprocessingBase, TaskInputs, WireInput } from '../kind.js';
import { BottleneckInput, checkCodes } from './decode.js';
import { bottleneckPreprocessingSchema, codesIn, dequantize, type BottleneckPreprocessing } from './preprocessing.js';

function asBottleneck(input: Input): BottleneckInput {
  if (!(input instanceof BottleneckInput)) throw new InvalidInputError(`a head's tails take bottlenecks, not ${input.kind}s`);
  return input;
}

/** The feature names of a bottleneck of `size` codes: one per element, in row-major order. */
export function bottleneckFeatureNames(size: number): readonly string[] {
  return Object.freeze(Array.from({ length: size }, (_, i) => `bottleneck${i}`));
}

export const bottleneckKind: InputKind<BottleneckPreprocessing, typeof bottleneckPreprocessingSchema> = {
  name: 'bottleneck',
  preprocessingSchema: bottleneckPreprocessingSchema,
  jsonField: 'bottleneck',
  jsonSchema: {
    type: 'string',
    minLength: 1,
    contentEncoding: 'base64',
    description: "A head's uint8 bottleneck codes, base64 (one byte per element of the head's bottleneck shape: GET /v1/tasks/{task}/heads); input.head names the head.",
  },
  uploadTypes: [],
  views: [],
  fromHead: true,

  shapeOf: (prep) => [...prep.shape],
  problems: () => [],

  bind(preps): TaskInputs {
    const first = preps[0]!;
    const size = codesIn(first.shape);
    return {
      kind: 'bottleneck',
      jsonField: 'bottleneck',
      uploadTypes: [],
      featureNames: bottleneckFeatureNames(size),
      description: { kind: 'bottleneck', shape: [...first.shape], dtype: 'uint8', scale: first.scale, zeroPoint: first.zeroPoint, bytes: size },
      tensorName: 'bottleneck',
      tensorPrep: first,
      tensorElement: 'uint8',

      async decode(wire: WireInput, _limits: DecodeLimits): Promise<Input> {
        switch (wire.form) {
          case 'json': {
            if (typeof wire.value !== 'string') throw new BadRequestError('input.bottleneck must be a base64 string of the uint8 codes');
            return checkCodes(decodeBase64(wire.value, 'input.bottleneck').bytes, first);
          }
          case 'tensor':
            if (!(wire.data instanceof Uint8Array)) throw new BadRequestError('a bottleneck tensor holds the head\'s uint8 codes (UINT8), not numbers to convert');
            return checkCodes(wire.data, first);
          case 'upload':
            throw new UnsupportedMediaTypeError(`a bottleneck is sent as JSON (input.bottleneck, base64, with input.head), not as ${wire.mediaType}`);
        }
      },
      prepare: async () => {},
      features: async (input) => dequantize(asBottleneck(input).codes, first),
      async modelTensor(input, prep: PreprocessingBase, view?: string) {
        if (view !== undefined) throw new InvalidInputError(`bottlenecks have no view "${view}"`);
        return dequantize(asBottleneck(input).codes, prep as BottleneckPreprocessing);
      },
      clientEncodings: [],
      groupOf: () => undefined,
      asWire: async (input) => ({ form: 'json', field: 'bottleneck', value: Buffer.from(asBottleneck(input).codes).toString('base64') }),
      warmUpInputs: async () => [{ form: 'json', field: 'bottleneck', value: Buffer.from(Uint8Array.from({ length: size }, (_, i) => (i * 37) & 255)).toString('base64') }],
    };
  },
};
