import { expect } from 'chai';
import type { Candidate, PolicyDefaults } from '../../src/select/policy.js';
import { routeWith } from '../../src/select/route.js';

const candidates: Candidate[] = [
  { model: 'tiny', pCorrect: 0.8, latencyMs: 0.02 },
  { model: 'mid', pCorrect: 0.85, latencyMs: 0.1 },
  { model: 'big', pCorrect: 0.97, latencyMs: 0.6 },
];
const defaults: PolicyDefaults = { minAccuracy: 0.9, maxLatencyMs: Infinity };
const threshold = () => 0.75;

describe('select/route', () => {
  it('stops at the started model when stage two confirms it', () => {
    const r = routeWith(candidates, { minAccuracy: 0.9 }, threshold, defaults, () => 0.9);
    expect(r).to.deep.include({ model: 'tiny', ran: ['tiny'], predictedAccuracy: 0.9, predictedLatencyMs: 0.02, constraintMet: true });
  });

  it('escalates to the most promising model left when stage two doubts the answer', () => {
    const confirm = (m: string) => (m === 'tiny' ? 0.3 : 0.95);
    const r = routeWith(candidates, { minAccuracy: 0.9 }, threshold, defaults, confirm);
    // mid (p1 0.85 >= 0.75) is the cheapest left that reaches the threshold.
    expect(r.ran).to.deep.equal(['tiny', 'mid']);
    expect(r.predictedLatencyMs).to.be.closeTo(0.12, 1e-12);
    expect(r.reason).to.contain('tiny was unsure (p=0.300 < 0.750): escalated to mid');
  });

  it('escalates only within the latency budget left', () => {
    const r = routeWith(candidates, { minAccuracy: 0.9, maxLatencyMs: 0.5 }, () => 0.9, defaults, () => 0.1);
    expect(r.ran).to.not.include('big');
    expect(r.predictedLatencyMs).to.be.at.most(0.5);
  });

  it('escalates only to dearer models, and stops at the dearest', () => {
    // No model reaches 0.99 on features alone: the most likely right (big) starts, and nothing is dearer.
    const r = routeWith(candidates, { minAccuracy: 0.9 }, () => 0.99, defaults, (m) => (m === 'big' ? 0.98 : 0.5));
    expect(r.ran).to.deep.equal(['big']);
    const fromMid = routeWith(candidates, { minAccuracy: 0.9 }, () => 0.85, defaults, () => 0.1);
    expect(fromMid.ran).to.deep.equal(['mid', 'big']);
  });

  it('runs a forced model, or a latency-only request, once', () => {
    expect(routeWith(candidates, { model: 'mid' }, threshold, defaults, () => 0).ran).to.deep.equal(['mid']);
    expect(routeWith(candidates, { maxLatencyMs: 0.2 }, threshold, defaults, () => 0).ran).to.deep.equal(['mid']);
  });
});
