import { expect } from 'chai';
import { seededRandom } from '../../src/premodel/forest.js';
import { driftReference } from '../../src/pipeline/drift-reference.js';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** 1..n in a seeded shuffled order: its deciles are known exactly. */
function shuffledRange(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const values = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

describe('pipeline/drift-reference', () => {
  it('bins each feature at its deciles, a tenth of the rows in each bin', () => {
    const values = shuffledRange(1000, 1);
    const reference = driftReference(values.map((v) => [v, -v]), undefined, {});
    expect(reference.features[0]!.edges).to.deep.equal([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // The smallest value with a tenth, two tenths... of the rows at or below it.
    expect(reference.features[1]!.edges).to.deep.equal([-901, -801, -701, -601, -501, -401, -301, -201, -101]);
    for (const feature of reference.features) {
      expect(feature.shares).to.deep.equal(Array(10).fill(0.1));
      expect(feature).not.to.have.property('groups');
    }
  });

  it('keeps shares that sum to 1, edges to 6 significant digits and shares to 4 decimals', () => {
    const random = seededRandom(2);
    const rows = Array.from({ length: 777 }, () => [random() * Math.PI, random() ** 3]);
    const reference = driftReference(rows, undefined, {});
    for (const feature of reference.features) {
      expect(sum(feature.shares)).to.be.closeTo(1, 1e-3);
      for (const edge of feature.edges) expect(Number(edge.toPrecision(6))).to.equal(edge);
      for (const share of feature.shares) expect(Math.round(share * 1e4) / 1e4).to.equal(share);
    }
  });

  it('gives per-group shares on the overall edges; rows without a group fall under ""', () => {
    const values = shuffledRange(1000, 3);
    const groups = values.map((v) => (v <= 500 ? 'low' : v <= 900 ? 'high' : undefined));
    const reference = driftReference(values.map((v) => [v]), groups, {});
    const feature = reference.features[0]!;
    expect(feature.edges).to.deep.equal([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(feature.groups).to.deep.equal({
      low: [0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 0, 0],
      high: [0, 0, 0, 0, 0, 0.25, 0.25, 0.25, 0.25, 0],
      '': [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    });
  });

  it('drops repeated edges and one at the maximum, so that no bin of a discrete feature is empty', () => {
    // 70% zeros, 30% ones; a constant; three values with 50%, 45%, 5%.
    const rows = Array.from({ length: 100 }, (_, i) => [i < 70 ? 0 : 1, 4, i < 50 ? 1 : i < 95 ? 2 : 3]);
    const [binary, constant, three] = driftReference(rows, undefined, {}).features;
    expect(binary).to.deep.equal({ edges: [0], shares: [0.7, 0.3] });
    expect(constant).to.deep.equal({ edges: [], shares: [1] });
    expect(three).to.deep.equal({ edges: [1, 2], shares: [0.5, 0.45, 0.05] });
  });

  it('bins each model\'s confidence at its own deciles, per group', () => {
    const values = shuffledRange(1000, 4).map((v) => v / 1000);
    const groups = values.map((v) => (v <= 0.5 ? 'a' : 'b'));
    const reference = driftReference(values.map(() => [0]), groups, { small: values, large: values.map((v) => 0.9 + v / 10) });
    expect(Object.keys(reference.confidence)).to.deep.equal(['small', 'large']);
    expect(reference.confidence.small!.edges).to.deep.equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    reference.confidence.large!.edges.forEach((edge, k) => expect(edge).to.be.closeTo(0.91 + k / 100, 1e-9));
    expect(reference.confidence.small!.groups!.a).to.deep.equal([0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 0, 0]);
  });

  it('refuses rows that do not line up', () => {
    expect(() => driftReference([], undefined, {})).to.throw(/at least one row/);
    expect(() => driftReference([[1], [2]], ['a'], {})).to.throw(/1 groups for 2 rows/);
    expect(() => driftReference([[1], [2]], undefined, { small: [0.5] })).to.throw(/"small" has 1 confidences for 2 rows/);
  });
});
