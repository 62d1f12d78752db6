import { expect } from 'chai';
import { ladderRungs, paretoRungs, type RungInfo } from '../../src/pipeline/rungs.js';

const rung = (id: string, latencyMs: number, accuracy: number, groupAccuracy?: Record<string, number>, reuses?: string): RungInfo => ({
  id,
  latencyMs,
  accuracy,
  ...(groupAccuracy === undefined ? {} : { groupAccuracy }),
  ...(reuses === undefined ? {} : { reuses: { rung: reuses, ms: latencyMs / 2 } }),
});

describe('pipeline/rungs', () => {
  it('paretoRungs: the rungs no other beats in both cost and accuracy', () => {
    const rungs = [rung('a', 0.1, 0.8), rung('b', 0.2, 0.9), rung('c', 0.3, 0.85), rung('d', 0.4, 0.95)];
    expect(paretoRungs(rungs).map((r) => r.id)).to.deep.equal(['a', 'b', 'd']);
  });

  it("ladderRungs: each group's front too, so a model best on one group alone can be served to it, with its augmentations", () => {
    const rungs = [
      rung('cheap', 0.1, 0.8, { clean: 0.85, thumbnail: 0.6 }),
      rung('small', 0.2, 0.9, { clean: 0.95, thumbnail: 0.7 }),
      // Off the pooled front (small is cheaper and better), on the thumbnails' front.
      rung('lowres', 0.3, 0.88, { clean: 0.9, thumbnail: 0.85 }),
      rung('lowres+mirror', 0.6, 0.89, { clean: 0.9, thumbnail: 0.86 }, 'lowres'),
      rung('mid', 0.5, 0.85, { clean: 0.9, thumbnail: 0.7 }),
    ];
    expect(ladderRungs(rungs).map((r) => r.id)).to.deep.equal(['cheap', 'small', 'lowres', 'lowres+mirror']);
    // Without groups, the pooled front and its augmentations only.
    expect(ladderRungs(rungs.map(({ groupAccuracy: _, ...r }) => r)).map((r) => r.id)).to.deep.equal(['cheap', 'small']);
  });
});
