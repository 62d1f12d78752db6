/**
 * The window kind: a window of wearable-sensor samples (samples x channels, in the units the
 * sensor recorded), sent as a nested JSON array (`input.window`), as raw little-endian float32
 * (`application/octet-stream`), or as the Open Inference Protocol's [length, channels] tensor. Filtering and normalisation live inside the models' ONNX graphs, so
 * the service feeds the models exactly what they were trained on; the premodel's features are
 * computed on the raw window at the first model's length, channels and rate.
 */
import { InvalidInputError, UnsupportedMediaTypeError } from '../../errors/index.js';
import { float32Tensor, type DecodeLimits, type Input, type InputKind, type PreprocessingBase, type TaskInputs, type WireInput } from '../kind.js';
import { checkWindowTensor, WindowInput, windowFromBytes, windowTensor } from './decode.js';
import { windowFeatureNames, windowFeatures } from './features.js';
import { fromLayout, toLayout, windowPreprocessingSchema, type WindowPreprocessing } from './preprocessing.js';

/** The media type of a window sent as raw float32 samples. */
const RAW_WINDOW = 'application/octet-stream';

/** A flat window (samples x channels, row-major) as the nested array a client sends. */
export function windowRows(window: Float32Array, channels: number): number[][] {
  return Array.from({ length: window.length / channels }, (_, t) => Array.from(window.subarray(t * channels, (t + 1) * channels)));
}

/**
 * Windows that take the features' data-dependent branches that clients' windows take, so that the
 * engine has seen them before the first client's: two walks (gravity on the first channel, a stride rhythm on it and
 * slower sways on the others) whose rhythm falls just below and just above a DFT bin (the
 * dominant frequency is refined towards either neighbour), and a device at rest (no rhythm at
 * all). A first real window took a branch that a single slow sway never had, and the engine threw
 * the features' optimised code away on the first client request.
 */
function warmUpWindows(length: number, channels: number): Float32Array[] {
  const stride = Math.max(1, Math.round(length / 24));
  const walk = (cycles: number) =>
    Float32Array.from({ length: length * channels }, (_, i) => {
      const c = i % channels;
      const phase = (2 * Math.PI * Math.floor(i / channels)) / length;
      return c === 0 ? 1 + 0.3 * Math.sin(cycles * phase) : 0.1 * Math.sin((1 + c) * phase + c);
    });
  const rest = Float32Array.from({ length: length * channels }, (_, i) => (i % channels === 0 ? 1 : 0));
  return [walk(stride - 0.3), walk(stride + 0.3), rest];
}

function asWindow(input: Input): WindowInput {
  if (!(input instanceof WindowInput)) throw new InvalidInputError(`a window task takes windows, not ${input.kind}s`);
  return input;
}

export const windowKind: InputKind<WindowPreprocessing, typeof windowPreprocessingSchema> = {
  name: 'window',
  preprocessingSchema: windowPreprocessingSchema,
  jsonField: 'window',
  jsonSchema: {
    type: 'array',
    description: 'Samples in time order, each one number per channel (har: 128 x 6).',
    items: { type: 'array', items: { type: 'number' } },
  },
  uploadTypes: [RAW_WINDOW],
  views: [],
  fromHead: false,

  shapeOf: (prep) =>
    prep.layout === 'channels-first' ? [prep.channels, prep.length] : prep.layout === 'flat' ? [prep.length * prep.channels] : [prep.length, prep.channels],

  problems: (prep) => (prep.channelNames.length !== prep.channels ? [`channelNames needs ${prep.channels} names`] : []),

  bind(preps): TaskInputs {
    const first = preps[0]!;
    const { length, channels, sampleRateHz } = first;
    return {
      kind: 'window',
      jsonField: 'window',
      uploadTypes: [RAW_WINDOW],
      featureNames: windowFeatureNames(channels),
      description: { kind: 'window', length, channels, channelNames: [...first.channelNames], sampleRateHz },
      tensorName: 'window',
      tensorPrep: first,
      tensorElement: 'float32',

      async decode(wire: WireInput, _limits: DecodeLimits): Promise<Input> {
        switch (wire.form) {
          case 'json':
            return new WindowInput(windowTensor(wire.value, first));
          case 'tensor': {
            const prep = wire.prep as WindowPreprocessing;
            return new WindowInput(checkWindowTensor(fromLayout(float32Tensor(wire.data, 'window'), prep), prep));
          }
          case 'upload':
            if (wire.mediaType !== RAW_WINDOW) throw new UnsupportedMediaTypeError(`a window is sent as JSON (input.window) or as ${RAW_WINDOW}, not as ${wire.mediaType}`);
            return new WindowInput(windowFromBytes(wire.bytes, first));
        }
      },
      prepare: async () => {},
      features: async (input) => windowFeatures(asWindow(input).samples, length, channels, sampleRateHz),
      async modelTensor(input, prep: PreprocessingBase, view?: string) {
        if (view !== undefined) throw new InvalidInputError(`windows have no view "${view}"`);
        const window = prep as WindowPreprocessing;
        return toLayout(checkWindowTensor(asWindow(input).samples, window), window);
      },
      clientEncodings: [],
      groupOf: () => undefined,
      asWire: async (input) => ({ form: 'json', field: 'window', value: windowRows(asWindow(input).samples, channels) }),
      warmUpInputs: async () =>
        warmUpWindows(length, channels).flatMap((samples): WireInput[] => [
          { form: 'json', field: 'window', value: windowRows(samples, channels) },
          { form: 'upload', bytes: new Uint8Array(samples.buffer), mediaType: RAW_WINDOW },
        ]),
    };
  },
};
