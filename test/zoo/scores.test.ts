import { expect } from 'chai';
import { softmaxRows, topTwo } from '../../src/zoo/scores.js';

describe('zoo/scores', () => {
  it('softmax turns logits into probabilities per row', () => {
    const p = softmaxRows(new Float32Array([0, 0, 1000, 1, 2, 3]), 3);
    expect([...p.slice(0, 3)]).to.deep.equal([0, 0, 1]);
    expect(p[3]! + p[4]! + p[5]!).to.be.closeTo(1, 1e-6);
    expect(p[5]).to.be.greaterThan(p[4]!);
  });

  it('topTwo: the top class, its probability and its margin over the runner-up', () => {
    expect(topTwo([0.1, 0.6, 0.3])).to.deep.include({ index: 1, confidence: 0.6 });
    expect(topTwo([0.1, 0.6, 0.3]).margin).to.be.closeTo(0.3, 1e-12);
    expect(topTwo([0.7, 0.2, 0.1]).margin).to.be.closeTo(0.5, 1e-12);
    expect(topTwo([1])).to.deep.equal({ index: 0, confidence: 1, margin: 1 });
  });
});
