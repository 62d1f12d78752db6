import { expect } from 'chai';
import path from 'node:path';
import { taskInputs } from '../../src/inputs/registry.js';
import { WindowInput } from '../../src/inputs/window/decode.js';
import type { EvaluationSplits, LabelledInputs } from '../../src/pipeline/datasets/index.js';
import { compareSplit, comparisonMarkdown } from '../../src/pipeline/split-comparison.js';
import { splitRows } from '../../src/pipeline/split.js';
import { evaluateAt } from '../../src/pipeline/task-steps.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import { TINY_HEAD } from '../helpers/bottleneck.js';
import { SPLIT_SEEDS, TINY_WINDOW, tinyWindows } from '../helpers/tiny-data.js';

const TASK_DIR = path.dirname(path.dirname(TINY_HEAD.dir));
const PREMODEL_DIR = path.join('test/fixtures/tiny/premodel', TINY_WINDOW.task);

function windows(count: number, seed: number): LabelledInputs {
  const set = tinyWindows(count, seed);
  return { labels: set.labels, groups: set.groups!, input: (i) => new WindowInput(set.inputs[i]!) };
}

describe('pipeline/split-comparison', () => {
  it('sets the split against the whole model on the device and the raw input, on the same test rows', async () => {
    // The rows the fixture was profiled on (test/fixtures/make-tiny-zoo.ts).
    const splits: EvaluationSplits = { premodel: windows(600, SPLIT_SEEDS.premodel), test: windows(300, SPLIT_SEEDS.test) };
    const task = (await loadManifest(TASK_DIR)).manifest;
    const route = (await loadManifest(TINY_HEAD.dir)).manifest;
    const rows = await splitRows(TASK_DIR, TINY_HEAD.dir, splits, { intraOpThreads: 1 });
    try {
      const raw = await evaluateAt({ zooDir: TASK_DIR, premodelDir: PREMODEL_DIR }, splits);
      const split = await evaluateAt({ zooDir: TINY_HEAD.dir, premodelDir: path.join(PREMODEL_DIR, 'heads', TINY_HEAD.id) }, rows.splits);
      const c = await compareSplit({ task, route, raw: raw.clean, split: split.clean, inputs: taskInputs(task), test: splits.test, sampleRows: 20 });
      const parent = task.models.find((m) => m.id === route.head!.parent)!;
      expect(c.bottleneck).to.deep.equal({ shape: TINY_HEAD.shape, bytes: 6 });
      expect(c.smallerThanTensor).to.be.closeTo(1 - 6 / (TINY_WINDOW.length * TINY_WINDOW.channels * 4), 1e-12);
      const [device, ...rest] = c.modes;
      // The manifest rounds accuracies to 4 digits.
      expect(device).to.deep.include({ deviceMacs: parent.macs, serverMs: 0 });
      expect(device!.accuracy).to.be.closeTo(parent.accuracy!.test, 1e-4);
      for (const tail of route.models) {
        const mode = rest.find((m) => m.mode.includes(tail.id))!;
        expect(mode.deviceMacs).to.equal(route.head!.macs);
        expect(mode.accuracy).to.be.closeTo(tail.accuracy!.test, 1e-4);
        expect(mode.sent.map((s) => s.bytes)[0]).to.equal(6);
      }
      const rawModes = c.modes.filter((m) => m.mode.startsWith('the raw input'));
      expect(rawModes).to.have.length(2);
      for (const m of rawModes) {
        expect(m.deviceMacs).to.equal(0);
        // A JSON window is larger than its float32 tensor.
        expect(m.sent[0]!.bytes).to.be.greaterThan(m.sent[1]!.bytes);
      }
      expect(comparisonMarkdown(c)).to.match(/98\.75% smaller/);
    } finally {
      rows.close();
    }
  });
});
