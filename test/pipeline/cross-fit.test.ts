import { expect } from 'chai';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WindowInput } from '../../src/inputs/window/decode.js';
import { measureCrossFit, withCrossFit, type CalibrationRows } from '../../src/pipeline/cross-fit.js';
import type { LabelledInputs } from '../../src/pipeline/datasets/splits.js';
import type { OutcomeFile } from '../../src/pipeline/outcomes.js';
import { measureOutcomes } from '../../src/pipeline/profile.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import { loadZoo } from '../../src/zoo/repository.js';
import { calibrationRowsAt, crossFitStep, premodelStep } from '../../src/pipeline/task-steps.js';
import { SPLIT_SEEDS, tinyWindows } from '../helpers/tiny-data.js';

const TINY_WINDOW_ZOO = 'test/fixtures/tiny/zoo/tiny-window';

function outcomes(labels: number[], split: OutcomeFile['split'] = 'premodel'): OutcomeFile {
  const models = { m: { predicted: labels.map(() => 0), confidence: labels.map(() => 0.9), margin: labels.map(() => 0.5) } };
  return { $comment: 'test', task: 't', split, zooHash: 'a'.repeat(64), labels, models };
}

function rows(labels: number[], groups: number[], tag: string, split?: OutcomeFile['split']): CalibrationRows {
  return { outcomes: outcomes(labels, split), data: { labels, groups, input: (i) => `${tag}${i}` as never } };
}

