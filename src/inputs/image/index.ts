/**
 * The image kind: PNG, JPEG or WebP of any size, grey or colour, sent as base64 in JSON
 * (`input.image`, a data: URL prefix accepted), as a raw upload, or as the preprocessed tensor of the
 * Open Inference Protocol. A declared media type must name the format the bytes really are: a PNG
 * sent as image/jpeg is refused (415) rather than guessed at, so that a client's labelling bug shows
 * at once. The premodel's features look at one grey plane at the zoo's first model's size, so that
 * for a zoo of grey models that plane is the tensor the models get anyway (decoded and resized once).
 */
import { BadRequestError, InvalidInputError, UnsupportedMediaTypeError } from '../../errors/index.js';
import { decodeBase64 } from '../base64.js';
import { float32Tensor, type DecodeLimits, type Input, type InputKind, type PreprocessingBase, type TaskInputs, type WireInput } from '../kind.js';
import type { ImageFormat } from './colour.js';
import { encodePng, ImageInput, type ImageView, type RawImage } from './decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from './encode.js';
import { IMAGE_FEATURES, imageFeatures } from './features.js';
import { encodingGroup, type Observed } from './observed.js';
import { imagePreprocessingSchema, type ImagePreprocessing } from './preprocessing.js';

/** The media type of each image format a request may send. */
const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const satisfies Record<ImageFormat, string>;

async function decodeEncoded(bytes: Uint8Array, declaredType: string | undefined, limits: DecodeLimits): Promise<ImageInput> {
  const decoded = await ImageInput.fromEncoded(bytes, limits);
  const actual = decoded.format === undefined ? undefined : MEDIA_TYPES[decoded.format];
  if (declaredType !== undefined && actual !== undefined && declaredType !== actual) {
    throw new UnsupportedMediaTypeError(`the image is ${actual}, but it was declared as ${declaredType}; declare ${actual}`);
  }
  return decoded;
}

/**
 * Rings and stripes on a black margin, as base64 JSON and in every client encoding: every PNG
 * filter, JPEG's AC coefficients and every feature get work. The margin leaves the garment's box
 * a fraction of the image, as a client's garment does: a box spanning the whole image made the
 * engine take the box's shares for whole numbers, and throw the features' optimised code away on
 * the first client image whose features were computed.
 */
async function warmUpImages(plane: { width: number; height: number }): Promise<readonly WireInput[]> {
  const { width, height } = plane;
  const margin = (size: number, at: number) => at < size / 7 || at >= size - size / 7;
  const pattern = (x: number, y: number) => (margin(width, x) || margin(height, y) ? 0 : (x * 7 + y * 13 + x * y) & 255);
  const raw: RawImage = { pixels: Uint8Array.from({ length: width * height }, (_, i) => pattern(i % width, Math.floor(i / width))), width, height, channels: 1 };
  const png = await encodePng(raw);
  const encoded = await Promise.all(CLIENT_ENCODINGS.map(async (spec) => ({ form: 'upload' as const, bytes: await encodeLikeClient(raw, spec, plane), mediaType: MEDIA_TYPES[spec.format] })));
  return [{ form: 'json', field: 'image', value: Buffer.from(png).toString('base64') }, ...encoded];
}

function asImage(input: Input): ImageInput {
  if (!(input instanceof ImageInput)) throw new InvalidInputError(`an image task takes images, not ${input.kind}s`);
  return input;
}

/** The premodel's features of how the image was sent, after those of its pixels. */
export const ENCODING_FEATURES: readonly string[] = Object.freeze([
  'encodedScale', // log2 of the sent size over the model's: how much a client enlarged (or shrank) it
  'encodedLossy', // 1 for JPEG and lossy WebP
  'encodedQuality', // a JPEG's quality / 100; 1 for lossless, 0.8 for lossy WebP (its quality is not in its header)
]);

function encodingFeatures(observed: Observed, width: number, height: number): [number, number, number] {
  const scale = Math.log2(Math.max(observed.width / width, observed.height / height));
  const quality = !observed.lossy ? 1 : observed.quality === undefined ? 0.8 : observed.quality / 100;
  return [scale, observed.lossy ? 1 : 0, quality];
}

