/**
 * The premodel's cheap input features, by input kind: their names (which a saved premodel records,
 * so that loading can refuse a premodel trained on other features) and the extractors.
 */
import { IMAGE_FEATURES } from './image.js';
import { WINDOW_FEATURES } from './window.js';

export { IMAGE_FEATURES, imageFeatures } from './image.js';
export { WINDOW_FEATURES, windowFeatureNames, windowFeatures } from './window.js';

export type FeatureKind = 'image' | 'window';

/** The feature names of `kind`; for windows, those of the default 6-channel (har) layout. */
export function featureNames(kind: FeatureKind): readonly string[] {
  return kind === 'image' ? IMAGE_FEATURES : WINDOW_FEATURES;
}