describe('pipeline/cross-fit', () => {
  it('withCrossFit: the premodel rows, then the cross-fitted ones, with their people and inputs', async () => {
    const merged = withCrossFit(rows([0, 1], [5, 8], 'p'), rows([2, 0, 1], [1, 1, 3], 'z', 'zoo'));
    expect(merged.outcomes.labels).to.deep.equal([0, 1, 2, 0, 1]);
    expect(merged.outcomes.models.m!.predicted).to.have.length(5);
    expect(merged.outcomes.split).to.equal('premodel');
    expect(merged.data.groups).to.deep.equal([5, 8, 1, 1, 3]);
    expect([0, 1, 2, 4].map((i) => merged.data.input(i))).to.deep.equal(['p0', 'p1', 'z0', 'z2']);
  });

  it('withCrossFit: refuses people in both splits, a missing model, other inputs, and client-encoded rows', () => {
    expect(() => withCrossFit(rows([0], [5], 'p'), rows([0], [5], 'z'))).to.throw(/share volunteer\(s\) 5/);
    const lacking = rows([0], [1], 'z');
    lacking.outcomes = { ...lacking.outcomes, models: {} };
    expect(() => withCrossFit(rows([0], [5], 'p'), lacking)).to.throw(/lack model "m"/);
    const other = rows([0], [1], 'z');
    other.data = { ...other.data, labels: [2] };
    expect(() => withCrossFit(rows([0], [5], 'p'), other)).to.throw(/other inputs/);
    const encoded = rows([0], [5], 'p');
    encoded.outcomes = { ...encoded.outcomes, rows: { encodings: ['png'], source: [0], encoding: [0] } };
    expect(() => withCrossFit(encoded, rows([0], [1], 'z'))).to.throw(/client encodings/);
  });

  describe('measureCrossFit', () => {
    let dir: string;
    const set = tinyWindows(24, SPLIT_SEEDS.premodel);
    const zooSplit: LabelledInputs = { labels: set.labels, groups: set.groups!, input: (i) => new WindowInput(set.inputs[i]!) };
    const people = [...new Set(set.groups)].sort((a, b) => a - b);

    /** Two folds, each a copy of the tiny window zoo, holding out the given people. */
    async function folds(heldOut: number[][]): Promise<string> {
      const root = await mkdtemp(path.join(dir, 'folds-'));
      for (const [k, volunteers] of heldOut.entries()) {
        const fold = path.join(root, `fold-${k}`);
        await cp(TINY_WINDOW_ZOO, fold, { recursive: true, filter: (src) => !/outcomes|heads/.test(path.relative(TINY_WINDOW_ZOO, src)) });
        await writeFile(path.join(fold, 'held-out.json'), JSON.stringify({ fold: k, folds: heldOut.length, volunteers }));
      }
      return root;
    }

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'cross-fit-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it("measures every row once, by the fold that held out its person, stamped with the served zoo's hash", async () => {
      const { manifest, zooHash } = await loadManifest(TINY_WINDOW_ZOO);
      const served = { task: manifest.task, zooHash, modelIds: manifest.models.map((m) => m.id) };
      const file = await measureCrossFit(await folds([people.filter((_, i) => i % 2 === 0), people.filter((_, i) => i % 2 === 1)]), served, zooSplit, 1);
      expect(file).to.deep.include({ split: 'zoo', zooHash, task: 'tiny-window', labels: set.labels });
      // Both folds are the served models, so the rows are what the served zoo measures on them.
      const zoo = await loadZoo(TINY_WINDOW_ZOO, { intraOpThreads: 1 });
      try {
        const direct = await measureOutcomes(zoo, 'zoo', zooSplit);
        expect(file.models).to.deep.equal(direct.models);
      } finally {
        zoo.dispose();
      }
    });

    it('crossFitStep writes outcomes/cross-fit.json; premodel training then learns from both splits\' people', async () => {
      const zooDir = path.join(dir, 'zoo');
      await cp(TINY_WINDOW_ZOO, zooDir, { recursive: true, filter: (src) => !src.includes('heads') });
      const premodelSet = tinyWindows(600, SPLIT_SEEDS.premodel);
      const splits = {
        // The rows the fixture was profiled on (test/fixtures/make-tiny-zoo.ts), and a zoo split of other people.
        premodel: { labels: premodelSet.labels, groups: premodelSet.groups!, input: (i: number) => new WindowInput(premodelSet.inputs[i]!) },
        test: zooSplit,
        zoo: { ...zooSplit, groups: zooSplit.groups!.map((g) => g + 100) },
      };
      const loaded = await loadManifest(zooDir);
      expect((await calibrationRowsAt(zooDir, loaded, splits)).outcomes.labels, 'before: the premodel split alone').to.have.length(600);
      const halves = [people.filter((_, i) => i % 2 === 0), people.filter((_, i) => i % 2 === 1)].map((h) => h.map((g) => g + 100));
      const step = await crossFitStep(zooDir, await folds(halves), splits, 1);
      expect(step.lines.at(-1)).to.equal(`wrote ${path.join(zooDir, 'outcomes', 'cross-fit.json')}`);
      const rows = await calibrationRowsAt(zooDir, loaded, splits);
      expect(rows.outcomes.labels).to.have.length(600 + 24);
      expect(new Set(rows.data.groups)).to.have.property('size', 6 + 6);
      const { premodel } = await premodelStep(zooDir, path.join(dir, 'premodel'), splits, { folds: 2, forest: { trees: 2, rowsPerTree: 100, maxFeatures: 1, maxDepth: 3, minLeafRows: 5, seed: 1 } });
      expect(premodel.training.rows).to.equal(624);
    });

    it('refuses a person no fold holds out, or two do, and folds of other models', async () => {
      const { manifest, zooHash } = await loadManifest(TINY_WINDOW_ZOO);
      const served = { task: manifest.task, zooHash, modelIds: manifest.models.map((m) => m.id) };
      const [first, ...rest] = people;
      await measureCrossFit(await folds([[first!], rest.slice(1)]), served, zooSplit, 1).then(
        () => expect.fail('accepted'),
        (err: Error) => expect(err.message).to.match(new RegExp(`no fold holds out volunteer\\(s\\) ${rest[0]}$`)),
      );
      await measureCrossFit(await folds([[first!, rest[0]!], rest]), served, zooSplit, 1).then(
        () => expect.fail('accepted'),
        (err: Error) => expect(err.message).to.match(/holds out a volunteer that .* holds out too/),
      );
      await measureCrossFit(await folds([[first!], rest]), { ...served, modelIds: ['other'] }, zooSplit, 1).then(
        () => expect.fail('accepted'),
        (err: Error) => expect(err.message).to.match(/are not the served zoo's \(other\)/),
      );
    });
  });
});
