import { expect } from 'chai';
import { extractFeatures, featureViewOf } from '../../src/features/extract.js';
import type { LabelledInputs } from '../../src/pipeline/datasets/index.js';
import { forestUs, timedFeatureRows } from '../../src/pipeline/overhead.js';
import { seededRandom, trainForest } from '../../src/premodel/forest.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import { syntheticWindow } from '../helpers/windows.js';

describe('pipeline/overhead', () => {
  it('timedFeatureRows: the features the request path computes, with their mean cost', async () => {
    const { manifest } = await loadManifest('zoo/har');
    const view = featureViewOf(manifest);
    if (view.kind !== 'window') throw new Error('har takes windows');
    const windows = (['walking', 'still', 'walking'] as const).map((a) => syntheticWindow(view.length, view.channels, a));
    const data: LabelledInputs = { labels: [0, 1, 0], input: (i) => ({ kind: 'window', window: windows[i]! }) };
    const { rows, featureUs } = await timedFeatureRows(manifest, data);
    expect(rows).to.have.length(3);
    expect(rows[1]).to.deep.equal(Array.from(await extractFeatures(data.input(1), view)));
    expect(featureUs).to.be.above(0).and.below(10_000);
  });

  it('forestUs: a positive, finite cost per row of a ladder of forests', () => {
    const random = seededRandom(9);
    const rows = Array.from({ length: 300 }, () => [random(), random(), random()]);
    const targets = rows.map((r) => (r[0]! > 0.5 ? 1 : 0));
    const options = { trees: 4, rowsPerTree: 100, maxFeatures: 1, maxDepth: 3, minLeafRows: 5, seed: 1 };
    const stage1 = trainForest(rows, targets, options);
    const stage2 = trainForest(rows.map((r) => [...r, 0.9, 0.5]), targets, options);
    const us = forestUs([stage1, stage1, stage1], stage2, rows, 100);
    expect(us).to.be.above(0).and.below(10_000);
  });
});
