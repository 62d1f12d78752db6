import { expect } from 'chai';
import { taskInputs } from '../../src/inputs/registry.js';
import { WindowInput } from '../../src/inputs/window/decode.js';
import type { LabelledInputs } from '../../src/pipeline/datasets/index.js';
import { forestUs, timedFeatureRows } from '../../src/pipeline/overhead.js';
import { seededRandom, trainForest } from '../../src/premodel/forest.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import { syntheticWindow } from '../helpers/windows.js';

describe('pipeline/overhead', () => {
  it('timedFeatureRows: the features the request path computes, with their mean cost', async () => {
    const { manifest } = await loadManifest('zoo/har');
    const inputs = taskInputs(manifest);
    const windows = (['walking', 'still', 'walking'] as const).map((a) => new WindowInput(syntheticWindow(128, 6, a)));
    const data: LabelledInputs = { labels: [0, 1, 0], input: (i) => windows[i]! };
    const { rows, featureUs } = await timedFeatureRows(manifest, data);
    expect(rows).to.have.length(3);
    expect(rows[1]).to.deep.equal(Array.from(await inputs.features(await data.input(1))));
    // A cost, in microseconds: how large it is depends on the machine, so only its kind is checked.
    expect(Number.isFinite(featureUs) && featureUs >= 0).to.equal(true);
  });

  it('forestUs: a positive, finite cost per row of a ladder of forests', () => {
    const random = seededRandom(9);
    const rows = Array.from({ length: 300 }, () => [random(), random(), random()]);
    const targets = rows.map((r) => (r[0]! > 0.5 ? 1 : 0));
    const options = { trees: 4, rowsPerTree: 100, maxFeatures: 1, maxDepth: 3, minLeafRows: 5, seed: 1 };
    const stage1 = trainForest(rows, targets, options);
    const stage2 = trainForest(rows.map((r) => [...r, 0.9, 0.5]), targets, options);
    const us = forestUs([stage1, stage1, stage1], stage2, rows, 100);
    expect(Number.isFinite(us) && us >= 0).to.equal(true);
  });
});
