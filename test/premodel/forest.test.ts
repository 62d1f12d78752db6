import { expect } from 'chai';
import { PackedForest, seededRandom, trainForest, type CompiledForest, type ForestOptions } from '../../src/premodel/forest.js';

const predictForest = (forest: CompiledForest, row: number[]) => new PackedForest(forest).predict(row);

const options: ForestOptions = { trees: 8, rowsPerTree: 200, maxFeatures: 1, maxDepth: 4, minLeafRows: 5, seed: 3 };

function dataset(n: number, seed: number) {
  const random = seededRandom(seed);
  const rows = Array.from({ length: n }, () => [random(), random(), random()]);
  // Right when feature 1 is high, whatever the others, with 10% of the targets flipped (real
  // outcomes are noisy; ml-cart also stops at a node whose best split is already pure).
  const targets = rows.map((r) => ((r[1]! > 0.6) !== random() < 0.1 ? 1 : 0));
  return { rows, targets };
}

describe('premodel/forest', () => {
  it('learns a threshold rule and estimates probabilities in [0, 1]', () => {
    const { rows, targets } = dataset(600, 1);
    const forest = trainForest(rows, targets, options);
    expect(forest.features).to.equal(3);
    expect(forest.trees).to.have.length(8);
    expect(predictForest(forest, [0.5, 0.95, 0.5])).to.be.closeTo(0.9, 0.1);
    expect(predictForest(forest, [0.5, 0.1, 0.5])).to.be.closeTo(0.1, 0.1);
    const test = dataset(1000, 2);
    const wrong = test.rows.filter((r, i) => Math.round(predictForest(forest, r)) !== test.targets[i]).length;
    expect(wrong / 1000).to.be.closeTo(0.1, 0.04); // the noise floor

  });

  it('is reproducible from its seed', () => {
    const { rows, targets } = dataset(300, 4);
    expect(trainForest(rows, targets, options)).to.deep.equal(trainForest(rows, targets, options));
    expect(trainForest(rows, targets, { ...options, seed: 9 })).to.not.deep.equal(trainForest(rows, targets, options));
  });

  it('gives a constant estimate when every target is the same', () => {
    const { rows } = dataset(100, 5);
    const forest = trainForest(rows, rows.map(() => 1), { ...options, trees: 2 });
    expect(predictForest(forest, [0.3, 0.3, 0.3])).to.equal(1);
  });

  it('refuses mismatched rows and targets', () => {
    expect(() => trainForest([[1], [2]], [1], options)).to.throw(RangeError, /2 rows, 1 targets/);
  });
});
