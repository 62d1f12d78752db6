import { expect } from 'chai';
import { accuracyLowerBound } from '../../src/pipeline/bounds.js';
import { wilsonLowerBound } from '../../src/quality/wilson.js';

describe('pipeline/bounds', () => {
  it('Wilson bound: below the share, closer to it with more trials', () => {
    expect(wilsonLowerBound(0.9, 100)).to.be.closeTo(0.8404, 1e-3);
    expect(wilsonLowerBound(0.9, 10000)).to.be.closeTo(0.8950, 1e-3);
    expect(wilsonLowerBound(1, 50)).to.be.lessThan(1);
    expect(wilsonLowerBound(0, 50)).to.equal(0);
    expect(wilsonLowerBound(0.5, 0)).to.equal(0);
  });

  it('without groups, rows count as independent trials, and the bound holds for a new sample as large', () => {
    const right = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 0 : 1));
    // The new sample's share varies as much as the measured one: the difference, with twice the variance.
    expect(accuracyLowerBound(right)).to.equal(wilsonLowerBound(0.9, 500));
    expect(0.9 - accuracyLowerBound(right)).to.be.closeTo(Math.SQRT2 * (0.9 - wilsonLowerBound(0.9, 1000)), 0.002);
  });

  it('with groups, the spread between groups lowers the bound', () => {
    // Two groups at 100%, two at 80%: 90% overall, but a new set of people may well be worse.
    const groups = Array.from({ length: 1000 }, (_, i) => i % 4);
    const spread = groups.map((g, i) => (g < 2 || i % 5 !== 0 ? 1 : 0));
    const even = groups.map((_, i) => (Math.floor(i / 4) % 10 === 0 ? 0 : 1)); // 90% in every group
    expect(accuracyLowerBound(spread, groups)).to.be.below(0.8);
    expect(accuracyLowerBound(even, groups)).to.be.closeTo(wilsonLowerBound(0.9, 500), 0.02);
  });

  it('with groups, the bound holds for one new group: the spread counts in full', () => {
    // Groups at 95% and 85%, alternating: s = 0.0535 over 4 groups, t(3) = 2.19.
    const groups = Array.from({ length: 4000 }, (_, i) => i % 4);
    const right = groups.map((g, i) => (Math.floor(i / 4) % 20 < (g % 2 === 0 ? 19 : 17) ? 1 : 0));
    const s = Math.sqrt((4 * 0.05 ** 2) / 3);
    const t = 1.645 + (1.645 ** 3 + 1.645) / 12;
    expect(accuracyLowerBound(right, groups)).to.be.closeTo(0.9 - t * s * Math.sqrt(1 + 1 / 4), 1e-9);
  });
});
