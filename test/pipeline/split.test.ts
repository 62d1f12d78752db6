import { expect } from 'chai';
import path from 'node:path';
import { BottleneckInput } from '../../src/inputs/bottleneck/decode.js';
import { WindowInput } from '../../src/inputs/window/decode.js';
import type { LabelledInputs } from '../../src/pipeline/datasets/index.js';
import { accuracyOf, measureOutcomes } from '../../src/pipeline/profile.js';
import { splitRows } from '../../src/pipeline/split.js';
import { loadZoo } from '../../src/zoo/repository.js';
import { TINY_HEAD, tinyBottlenecks } from '../helpers/bottleneck.js';
import { SPLIT_SEEDS, tinyWindows } from '../helpers/tiny-data.js';

const TASK_DIR = path.dirname(path.dirname(TINY_HEAD.dir));

describe('pipeline/split', () => {
  it("passes the task's rows through the head as a device runs it, and decodes them as the service does", async () => {
    const windows = tinyWindows(300, SPLIT_SEEDS.test);
    const split: LabelledInputs = { labels: windows.labels, input: (i) => new WindowInput(windows.inputs[i]!) };
    const route = await splitRows(TASK_DIR, TINY_HEAD.dir, { premodel: split, test: split }, { intraOpThreads: 1 });
    const tails = await loadZoo(TINY_HEAD.dir, { intraOpThreads: 1 });
    try {
      expect(route.head.id).to.equal(TINY_HEAD.id);
      const first = await route.splits.test.input(0);
      expect(first).to.be.instanceOf(BottleneckInput);
      expect(Array.from((first as BottleneckInput).codes)).to.deep.equal(Array.from(tinyBottlenecks(300).codes[0]!));
      // The profile of the fixture's tails was measured on these very rows.
      const outcomes = await measureOutcomes(tails, 'test', route.splits.test);
      for (const m of tails.manifest.models) expect(accuracyOf(outcomes, m.id)).to.be.closeTo(m.accuracy!.test, 1e-4);
    } finally {
      tails.dispose();
      route.close();
    }
  });
});
