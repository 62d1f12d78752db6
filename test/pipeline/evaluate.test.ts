import { expect } from 'chai';
import { dearerThan, keptPromise } from '../../src/pipeline/evaluate.js';

const point = (label: string, accuracy: number, meanCostMs: number) => ({ label, accuracy, meanCostMs });

describe('pipeline/evaluate', () => {
  it('dearerThan: the cascade points no premodel point matches in accuracy at no more cost', () => {
    const curve = [point('a', 0.85, 0.05), point('b', 0.9, 0.1), point('c', 0.93, 0.3)];
    const cascade = [point('c1', 0.84, 0.04), point('c2', 0.9, 0.2), point('c3', 0.95, 1)];
    expect(dearerThan(curve, cascade)).to.deep.equal([
      { cascade: cascade[0], premodel: curve[0] }, // matched in accuracy, but for more
      { cascade: cascade[2], premodel: null }, // not reached
    ]);
    expect(dearerThan(curve, [point('same', 0.9, 0.1)])).to.deep.equal([]);
  });

  it('keptPromise: the constraintMet-true answers reach the target within their sampling margin', () => {
    // 1.645 * sqrt(0.9 * 0.1 / 900) = 1.645 points.
    expect(keptPromise(0.9, 0.89, 900)).to.equal(true);
    expect(keptPromise(0.9, 0.88, 900)).to.equal(false);
    // The fewer the vouched answers, the wider the margin.
    expect(keptPromise(0.9, 0.88, 100)).to.equal(true);
    // None said constraintMet: true: nothing was promised.
    expect(keptPromise(0.9, null, 0)).to.equal(true);
  });
});
