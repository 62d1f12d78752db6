import { expect } from 'chai';
import { selectModel, type Candidate, type PolicyDefaults } from '../../src/select/policy.js';

// A zoo of three: cheap and often wrong, middle, dear and usually right.
const candidates: Candidate[] = [
  { model: 'big', pCorrect: 0.95, latencyMs: 0.6 },
  { model: 'tiny', pCorrect: 0.7, latencyMs: 0.02 },
  { model: 'mid', pCorrect: 0.9, latencyMs: 0.1 },
];
const thresholdFor = (a: number) => a; // calibration stand-in: p threshold = target
const defaults: PolicyDefaults = { minAccuracy: 0.93, maxLatencyMs: Infinity };

describe('select/policy', () => {
  it('minAccuracy: the cheapest model that reaches the calibrated threshold', () => {
    const s = selectModel(candidates, { minAccuracy: 0.85 }, thresholdFor, defaults);
    expect(s).to.deep.include({ model: 'mid', constraintMet: true, predictedAccuracy: 0.9, predictedLatencyMs: 0.1, threshold: 0.85 });
    expect(s.reason).to.contain('cheapest model').and.contain('mid');
    expect(selectModel(candidates, { minAccuracy: 0.5 }, thresholdFor, defaults).model).to.equal('tiny');
  });

  it('minAccuracy nobody reaches: the most likely right, still met (calibration counted on it)', () => {
    const s = selectModel(candidates, { minAccuracy: 0.99 }, thresholdFor, defaults);
    expect(s).to.deep.include({ model: 'big', constraintMet: true });
    expect(s.reason).to.contain('no model reaches');
  });

  it('maxLatencyMs: the most likely right among the models that fit', () => {
    expect(selectModel(candidates, { maxLatencyMs: 0.5 }, thresholdFor, defaults)).to.deep.include({ model: 'mid', constraintMet: true });
    expect(selectModel(candidates, { maxLatencyMs: 1 }, thresholdFor, defaults).model).to.equal('big');
  });

  it('maxLatencyMs that nothing fits: the fastest, constraint not met', () => {
    const s = selectModel(candidates, { maxLatencyMs: 0.01 }, thresholdFor, defaults);
    expect(s).to.deep.include({ model: 'tiny', constraintMet: false });
    expect(s.reason).to.contain('no model fits 0.010 ms');
  });

  it('both: the accuracy rule inside the budget; not met when the budget excludes the models that would do', () => {
    expect(selectModel(candidates, { minAccuracy: 0.8, maxLatencyMs: 0.5 }, thresholdFor, defaults)).to.deep.include({ model: 'mid', constraintMet: true });
    const s = selectModel(candidates, { minAccuracy: 0.93, maxLatencyMs: 0.5 }, thresholdFor, defaults);
    expect(s).to.deep.include({ model: 'mid', constraintMet: false });
    expect(s.reason).to.contain('serving the most likely right that fits');
  });

  it('neither: the default target (the best single model accuracy by default)', () => {
    expect(selectModel(candidates, {}, thresholdFor, defaults)).to.deep.include({ model: 'big', threshold: 0.93 });
    expect(selectModel(candidates, {}, thresholdFor, { ...defaults, minAccuracy: 0.6 }).model).to.equal('tiny');
  });

  it('a default latency budget applies when the request gives none', () => {
    expect(selectModel(candidates, { minAccuracy: 0.93 }, thresholdFor, { ...defaults, maxLatencyMs: 0.2 })).to.deep.include({ model: 'mid', constraintMet: false });
  });

  it('a forced model is served; constraintMet says whether it meets the rest', () => {
    expect(selectModel(candidates, { model: 'tiny' }, thresholdFor, defaults)).to.deep.include({ model: 'tiny', constraintMet: false });
    expect(selectModel(candidates, { model: 'tiny', maxLatencyMs: 1 }, thresholdFor, defaults)).to.deep.include({ model: 'tiny', constraintMet: true });
    expect(selectModel(candidates, { model: 'big', maxLatencyMs: 0.1 }, thresholdFor, defaults).constraintMet).to.equal(false);
  });

  it('ties in pCorrect go to the faster model', () => {
    const tied = [
      { model: 'slow', pCorrect: 0.9, latencyMs: 1 },
      { model: 'fast', pCorrect: 0.9, latencyMs: 0.1 },
    ];
    expect(selectModel(tied, { maxLatencyMs: 5 }, thresholdFor, defaults).model).to.equal('fast');
  });
});
