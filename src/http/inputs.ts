/**
 * From what a request carries (base64 or raw image bytes, a nested window, a v2 FP32 tensor) to the
 * ModelInput a served task predicts on, with the task's kind and the limits checked first. The
 * decoding itself belongs to src/inputs; this module only adapts the wire formats to it.
 */
import { BadRequestError, InvalidInputError, UnsupportedMediaTypeError } from '../errors/index.js';
import { ImageInput, type ImageLimits } from '../inputs/image.js';
import type { ModelInput } from '../inputs/index.js';
import { checkWindowTensor, windowTensor } from '../inputs/window.js';
import type { ServedTask } from '../serve/task.js';
import type { Preprocessing } from '../zoo/manifest.js';

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+(;[\w-]+=[\w.-]+)*;base64,/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Standard or URL-safe base64, padded or not, whitespace ignored, an optional data: URL prefix. */
export function decodeBase64(text: string, field: string): Buffer {
  const body = text.replace(DATA_URL, '').replace(/\s+/g, '');
  if (body.length === 0 || !BASE64.test(body) || body.replace(/=+$/, '').length % 4 === 1) {
    throw new BadRequestError(`${field} is not valid base64`);
  }
  return Buffer.from(body, 'base64');
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

export async function imageInput(task: ServedTask, bytes: Uint8Array, limits: ImageLimits): Promise<ModelInput> {
  if (task.view.kind !== 'image') {
    throw new UnsupportedMediaTypeError(
      `task "${task.name}" takes ${task.view.kind}s as JSON (Content-Type: application/json), not image uploads`,
    );
  }
  return { kind: 'image', image: await ImageInput.fromEncoded(bytes, limits) };
}

export async function base64ImageInput(task: ServedTask, text: string, limits: ImageLimits): Promise<ModelInput> {
  requireKind(task, 'image');
  return { kind: 'image', image: await ImageInput.fromEncoded(decodeBase64(text, 'input.image'), limits) };
}

export function windowInput(task: ServedTask, window: unknown): ModelInput {
  requireKind(task, 'window');
  const prep = taskPreprocessing(task);
  if (prep.type !== 'window') throw new Error(`task ${task.name} has no window preprocessing`);
  return { kind: 'window', window: windowTensor(window, prep) };
}

/** Row-major values of `data`, flat or nested; BadRequestError for anything but numbers. */
export function flattenTensorData(data: readonly unknown[], size: number): Float32Array {
  const out = new Float32Array(size);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'number') {
      if (n < size) out[n] = value;
      n++;
    } else if (Array.isArray(value) && depth < 8) {
      for (const v of value) walk(v, depth + 1);
    } else {
      throw new BadRequestError(`tensor data must hold numbers only (FP32), found ${JSON.stringify(value)?.slice(0, 40)}`);
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
