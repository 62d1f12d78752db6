/**
 * The premodel's cheap input features: the extractors of each input kind, and the one path from a
 * request's input to its feature vector (extract.ts), with the names a saved premodel records.
 */
export { IMAGE_FEATURES, imageFeatures } from './image.js';
export { WINDOW_FEATURES, windowFeatureNames, windowFeatures } from './window.js';
export { extractFeatures, featureNamesOf, featureViewOf, type FeatureView } from './extract.js';
