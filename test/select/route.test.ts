import { expect } from 'chai';
import type { Candidate, PolicyDefaults } from '../../src/select/policy.js';
import { consultsPremodel, type OperatingPoint } from '../../src/premodel/operating-point.js';
import { routeConsultsPremodel, routeWith, type EstimateFor } from '../../src/select/route.js';

const all: Candidate[] = [
  { model: 'tiny', pCorrect: 0.8, latencyMs: 0.02 },
  { model: 'mid', pCorrect: 0.85, latencyMs: 0.1 },
  { model: 'big', pCorrect: 0.97, latencyMs: 0.6 },
];
const models = all.map((c) => c.model);
const defaults: PolicyDefaults = { minAccuracy: 0.9, maxLatencyMs: Infinity };

/** Estimates from the table above, recording which models the route asked for. */
function estimates(): EstimateFor & { asked: string[] } {
  const asked: string[] = [];
  const estimateFor = (ids: readonly string[]) => {
    asked.push(...ids);
    return all.filter((c) => ids.includes(c.model));
  };
  return Object.assign(estimateFor, { asked });
}
const point = (threshold: number, ladder = models, accuracy = 0.99) => (): OperatingPoint => ({ models: ladder, thresholds: ladder.map(() => threshold), verifier: 'premodel', start: 'premodel', accuracy });

