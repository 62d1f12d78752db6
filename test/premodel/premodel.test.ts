import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArtifactError } from '../../src/errors/index.js';
import { loadPremodel, Premodel, PREMODEL_FILE, savePremodel, type PremodelFile, type ZooIdentity } from '../../src/premodel/premodel.js';
import { TOY_ZOO as zoo, toyPremodel } from '../helpers/toy-premodel.js';

describe('premodel/premodel', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'premodel-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips: saved, loaded, same estimates', async () => {
    const original = Premodel.fromJSON(toyPremodel(), zoo);
    await savePremodel(dir, original.toJSON());
    const loaded = await loadPremodel(dir, zoo);
    for (const row of [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]]) {
      expect(loaded.estimate(row)).to.deep.equal(original.estimate(row));
      expect(loaded.confirm('small', row, 0.8, 0.4)).to.equal(original.confirm('small', row, 0.8, 0.4));
    }
    expect(loaded.estimate([0.9, 0.2]).get('small')).to.be.greaterThan(0.8);
    expect(loaded.estimate([0.1, 0.2]).get('small')).to.be.lessThan(0.2);
  });

  it('serves a target from the cheapest operating point whose accuracy bound reaches it', () => {
    const premodel = Premodel.fromJSON(toyPremodel(), zoo);
    expect(premodel.operatingPoint(0.85)).to.deep.equal({ models: ['small'], thresholds: [0.5], verifier: 'premodel', start: 'premodel', accuracy: 0.88, index: 0 });
    // 0.95 measured is not enough for 0.94: its bound, 0.93, is below.
    expect(premodel.operatingPoint(0.94)).to.deep.equal({ models: ['small', 'large'], thresholds: [0.9, 0.9], verifier: 'premodel', start: 'premodel', accuracy: 0.95, index: 2 });
    // Nothing vouches for 0.99: the most accurate single model, whose bound tells the route it falls short.
    expect(premodel.operatingPoint(0.99)).to.deep.equal({ models: ['large'], thresholds: [0.5], verifier: 'premodel', start: 'premodel', accuracy: 0.96, index: 3 });
    expect(premodel.defaultTarget()).to.equal(0.96);
  });

  it('serves a target nothing vouches for from the most accurate single model, not a ladder that measured or is vouched higher', () => {
    const file = toyPremodel();
    // A ladder that measured highest and is vouched for the most: its edge rests on its rungs' confidence.
    file.calibration.push({ models: ['small', 'large'], thresholds: [0.5, 0.5], verifier: 'confidence', start: 'cheapest', accuracy: 0.99, meanCostMs: 0.15, accuracyLowerBound: 0.97 });
    const premodel = Premodel.fromJSON(file, zoo);
    expect(premodel.operatingPoint(0.97)).to.deep.include({ models: ['small', 'large'], accuracy: 0.97, index: 4 });
    expect(premodel.operatingPoint(0.99)).to.deep.include({ models: ['large'], accuracy: 0.96, index: 3 });
  });

  it('among single models, falls back to the most accurate, whatever their bounds; with none, to the ladder vouched for most', () => {
    const file = toyPremodel();
    file.calibration[0] = { ...file.calibration[0]!, accuracy: 0.985, accuracyLowerBound: 0.9 };
    expect(Premodel.fromJSON(file, zoo).operatingPoint(0.99)).to.deep.include({ models: ['small'], accuracy: 0.9, index: 0 });
    const ladders = toyPremodel();
    ladders.calibration = ladders.calibration.filter((p) => p.models.length > 1);
    expect(Premodel.fromJSON(ladders, zoo).operatingPoint(0.99)).to.deep.include({ models: ['small', 'large'], thresholds: [0.9, 0.9], accuracy: 0.95 });
  });

  it('with encoding groups, serves each request from the cheapest point vouched for its group; an unknown group gets the worst case', () => {
    const file = toyPremodel();
    const figures = (a: number, cost: number, bound: number) => ({ accuracy: a, meanCostMs: cost, accuracyLowerBound: bound });
    // small is vouched for 0.88 on clean images, 0.80 on low-quality JPEGs; large for 0.96 and 0.90.
    file.calibration = [
      { ...file.calibration[0]!, accuracyLowerBound: 0.8, groups: { clean: figures(0.9, 0.1, 0.88), jpeg: figures(0.82, 0.1, 0.8) } },
      { ...file.calibration[3]!, accuracyLowerBound: 0.9, groups: { clean: figures(0.98, 0.4, 0.96), jpeg: figures(0.92, 0.4, 0.9) } },
    ];
    file.defaultTargets = { clean: 0.96, jpeg: 0.9 };
    file.defaultTarget = 0.9;
    const premodel = Premodel.fromJSON(file, zoo);
    expect(premodel.operatingPoint(0.85, 'clean')).to.deep.include({ models: ['small'], accuracy: 0.88 });
    expect(premodel.operatingPoint(0.85, 'jpeg')).to.deep.include({ models: ['large'], accuracy: 0.9 });
    expect(premodel.operatingPoint(0.85, 'webp')).to.deep.include({ models: ['large'], accuracy: 0.9 });
    expect(premodel.operatingPoint(0.95, 'jpeg'), 'none vouches: the most accurate single model').to.deep.include({ models: ['large'], accuracy: 0.9 });
    expect(premodel.defaultTarget('clean')).to.equal(0.96);
    expect(premodel.defaultTarget('jpeg')).to.equal(0.9);
    expect(premodel.defaultTarget('webp')).to.equal(0.9);
    expect(premodel.vouchedAlone('small')).to.equal(0.88);
    expect(premodel.vouchedAlone('resnet')).to.equal(0);
  });

  it('estimates only the models asked for', () => {
    const premodel = Premodel.fromJSON(toyPremodel(), zoo);
    expect([...premodel.estimate([0.9, 0.1], ['large']).keys()]).to.deep.equal(['large']);
    expect([...premodel.estimate([0.9, 0.1]).keys()]).to.deep.equal(['small', 'large']);
  });

  const refusals: [string, (f: PremodelFile) => void, ZooIdentity, RegExp][] = [
    ['another zoo', () => {}, { ...zoo, zooHash: 'e'.repeat(64) }, /trained against another zoo/],
    ['other features', () => {}, { ...zoo, featureNames: ['a', 'c'] }, /other features/],
    ['another task', () => {}, { ...zoo, task: 'other' }, /trained for task "toy", not "other"/],
    ['a model the zoo lacks', () => {}, { ...zoo, modelIds: ['small'] }, /routes to model "large"/],
    ['another kind of file', (f) => Object.assign(f, { kind: 'something-else' }), zoo, /\/kind must be equal to constant/],
    ['another version', (f) => Object.assign(f, { version: 1 }), zoo, /\/version must be equal to constant/],
    ['a ladder with a model it has no forest for', (f) => f.calibration[0]!.models.push('huge'), zoo, /calibration routes to huge/],
    ['a point with more thresholds than rungs', (f) => f.calibration[1]!.thresholds.push(0.5), zoo, /a calibration point has 3 thresholds for 2 rungs/],
    ['a malformed tree', (f) => f.stage1.small!.trees[0]!.left.push(99), zoo, /a tree of model "small" is malformed/],
  ];
  for (const [what, change, identity, message] of refusals) {
    it(`refuses a premodel of ${what}`, async () => {
      const file = toyPremodel();
      change(file);
      await writeFile(path.join(dir, PREMODEL_FILE), JSON.stringify(file));
      try {
        await loadPremodel(dir, identity);
        expect.fail('loaded');
      } catch (err) {
        expect(err).to.be.instanceOf(ArtifactError);
        expect((err as ArtifactError).problems.join('\n')).to.match(message);
      }
    });
  }
});
