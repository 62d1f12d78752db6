/** A premodel of two models ("small", "large") on two features, with four operating points: for the tests of what reads a premodel. */
import { seededRandom, trainForest } from '../../src/premodel/forest.js';
import type { PremodelFile, ZooIdentity } from '../../src/premodel/premodel.js';

export const TOY_ZOO: ZooIdentity = { task: 'toy', zooHash: 'c'.repeat(64), featureNames: ['a', 'b'], modelIds: ['small', 'large'] };

export function toyPremodel(): PremodelFile {
  const random = seededRandom(1);
  const rows = Array.from({ length: 200 }, () => [random(), random()]);
  const options = { trees: 3, rowsPerTree: 100, maxFeatures: 1, maxDepth: 3, minLeafRows: 5, seed: 1 };
  const forest = (width: number, rule: (r: number[]) => boolean) => {
    const wide = rows.map((r) => [...r, ...Array(width - 2).fill(0.5)]);
    return trainForest(wide, wide.map((r) => (rule(r) !== random() < 0.05 ? 1 : 0)), options);
  };
  return {
    $comment: 'test',
    kind: 'adaptive-zoo-premodel',
    version: 4,
    task: 'toy',
    zooHash: TOY_ZOO.zooHash,
    dataHash: 'd'.repeat(64),
    featureNames: ['a', 'b'],
    models: ['small', 'large'],
    stage1: { small: forest(2, (r) => r[0]! > 0.5), large: forest(2, () => true) },
    stage2: { small: forest(4, (r) => r[0]! > 0.5), large: forest(4, () => true) },
    calibration: [
      { models: ['small'], thresholds: [0.5], verifier: 'premodel', start: 'premodel', accuracy: 0.9, meanCostMs: 0.1, accuracyLowerBound: 0.88 },
      { models: ['small', 'large'], thresholds: [0.7, 0.7], verifier: 'premodel', start: 'premodel', accuracy: 0.95, meanCostMs: 0.2, accuracyLowerBound: 0.93 },
      { models: ['small', 'large'], thresholds: [0.9, 0.9], verifier: 'premodel', start: 'premodel', accuracy: 0.97, meanCostMs: 0.3, accuracyLowerBound: 0.95 },
      { models: ['large'], thresholds: [0.5], verifier: 'premodel', start: 'premodel', accuracy: 0.98, meanCostMs: 0.4, accuracyLowerBound: 0.96 },
    ],
    alone: { small: { accuracyLowerBound: 0.88 }, large: { accuracyLowerBound: 0.96 } },
    bestSingleAccuracy: 0.98,
    defaultTarget: 0.96,
    training: { options, folds: 2, rows: 200, overheadMs: 0.01, margin: 0.02, seconds: 0.1, trainedAt: new Date().toISOString() },
  };
}
