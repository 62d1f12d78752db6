/**
 * From what a request carries (base64 or raw image bytes, a nested window, a v2 FP32 tensor) to the
 * ModelInput a served task predicts on, with the task's kind and the limits checked first. The
 * decoding itself belongs to src/inputs; this module only adapts the wire formats to it.
 */
import { BadRequestError, InvalidInputError, UnsupportedMediaTypeError } from '../errors/index.js';
import { ImageInput, type ImageFormat, type ImageLimits } from '../inputs/image.js';
import type { ModelInput } from '../inputs/index.js';
import { checkWindowTensor, windowTensor } from '../inputs/window.js';
import type { ServedTask } from '../serve/task.js';
import type { Preprocessing } from '../zoo/manifest.js';

/** The media type of each image format a request may send. */
const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const satisfies Record<ImageFormat, string>;
export const IMAGE_TYPES = Object.values(MEDIA_TYPES);

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)(;[\w-]+=[\w.-]+)*;base64,/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** An encoded image as a request sent it, with the media type it declared, if any. */
export interface EncodedImage {
  bytes: Uint8Array;
  /** Content-Type of an upload, or the media type of a data: URL; undefined when none was given. */
  declaredType: string | undefined;
}

/**
 * Standard or URL-safe base64, padded or not, whitespace ignored, an optional data: URL prefix
 * (whose media type becomes the declared one).
 */
function decodeBase64Image(text: string, field: string): EncodedImage {
  const declaredType = DATA_URL.exec(text)?.[1]?.toLowerCase();
  const body = text.replace(DATA_URL, '').replace(/\s+/g, '');
  if (body.length === 0 || !BASE64.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
    throw new BadRequestError(`${field} is not valid base64`);
  }
  return { bytes: Buffer.from(body, 'base64'), declaredType };
}

/** The preprocessing of the task's first model: what its v2 tensor and its windows follow. */
export function taskPreprocessing(task: ServedTask): Preprocessing {
  return task.zoo.manifest.models[0]!.input.preprocessing;
}

function requireKind(task: ServedTask, kind: 'image' | 'window'): void {
  if (task.view.kind !== kind) {
    throw new InvalidInputError(`task "${task.name}" takes ${task.view.kind}s, not ${kind}s`);
  }
}

/**
 * Decodes an encoded image. A declared media type must name the format the bytes really are: a PNG
 * sent as image/jpeg is refused (415) rather than guessed at, so that a client's labelling bug
 * shows at once.
 */
async function decodeImage(image: EncodedImage, limits: ImageLimits): Promise<ModelInput> {
  const decoded = await ImageInput.fromEncoded(image.bytes, limits);
  const actual = decoded.format === undefined ? undefined : MEDIA_TYPES[decoded.format];
  if (image.declaredType !== undefined && actual !== undefined && image.declaredType !== actual) {
    throw new UnsupportedMediaTypeError(`the image is ${actual}, but it was declared as ${image.declaredType}; declare ${actual}`);
  }
  return { kind: 'image', image: decoded };
}

/** Raw image bytes uploaded with their Content-Type. */
export async function uploadedImageInput(task: ServedTask, image: EncodedImage, limits: ImageLimits): Promise<ModelInput> {
  if (task.view.kind !== 'image') {
    throw new UnsupportedMediaTypeError(
      `task "${task.name}" takes ${task.view.kind}s as JSON (Content-Type: application/json), not image uploads`,
    );
  }
  return decodeImage(image, limits);
}

/** A base64 image (`input.image`) of a JSON body. */
export async function base64ImageInput(task: ServedTask, text: string, limits: ImageLimits): Promise<ModelInput> {
  requireKind(task, 'image');
  return decodeImage(decodeBase64Image(text, 'input.image'), limits);
}

export function windowInput(task: ServedTask, window: unknown): ModelInput {
  requireKind(task, 'window');
  const prep = taskPreprocessing(task);
  if (prep.type !== 'window') throw new Error(`task ${task.name} has no window preprocessing`);
  return { kind: 'window', window: windowTensor(window, prep) };
}

/** A value of a request, named for an error message, without echoing a structure of any size. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value)?.slice(0, 40) ?? typeof value;
}

/**
 * Row-major values of `data`, flat or nested no deeper than `shape` (so that a deeply nested body
 * is refused before it can exhaust the stack); BadRequestError for anything but numbers.
 * Non-finite numbers pass: the input's own checks name the sample or pixel.
 */
export function flattenTensorData(data: readonly unknown[], shape: readonly number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'number') {
      if (n < size) out[n] = value;
      n++;
    } else if (Array.isArray(value)) {
      if (depth === shape.length) {
        throw new BadRequestError(`tensor data is nested deeper than its shape [${shape.join(', ')}]`);
      }
      for (const v of value) walk(v, depth + 1);
    } else {
      throw new BadRequestError(`tensor data must hold numbers only (FP32), found ${kindOf(value)}`);
    }
  };
  walk(data, 0);
  if (n !== size) throw new InvalidInputError(`the tensor holds ${n} values; its shape needs ${size}`);
  return out;
}

/** A v2 tensor (already flat and of the right size) as the ModelInput of a model with `prep`. */
export function tensorInput(task: ServedTask, tensor: Float32Array, prep: Preprocessing): ModelInput {
  if (prep.type === 'window') {
    requireKind(task, 'window');
    return { kind: 'window', window: checkWindowTensor(tensor, prep) };
  }
  requireKind(task, 'image');
  return { kind: 'image', image: ImageInput.fromTensor(tensor, prep) };
}
