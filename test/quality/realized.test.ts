import { expect } from 'chai';
import type { Decision } from '../../src/feedback/token.js';
import { bandOf, TaskQuality } from '../../src/quality/realized.js';
import { seededRandom } from '../../src/premodel/forest.js';

const decisionAt = (target: number | undefined, point?: number, group?: string): Decision => ({
  task: 't',
  premodel: '00000000',
  issuedAtS: 0,
  group,
  target,
  effectiveTarget: target,
  point,
  runs: [{ rung: 0, classIndex: 0, confidence: 0.9 }],
});
const live = { current: true, learn: true };

/**
 * A stream served by a ladder of operating points: point i, chosen for the effective target,
 * answers right with chance `accuracies[i]`; the cheapest point whose accuracy on the premodel
 * split (`promised`) reaches the target serves it. The shifted stream is 3 points harder than
 * calibration promised.
 */
function serve(quality: TaskQuality, target: number, requests: number, seed: number): { firstHalf: number; secondHalf: number } {
  const promised = [0.85, 0.88, 0.9, 0.92, 0.94, 0.96];
  const realized = promised.map((a) => a - 0.03);
  const random = seededRandom(seed);
  let right = [0, 0];
  for (let i = 0; i < requests; i++) {
    const effective = quality.effectiveTarget(target, undefined);
    let point = promised.findIndex((a) => a >= effective);
    if (point === -1) point = promised.length - 1;
    const correct = random() < realized[point]!;
    right[i < requests / 2 ? 0 : 1]! += correct ? 1 : 0;
    quality.record(decisionAt(target, point), correct, live);
  }
  right = right.map((r) => r / (requests / 2));
  return { firstHalf: right[0]!, secondHalf: right[1]! };
}

describe('quality/realized', () => {
  it('bands: whole points of accuracy', () => {
    expect(bandOf(0.9)).to.equal('0.90');
    expect(bandOf(0.9099)).to.equal('0.90');
    expect(bandOf(0.91)).to.equal('0.91');
    expect(bandOf(1)).to.equal('1.00');
  });

  it('counts labels per band, point and group, with Wilson bounds', () => {
    const q = new TaskQuality({ enabled: false, step: 0.005, maxRaise: 0.05 });
    for (let i = 0; i < 100; i++) q.record(decisionAt(0.9, 3, 'png'), i < 80, live);
    q.record(decisionAt(undefined), true, live);
    const s = q.snapshot();
    expect(s.labelled).to.equal(101);
    const band = s.bands.find((b) => b.band === '0.90')!;
    expect(band).to.include({ labelled: 100, accuracy: 0.8, meanTarget: 0.9 });
    expect(band.lowerBound).to.be.within(0.72, 0.8);
    expect(band.upperBound).to.be.within(0.8, 0.87);
    expect(s.bands.find((b) => b.band === 'none')).to.include({ labelled: 1, meanTarget: null });
    expect(s.points).to.deep.equal([{ point: 3, labelled: 100, accuracy: 0.8, lowerBound: band.lowerBound, upperBound: band.upperBound }]);
    expect(s.groups.map((g) => g.group)).to.deep.equal(['', 'png']);
  });

  it('a label of another premodel, or replayed from the store, counts but does not correct', () => {
    const q = new TaskQuality({ enabled: true, step: 0.05, maxRaise: 0.05 });
    for (let i = 0; i < 50; i++) q.record(decisionAt(0.9, 2), false, { current: false, learn: false });
    for (let i = 0; i < 50; i++) q.record(decisionAt(0.9, 2), false, { current: true, learn: false });
    expect(q.effectiveTarget(0.9, undefined)).to.equal(0.9);
    expect(q.snapshot().points).to.have.length(1);
    expect(q.snapshot().points[0]!.labelled).to.equal(50);
  });

  it('online correction: a missed band moves to a stronger point and meets its target on the second half; off, it misses', () => {
    const target = 0.9;
    const off = serve(new TaskQuality({ enabled: false, step: 0.005, maxRaise: 0.05 }), target, 6000, 1);
    const on = new TaskQuality({ enabled: true, step: 0.005, maxRaise: 0.05 });
    const corrected = serve(on, target, 6000, 1);
    // The sampling margin of 3,000 labels at 90%: one-sided 95%.
    const margin = 1.645 * Math.sqrt((0.9 * 0.1) / 3000);
    expect(off.secondHalf).to.be.below(target - margin);
    expect(corrected.secondHalf).to.be.at.least(target - margin);
    expect(on.raiseOf(target, undefined)).to.be.above(0);
    expect(on.effectiveTarget(target, undefined)).to.be.above(target);
  });

  it('stays within its bounds, and falls back while a band over-delivers', () => {
    const q = new TaskQuality({ enabled: true, step: 0.01, maxRaise: 0.03 });
    for (let i = 0; i < 1000; i++) q.record(decisionAt(0.9), false, live);
    expect(q.raiseOf(0.9, undefined)).to.equal(0.03);
    expect(q.missed(0.9, undefined)).to.equal(true);
    for (let i = 0; i < 2000; i++) q.record(decisionAt(0.9), true, live);
    expect(q.raiseOf(0.9, undefined)).to.equal(0);
    expect(q.missed(0.9, undefined)).to.equal(false);
    expect(q.effectiveTarget(0.9, undefined)).to.equal(0.9);
  });

  it('keeps bands and groups apart', () => {
    const q = new TaskQuality({ enabled: true, step: 0.01, maxRaise: 0.05 });
    for (let i = 0; i < 100; i++) q.record(decisionAt(0.9, undefined, 'jpeg'), false, live);
    expect(q.raiseOf(0.9, 'jpeg')).to.be.above(0);
    expect(q.raiseOf(0.9, 'png')).to.equal(0);
    expect(q.raiseOf(0.85, 'jpeg')).to.equal(0);
  });
});
