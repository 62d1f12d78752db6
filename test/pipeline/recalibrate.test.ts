import { expect } from 'chai';
import type { FeedbackRecord } from '../../src/feedback/index.js';
import { recalibrate } from '../../src/pipeline/recalibrate.js';
import { Premodel, type PremodelFile } from '../../src/premodel/premodel.js';
import { TOY_ZOO, toyPremodel } from '../helpers/toy-premodel.js';

const PREMODEL_ID = 'd'.repeat(8);

/** `count` labels of decisions served at `point`, `right` of them answered right. */
function labels(point: number, count: number, right: number, extra: Partial<FeedbackRecord['decision']> = {}, idPrefix = `p${point}`): FeedbackRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${idPrefix}-${i}`,
    task: 'toy',
    label: i < right ? 1 : 0,
    at: '2026-12-01T00:00:00.000Z',
    decision: { task: 'toy', premodel: PREMODEL_ID, issuedAtS: 0, group: undefined, target: 0.9, effectiveTarget: 0.9, point, runs: [{ rung: 0, classIndex: 1, confidence: 0.9 }], ...extra },
  }));
}

const options = { minLabels: 200, sources: ['test'], fittedAt: new Date('2026-12-01T00:00:00Z') };

describe('pipeline/recalibrate', () => {
  it('moves every bound by the shift labels show, so the target is served from a stronger point', () => {
    const file = toyPremodel();
    // Point 0 reached 90% on the premodel split; labels show 84%.
    const result = recalibrate(file, labels(0, 1000, 840), options);
    const g = result.groups['']!;
    expect(g).to.include({ labels: 1000, realized: 0.84, expected: 0.9 });
    expect(g.shift).to.be.closeTo(-0.06, 1e-9);
    // Applied: the shift's one-sided 95% lower bound, 1.645 * sqrt(0.84 * 0.16 / 1000) below it; point 0 moves by its own.
    const applied = -0.06 - 1.645 * Math.sqrt((0.84 * 0.16) / 1000);
    expect(g.points['0']!.applied).to.be.closeTo(applied, 1e-4);
    expect(result.file.calibration.map((p) => p.accuracyLowerBound)).to.deep.equal([0.88, 0.93, 0.95, 0.96].map((b) => Math.round((b + g.applied) * 1e5) / 1e5));
    expect(result.file.alone.large!.accuracyLowerBound).to.be.closeTo(0.96 + g.applied, 1e-4);
    const before = Premodel.fromJSON(file, TOY_ZOO);
    const after = Premodel.fromJSON(result.file, TOY_ZOO);
    expect(before.operatingPoint(0.85).index).to.equal(0);
    expect(after.operatingPoint(0.85).index).to.be.above(0);
    expect(result.file.recalibration).to.include({ labels: 1000, fittedAt: '2026-12-01T00:00:00.000Z' });
    expect(result.file.dataHash, 'decision tokens still name it').to.equal(file.dataHash);
    // A default target stays vouched for by some point.
    expect(after.defaultTarget()).to.be.at.most(Math.max(...result.file.calibration.map((p) => p.accuracyLowerBound)));
  });

  it('a point with labels of its own moves by its own shift, the others by the pooled one', () => {
    // Point 0 lost 10 points, point 3 (the strongest) none: it did better than its 98%.
    const result = recalibrate(toyPremodel(), [...labels(0, 1000, 800), ...labels(3, 1000, 990)], options);
    const g = result.groups['']!;
    expect(g.points['3']!.applied).to.equal(0);
    expect(result.file.calibration[3]!.accuracyLowerBound).to.equal(0.96);
    expect(result.file.calibration[0]!.accuracyLowerBound).to.be.below(0.8);
    expect(result.file.calibration[1]!.accuracyLowerBound).to.be.closeTo(0.93 + g.applied, 1e-4);
  });

  it('leaves bounds where labels show an easier stream, or too few labels', () => {
    expect(recalibrate(toyPremodel(), labels(0, 1000, 990), options).file.calibration[0]!.accuracyLowerBound).to.equal(0.88);
    const few = recalibrate(toyPremodel(), labels(0, 100, 50), options);
    expect(few.groups['']!.applied).to.equal(0);
    expect(few.file.calibration[0]!.accuracyLowerBound).to.equal(0.88);
  });

  it("counts each id once, and only this task's and this premodel's decisions through a point", () => {
    const records = [
      ...labels(0, 300, 250),
      ...labels(0, 300, 250), // the same ids again: another replica's copy
      ...labels(0, 50, 0, { premodel: 'ffffffff' }, 'other-premodel'),
      ...labels(0, 50, 0, { point: undefined }, 'no-point'),
      ...labels(0, 50, 0, {}, 'other-task').map((r) => ({ ...r, task: 'other' })),
    ];
    const result = recalibrate(toyPremodel(), records, options);
    expect(result.labels).to.equal(300);
    expect(result.skipped).to.equal(450);
  });

  it('per input group: only the group labels show missed moves, a group calibration never saw becomes its own', () => {
    const file: PremodelFile = toyPremodel();
    const figures = (a: number, cost: number, bound: number) => ({ accuracy: a, meanCostMs: cost, accuracyLowerBound: bound });
    file.calibration = file.calibration.map((p) => ({ ...p, groups: { png: figures(p.accuracy, p.meanCostMs, p.accuracyLowerBound), jpeg: figures(p.accuracy - 0.02, p.meanCostMs, p.accuracyLowerBound - 0.02) } }));
    file.defaultTargets = { png: 0.96, jpeg: 0.94 };
    const result = recalibrate(file, [...labels(1, 500, 400, { group: 'jpeg' }), ...labels(1, 500, 400, { group: 'webp' }, 'w')], options);
    const points = result.file.calibration;
    expect(points[0]!.groups!.png!.accuracyLowerBound).to.equal(0.88);
    expect(points[0]!.groups!.jpeg!.accuracyLowerBound).to.be.below(0.86);
    expect(points[0]!.groups!.webp!.accuracyLowerBound, 'from the worst group\'s figures').to.be.below(0.88);
    expect(points[0]!.accuracyLowerBound, 'unseen groups keep the trained worst case').to.equal(0.88);
    expect(result.file.defaultTargets!.png).to.equal(0.96);
    expect(result.file.defaultTargets!.jpeg).to.be.below(0.94);
    expect(() => Premodel.fromJSON(result.file, TOY_ZOO)).to.not.throw();
  });

  it('recalibrating a recalibrated premodel starts from the trained bounds: shifts do not add up', () => {
    const records = labels(0, 1000, 840);
    const once = recalibrate(toyPremodel(), records, options);
    const twice = recalibrate(once.file, records, options);
    expect(twice.file.calibration).to.deep.equal(once.file.calibration);
    expect(twice.file.defaultTarget).to.equal(once.file.defaultTarget);
    expect(twice.file.alone).to.deep.equal(once.file.alone);
  });
});