const BY_ID = new Map(CLIENT_ENCODINGS.map((e) => [e.id, e]));

/** The grey plane at the first model's size on which the features are computed. */
function featurePlane(first: ImagePreprocessing): ImagePreprocessing {
  const { width, height, fit, background } = first;
  return { type: 'image', width, height, channels: 1, fit, background, mean: [0], std: [1] };
}

export const imageKind: InputKind<ImagePreprocessing, typeof imagePreprocessingSchema> = {
  name: 'image',
  preprocessingSchema: imagePreprocessingSchema,
  jsonField: 'image',
  jsonSchema: {
    type: 'string',
    minLength: 1,
    contentEncoding: 'base64',
    description: 'A PNG, JPEG or WebP file, base64 (a data: URL prefix is accepted).',
  },
  uploadTypes: Object.values(MEDIA_TYPES),
  views: ['mirror'],
  fromHead: false,

  shapeOf: (prep) =>
    prep.layout === 'nhwc' ? [prep.height, prep.width, prep.channels]
    : prep.layout === 'flat' ? [prep.channels * prep.height * prep.width]
    : [prep.channels, prep.height, prep.width],

  problems: (prep) =>
    prep.mean.length !== prep.channels || prep.std.length !== prep.channels
      ? [`mean and std need one value per channel (${prep.channels})`]
      : [],

  bind(preps): TaskInputs {
    const first = preps[0]!;
    const plane = featurePlane(first);
    let warmUp: Promise<readonly WireInput[]> | undefined;
    return {
      kind: 'image',
      jsonField: 'image',
      uploadTypes: Object.values(MEDIA_TYPES),
      featureNames: Object.freeze([...IMAGE_FEATURES, ...ENCODING_FEATURES]),
      clientEncodings: CLIENT_ENCODINGS.map((e) => e.id),
      description: {
        kind: 'image',
        formats: Object.values(MEDIA_TYPES),
        modelInput: { width: first.width, height: first.height, channels: first.channels },
      },
      tensorName: 'image',
      tensorPrep: first,
      tensorElement: 'float32',

      async decode(wire: WireInput, limits: DecodeLimits): Promise<Input> {
        switch (wire.form) {
          case 'json': {
            if (typeof wire.value !== 'string') throw new BadRequestError('input.image must be a base64 string');
            const { bytes, declaredType } = decodeBase64(wire.value, 'input.image');
            return decodeEncoded(bytes, declaredType, limits);
          }
          case 'upload':
            return decodeEncoded(wire.bytes, wire.mediaType, limits);
          case 'tensor':
            return ImageInput.fromTensor(float32Tensor(wire.data, 'image'), wire.prep as ImagePreprocessing);
        }
      },
      async prepare(input) {
        // An image decodes on its first conversion: the feature plane, which the models of the same
        // preprocessing reuse.
        await asImage(input).tensor(plane);
      },
      async features(input) {
        const image = asImage(input);
        const pixels = imageFeatures(await image.tensor(plane), plane.width, plane.height);
        const features = new Float32Array(pixels.length + ENCODING_FEATURES.length);
        features.set(pixels);
        features.set(encodingFeatures(image.observed, plane.width, plane.height), pixels.length);
        return features;
      },
      groupOf: (input) => encodingGroup(asImage(input).observed, plane.width, plane.height),
      modelTensor: (input, prep: PreprocessingBase, view?: string) => asImage(input).tensor(prep as ImagePreprocessing, view as ImageView | undefined),
      async asWire(input, encoding) {
        const image = asImage(input);
        if (encoding === undefined) return { form: 'upload', bytes: await image.png(), mediaType: MEDIA_TYPES.png };
        const spec = BY_ID.get(encoding);
        const raw: RawImage | undefined = image.pixels();
        if (spec === undefined || raw === undefined) throw new InvalidInputError(`no client encoding "${encoding}" of these pixels`);
        return { form: 'upload', bytes: await encodeLikeClient(raw, spec, plane), mediaType: MEDIA_TYPES[spec.format] };
      },
      // Encoded once (14 encodings through sharp): the service's warm-up and its HTTP warm-up both send them.
      warmUpInputs: () => (warmUp ??= warmUpImages(plane)),
    };
  },
};
