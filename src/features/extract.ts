/**
 * From a request's input to the premodel's feature vector. Images are looked at as one grey plane
 * at the zoo's own input size, so that for a zoo of grey models the plane is the tensor the models
 * get anyway (decoded and resized once per request).
 */
import type { ModelInput } from '../inputs/index.js';
import type { ImagePreprocessing, ZooManifest } from '../zoo/manifest.js';
import { IMAGE_FEATURES, imageFeatures } from './image.js';
import { windowFeatureNames, windowFeatures } from './window.js';

export type FeatureView =
  | { kind: 'image'; plane: ImagePreprocessing }
  | { kind: 'window'; length: number; channels: number; sampleRateHz: number };

/** The view of a zoo's inputs that its premodel's features are computed on. */
export function featureViewOf(manifest: ZooManifest): FeatureView {
  const prep = manifest.models[0]!.input.preprocessing;
  if (prep.type === 'window') {
    return { kind: 'window', length: prep.length, channels: prep.channels, sampleRateHz: prep.sampleRateHz };
  }
  return {
    kind: 'image',
    plane: { type: 'image', width: prep.width, height: prep.height, channels: 1, fit: prep.fit, background: prep.background, mean: [0], std: [1] },
  };
}

export function featureNamesOf(view: FeatureView): readonly string[] {
  return view.kind === 'image' ? IMAGE_FEATURES : windowFeatureNames(view.channels);
}

export async function extractFeatures(input: ModelInput, view: FeatureView): Promise<Float32Array> {
  if (input.kind === 'image' && view.kind === 'image') {
    return imageFeatures(await input.image.tensor(view.plane), view.plane.width, view.plane.height);
  }
  if (input.kind === 'window' && view.kind === 'window') {
    return windowFeatures(input.window, view.length, view.channels, view.sampleRateHz);
  }
  throw new Error(`features of a ${view.kind} cannot be computed from a request holding a ${input.kind}`);
}
