import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ImageInput } from '../../../src/inputs/image/decode.js';
import { WindowInput } from '../../../src/inputs/window/decode.js';
import { classFolder } from '../../../src/pipeline/datasets/folder.js';
import type { EvaluationSplits } from '../../../src/pipeline/datasets/index.js';
import { exportTask } from '../../../src/pipeline/import/export.js';
import { planImport } from '../../../src/pipeline/import/index.js';
import { loadManifest } from '../../../src/zoo/manifest.js';
import { SPLIT_SEEDS, tinyImages, tinyWindows } from '../../helpers/tiny-data.js';

const FIXTURE = 'test/fixtures/tiny/zoo';

function imageSplits(count: number): EvaluationSplits {
  const of = (seed: number) => {
    const set = tinyImages(count, seed);
    return { labels: set.labels, input: (i: number) => ImageInput.fromRaw(set.inputs[i]!) };
  };
  return { premodel: of(SPLIT_SEEDS.premodel), test: of(SPLIT_SEEDS.test) };
}

function windowSplits(count: number): EvaluationSplits {
  const of = (seed: number) => {
    const set = tinyWindows(count, seed);
    return { labels: set.labels, groups: set.groups!, input: (i: number) => new WindowInput(set.inputs[i]!) };
  };
  return { premodel: of(SPLIT_SEEDS.premodel), test: of(SPLIT_SEEDS.test) };
}

/** What an import must give back of a model: everything but the profile and the figures it measures. */
const essence = (m: { id: string; file: string; sha256: string; input: unknown; output: unknown; compression: unknown; testTimeAugmentation?: unknown; description: string }) => ({
  id: m.id, sha256: m.sha256, input: m.input, output: m.output, compression: m.compression, testTimeAugmentation: m.testTimeAugmentation, description: m.description,
});

describe('pipeline/import/export (a task written as a team brings it imports back the same)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-export-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  for (const [task, splits] of [['tiny-image', imageSplits(12)], ['tiny-window', windowSplits(12)]] as const) {
    it(`${task}: models, labels, zoo.json and data files that import to the same manifest`, async () => {
      const zooDir = path.join(FIXTURE, task);
      const { manifest } = await loadManifest(zooDir);
      const out = path.join(root, task);
      const files = await exportTask(zooDir, manifest, splits, out);
      expect((await readFile(path.join(files.models, 'labels.txt'), 'utf8')).trim().split('\n')).to.deep.equal(manifest.classes);
      const plan = await planImport({ task, modelsDir: files.models, dataDir: files.data, outDir: path.join(root, 'imported'), hints: {}, replace: false });
      expect(plan.manifest.models.map(essence)).to.deep.equal(manifest.models.map(essence));
      expect(plan.manifest.splits).to.deep.equal(manifest.splits);
      expect(plan.splits.premodel.labels.length).to.equal(12);
      if (task === 'tiny-window') {
        expect(plan.splits.premodel.groups).to.have.length(12);
        expect(await readdir(files.data)).to.deep.equal(['premodel.jsonl', 'test.jsonl']);
      } else {
        expect((await readdir(path.join(files.data, 'test'))).sort()).to.deep.equal(manifest.classes.map(classFolder).sort().filter((c) => splits.test.labels.some((l) => classFolder(manifest.classes[l]!) === c)));
      }
    });
  }

  it('names a class folder safely', () => {
    expect(classFolder('T-shirt/top')).to.equal('T-shirt_top');
    expect(classFolder('a:b')).to.equal('a_b');
  });
});
