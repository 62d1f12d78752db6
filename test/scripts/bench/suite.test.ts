import { expect } from 'chai';
import { referenceModels, summarise } from '../../../scripts/bench/suite.js';
import type { TaskDescription } from '../../../src/serve/dataplane.js';

describe('bench/suite', () => {
  it('summarises a sample: mean, p50 and p99', () => {
    const s = summarise(Array.from({ length: 101 }, (_, i) => 100 - i));
    expect(s).to.deep.equal({ n: 101, mean: 50, p50: 50, p99: 99 });
  });

  it('pits the premodel against the most accurate model on the test split (the faster on a tie) and the fastest', () => {
    const model = (id: string, test: number | null, p50: number) => ({
      id,
      method: 'none',
      parent: null,
      routed: true,
      accuracy: test === null ? null : { premodel: 1 - test, test },
      latencyMs: { p50, p95: p50 },
      bytes: 1,
      parameters: 1,
      macs: 1,
    });
    const task: TaskDescription = {
      task: 't',
      kind: 'window',
      input: { kind: 'window' },
      classes: ['a'],
      defaultMinAccuracy: 0.9,
      models: [model('big', 0.95, 1), model('twin', 0.95, 0.5), model('tiny', 0.8, 0.01), model('unprofiled', null, 0.001)],
      heads: [],
    };
    expect(referenceModels(task)).to.deep.equal({ mostAccurate: 'twin', cheapest: 'tiny' });
  });
});