describe('select/route', () => {
  it('stops at the started model when stage two confirms it', () => {
    const r = routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.75), defaults, () => 0.9);
    // predictedAccuracy: what the served point is vouched for, not the verifier's hunch on this input.
    expect(r).to.deep.include({ model: 'tiny', ran: ['tiny'], predictedAccuracy: 0.99, predictedLatencyMs: 0.02, constraintMet: true });
  });

  it('escalates to the most promising model left when stage two doubts the answer', () => {
    const confirm = (m: string) => (m === 'tiny' ? 0.3 : 0.95);
    const r = routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.75), defaults, confirm);
    // mid (p1 0.85 >= 0.75) is the cheapest left that reaches the threshold.
    expect(r.ran).to.deep.equal(['tiny', 'mid']);
    expect(r.predictedLatencyMs).to.be.closeTo(0.12, 1e-12);
    expect(r.reason).to.contain('tiny was unsure (p=0.300 < 0.750): escalated to mid');
  });

  it('holds each rung to its own threshold: a strict cheap rung escalates, a laxer middle one stops', () => {
    const perRung = (): OperatingPoint => ({ models, thresholds: [0.8, 0.5, 0.5], verifier: 'premodel', start: 'premodel', accuracy: 0.99 });
    const r = routeWith(models, estimates(), { minAccuracy: 0.9 }, perRung, defaults, () => 0.6);
    expect(r.ran).to.deep.equal(['tiny', 'mid']);
    expect(r).to.deep.include({ model: 'mid', threshold: 0.5, predictedAccuracy: 0.99 });
    expect(r.reason).to.contain('tiny was unsure (p=0.600 < 0.800): escalated to mid');
    // The same answers under one threshold for every rung climb to the top.
    expect(routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.8), defaults, () => 0.6).ran).to.deep.equal(['tiny', 'mid', 'big']);
  });

  it('asks each answer of the verifier the point names', () => {
    const verdicts: string[] = [];
    const confirm = (m: string, verifier: string) => {
      verdicts.push(`${m}:${verifier}`);
      return verifier === 'confidence' ? 0.95 : 0.1;
    };
    const byConfidence = (): OperatingPoint => ({ ...point(0.8)(), verifier: 'confidence' });
    expect(routeWith(models, estimates(), { minAccuracy: 0.9 }, byConfidence, defaults, confirm).ran).to.deep.equal(['tiny']);
    expect(routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.8), defaults, confirm).ran).to.deep.equal(['tiny', 'mid', 'big']);
    expect(verdicts).to.deep.equal(['tiny:confidence', 'tiny:premodel', 'mid:premodel', 'big:premodel']);
  });

  it('starts at the cheapest rung that fits when the point says so, whatever stage one expects', () => {
    // Stage one would start at mid (tiny's 0.8 is under 0.85); from the cheapest, tiny runs first.
    const fromCheapest = (): OperatingPoint => ({ ...point(0.85)(), start: 'cheapest' });
    expect(routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.85), defaults, () => 0.9).ran).to.deep.equal(['mid']);
    const r = routeWith(models, estimates(), { minAccuracy: 0.9 }, fromCheapest, defaults, (m) => (m === 'tiny' ? 0.5 : 0.9));
    expect(r.ran).to.deep.equal(['tiny', 'mid']);
    expect(r.reason).to.contain('started at the cheapest rung of the ladder that fits: tiny');
  });

  it('consults the premodel unless the point is a cascade trusting the models\' own confidence', () => {
    const cascade = (): OperatingPoint => ({ ...point(0.85)(), start: 'cheapest', verifier: 'confidence' });
    expect(consultsPremodel(cascade())).to.equal(false);
    expect(consultsPremodel({ start: 'cheapest', verifier: 'premodel' })).to.equal(true);
    expect(consultsPremodel({ start: 'premodel', verifier: 'confidence' })).to.equal(true);
    expect(routeConsultsPremodel({ minAccuracy: 0.9 }, cascade, defaults)).to.equal(false);
    expect(routeConsultsPremodel({}, cascade, defaults)).to.equal(false); // the default target's point
    expect(routeConsultsPremodel({ minAccuracy: 0.9 }, point(0.85), defaults)).to.equal(true);
    // A forced model and a plain budget are weighed by stage one's estimates.
    expect(routeConsultsPremodel({ model: 'mid' }, cascade, defaults)).to.equal(true);
    expect(routeConsultsPremodel({ maxLatencyMs: 1 }, cascade, defaults)).to.equal(true);
  });

  it('routes a cascade without a single stage-one estimate', () => {
    const cascade = (): OperatingPoint => ({ ...point(0.85)(), start: 'cheapest', verifier: 'confidence' });
    const blind: EstimateFor = (ids) => all.filter((c) => ids.includes(c.model)).map((c) => ({ ...c, pCorrect: 0 }));
    const r = routeWith(models, blind, { minAccuracy: 0.9 }, cascade, defaults, (m) => (m === 'big' ? 0.99 : 0.5));
    expect(r).to.deep.include({ model: 'big', ran: ['tiny', 'mid', 'big'], constraintMet: true, predictedAccuracy: 0.99 });
  });

  it('a cascade under a budget no model fits serves the fastest of the zoo, constraint not met', () => {
    const cascade = (): OperatingPoint => ({ ...point(0.85, ['mid', 'big'])(), start: 'cheapest', verifier: 'confidence' });
    const r = routeWith(models, estimates(), { minAccuracy: 0.9, maxLatencyMs: 0.01 }, cascade, defaults, () => 0.1);
    expect(r).to.deep.include({ model: 'tiny', ran: ['tiny'], constraintMet: false });
    expect(r.reason).to.contain('no model fits 0.010 ms; serving the fastest, tiny');
    // A budget that the zoo's fastest fits, but no rung of the ladder: it starts there.
    const fits = routeWith(models, estimates(), { minAccuracy: 0.9, maxLatencyMs: 0.05 }, cascade, defaults, () => 0.99);
    expect(fits).to.deep.include({ model: 'tiny', constraintMet: true });
  });

  it('runs only the rungs of the operating point, and estimates only those', () => {
    const estimateFor = estimates();
    const r = routeWith(models, estimateFor, { minAccuracy: 0.9 }, point(0.75, ['tiny', 'big']), defaults, () => 0.1);
    expect(r.ran).to.deep.equal(['tiny', 'big']);
    expect(estimateFor.asked).to.deep.equal(['tiny', 'big']);
    expect(r.candidates.map((c) => c.model)).to.deep.equal(['tiny', 'big']);
  });

  it('falls back to the whole zoo when the budget leaves no rung of the ladder', () => {
    const r = routeWith(models, estimates(), { minAccuracy: 0.9, maxLatencyMs: 0.2 }, point(0.9, ['big']), defaults, () => 0.1);
    expect(r.ran).to.deep.equal(['mid']); // the most likely right that fits; nothing dearer fits what is left
  });

  it('escalates only within the latency budget left', () => {
    const r = routeWith(models, estimates(), { minAccuracy: 0.9, maxLatencyMs: 0.5 }, point(0.9), defaults, () => 0.1);
    expect(r.ran).to.not.include('big');
    expect(r.predictedLatencyMs).to.be.at.most(0.5);
  });

  it('escalates only to dearer models, and stops at the dearest', () => {
    // No model reaches 0.99 on features alone: the most likely right (big) starts, and nothing is dearer.
    const r = routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.99), defaults, (m) => (m === 'big' ? 0.98 : 0.5));
    expect(r.ran).to.deep.equal(['big']);
    const fromMid = routeWith(models, estimates(), { minAccuracy: 0.9 }, point(0.85), defaults, () => 0.1);
    expect(fromMid.ran).to.deep.equal(['mid', 'big']);
  });

  it('says so when calibration vouches for less than the target', () => {
    const r = routeWith(models, estimates(), { minAccuracy: 0.98 }, point(0.9, models, 0.95), defaults, () => 0.99);
    expect(r.constraintMet).to.equal(false);
    expect(r.reason).to.match(/^no calibrated ladder is vouched for 98\.00%: serving the most accurate configuration calibration knows, .*, vouched for 95\.00%/);
  });

  it('runs a forced model, or a latency-only request, once, estimating what it needs', () => {
    const forced = estimates();
    expect(routeWith(models, forced, { model: 'mid' }, point(0.75), defaults, () => 0).ran).to.deep.equal(['mid']);
    expect(forced.asked).to.deep.equal(['mid']);
    expect(routeWith(models, estimates(), { maxLatencyMs: 0.2 }, point(0.75), defaults, () => 0).ran).to.deep.equal(['mid']);
  });

  it('a forced model meets an accuracy target only where calibration vouches for it alone', () => {
    const alone = (m: string) => (m === 'big' ? 0.96 : 0.8);
    const vouched = routeWith(models, estimates(), { model: 'big', minAccuracy: 0.95 }, point(0.75), defaults, () => 0.1, alone);
    expect(vouched).to.deep.include({ model: 'big', constraintMet: true, predictedAccuracy: 0.96 });
    const not = routeWith(models, estimates(), { model: 'tiny', minAccuracy: 0.95 }, point(0.75), defaults, () => 0.99, alone);
    expect(not).to.deep.include({ model: 'tiny', constraintMet: false, predictedAccuracy: 0.8 });
    expect(not.reason).to.contain('alone it is vouched for 80.00%, below the 95.00% asked');
  });

  it('charges a rung that reuses the run of one already run only the rest of its cost', () => {
    const withMirror: Candidate[] = [...all, { model: 'mid+m', pCorrect: 0.9, latencyMs: 0.2, runMs: 0.2, reuses: { rung: 'mid', ms: 0.1 } }];
    const ladder = ['tiny', 'mid', 'mid+m'];
    const estimateFor = (ids: readonly string[]) => withMirror.filter((c) => ids.includes(c.model));
    const cascade = (): OperatingPoint => ({ models: ladder, thresholds: [0.9, 0.9, 0.9], verifier: 'confidence', start: 'cheapest', accuracy: 0.99 });
    const r = routeWith([...models, 'mid+m'], estimateFor, { minAccuracy: 0.9 }, cascade, defaults, () => 0.5);
    expect(r.ran).to.deep.equal(['tiny', 'mid', 'mid+m']);
    // tiny 0.02, mid 0.1, and the mirror pass of mid 0.1 (its plain pass is reused).
    expect(r.predictedLatencyMs).to.be.closeTo(0.22, 1e-12);
  });
});

describe('select/route under load', () => {
  it('counts the wait once when it climbs: each rung adds only its own run', () => {
    // Every latency includes 4 ms of waiting; the runs themselves are 0.1 and 0.5 ms.
    const loaded: Candidate[] = [
      { model: 'small', pCorrect: 0.9, latencyMs: 4.1, runMs: 0.1 },
      { model: 'large', pCorrect: 0.95, latencyMs: 4.5, runMs: 0.5 },
    ];
    const estimateFor = (ids: readonly string[]) => loaded.filter((c) => ids.includes(c.model));
    const op = () => ({ models: ['small', 'large'], thresholds: [0.8, 0.8], verifier: 'premodel' as const, start: 'premodel' as const, accuracy: 0.99 });
    const r = routeWith(['small', 'large'], estimateFor, { minAccuracy: 0.9, maxLatencyMs: 5 }, op, defaults, () => 0.1);
    expect(r.ran).to.deep.equal(['small', 'large']);
    expect(r.predictedLatencyMs).to.be.closeTo(4.6, 1e-12);
    expect(r.constraintMet).to.equal(true);
  });
});
