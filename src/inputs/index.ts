/**
 * A request's input, whatever its kind, and the tensor each zoo model needs from it.
 */
import { InvalidInputError } from '../errors/index.js';
import type { ModelEntry } from '../zoo/manifest.js';
import type { ImageInput } from './image.js';
import { checkWindowTensor } from './window.js';

export type ModelInput = { kind: 'image'; image: ImageInput } | { kind: 'window'; window: Float32Array };

/** The input tensor of `model` for `input`, in the layout and scaling its manifest declares. */
export function modelTensor(input: ModelInput, model: ModelEntry): Promise<Float32Array> {
  const prep = model.input.preprocessing;
  if (input.kind === 'image' && prep.type === 'image') return input.image.tensor(prep);
  if (input.kind === 'window' && prep.type === 'window') {
    return Promise.resolve(checkWindowTensor(input.window, prep));
  }
  return Promise.reject(
    new InvalidInputError(`model ${model.id} takes a ${prep.type}, the request holds a ${input.kind}`),
  );
}
