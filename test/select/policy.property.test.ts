/**
 * Invariants of the selection policy and of two-stage routing over generated zoos, estimates,
 * operating points and constraints (fast-check): what the examples in policy.test.ts and
 * route.test.ts show for three models, here for any.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { selectModel, type Candidate, type Constraint, type PolicyDefaults, type ThresholdFor } from '../../src/select/policy.js';
import { thresholdAt, type OperatingPoint } from '../../src/premodel/operating-point.js';
import { routeWith } from '../../src/select/route.js';

const probability = fc.double({ min: 0, max: 1, noNaN: true });
const latency = fc.double({ min: 0.001, max: 10, noNaN: true });

/** One to eight candidates, m0, m1, ..., with any estimates and latencies (ties included). */
const candidates = fc
  .array(fc.record({ pCorrect: probability, latencyMs: latency }), { minLength: 1, maxLength: 8 })
  .map((list): Candidate[] => list.map((c, i) => ({ model: `m${i}`, ...c })));

/** Candidates whose estimates and latencies are all distinct: the policy's choice is then unique. */
const distinctCandidates = fc
  .integer({ min: 1, max: 8 })
  .chain((n) =>
    fc.tuple(fc.uniqueArray(probability, { minLength: n, maxLength: n }), fc.uniqueArray(latency, { minLength: n, maxLength: n })),
  )
  .map(([ps, ls]): Candidate[] => ps.map((pCorrect, i) => ({ model: `m${i}`, pCorrect, latencyMs: ls[i]! })));

const constraint: fc.Arbitrary<Constraint> = fc.record(
  { minAccuracy: probability, maxLatencyMs: fc.double({ min: 0.001, max: 12, noNaN: true }) },
  { requiredKeys: [] },
);

const defaults: fc.Arbitrary<PolicyDefaults> = fc.record({
  minAccuracy: probability,
  maxLatencyMs: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.double({ min: 0.001, max: 12, noNaN: true })),
});

/** Calibration stand-ins: increasing maps from an accuracy target to a threshold on pCorrect, the same for every model or one per model (as the rungs of a ladder have). */
const thresholdFor: fc.Arbitrary<ThresholdFor> = fc.constantFrom<ThresholdFor>(
  (a) => a,
  (a) => a * a,
  (a) => Math.min(1, a + 0.05),
  (a, model) => Math.min(1, a - 0.1 + 0.05 * (model.charCodeAt(model.length - 1) % 4)),
);

/** What the policy works from: the target (own, or the default when unconstrained) and the budget. */
function goals(c: Constraint, d: PolicyDefaults): { target: number | undefined; budget: number } {
  const unconstrained = c.minAccuracy === undefined && c.maxLatencyMs === undefined;
  return { target: c.minAccuracy ?? (unconstrained ? d.minAccuracy : undefined), budget: c.maxLatencyMs ?? d.maxLatencyMs };
}

const fastest = (list: readonly Candidate[]) => Math.min(...list.map((c) => c.latencyMs));
const mostLikelyRight = (list: readonly Candidate[]) => Math.max(...list.map((c) => c.pCorrect));

describe('select/policy properties', () => {
  it('answers with one of the candidates, reporting its own estimate and latency, and nothing else changes', () => {
    fc.assert(
      fc.property(candidates, constraint, thresholdFor, defaults, (cs, c, t, d) => {
        const before = structuredClone(cs);
        const s = selectModel(cs, c, t, d);
        const chosen = cs.find((x) => x.model === s.model);
        expect(chosen).to.not.equal(undefined);
        expect(s.predictedAccuracy).to.equal(chosen!.pCorrect);
        expect(s.predictedLatencyMs).to.equal(chosen!.latencyMs);
        expect(s.reason).to.be.a('string').that.is.not.empty;
        expect(cs).to.deep.equal(before);
      }),
    );
  });

  it('is deterministic, and does not depend on the order of the candidates when nothing ties', () => {
    fc.assert(
      fc.property(distinctCandidates, constraint, thresholdFor, defaults, (cs, c, t, d) => {
        const s = selectModel(cs, c, t, d);
        expect(selectModel(cs, c, t, d)).to.deep.equal(s);
        expect(selectModel([...cs].reverse(), c, t, d).model).to.equal(s.model);
      }),
    );
  });

  it('keeps the latency budget whenever some model fits it; otherwise serves the fastest, constraint not met', () => {
    fc.assert(
      fc.property(candidates, constraint, thresholdFor, defaults, (cs, c, t, d) => {
        const { budget } = goals(c, d);
        const s = selectModel(cs, c, t, d);
        if (cs.some((x) => x.latencyMs <= budget)) {
          expect(s.predictedLatencyMs).to.be.at.most(budget);
        } else {
          expect(s.predictedLatencyMs).to.equal(fastest(cs));
          expect(s.constraintMet).to.equal(false);
        }
      }),
    );
  });

  it('with a latency budget alone, serves the model most likely right among those that fit', () => {
    fc.assert(
      fc.property(candidates, fc.double({ min: 0.001, max: 12, noNaN: true }), thresholdFor, defaults, (cs, maxLatencyMs, t, d) => {
        const fitting = cs.filter((x) => x.latencyMs <= maxLatencyMs);
        fc.pre(fitting.length > 0);
        const s = selectModel(cs, { maxLatencyMs }, t, d);
        expect(s.predictedAccuracy).to.equal(mostLikelyRight(fitting));
        expect(s.constraintMet).to.equal(true);
        expect(s.threshold).to.equal(undefined);
      }),
    );
  });

  it('with an accuracy target, serves the cheapest model at or above its threshold, else the most likely right', () => {
    fc.assert(
      fc.property(candidates, constraint, thresholdFor, defaults, (cs, c, t, d) => {
        const { target, budget } = goals(c, d);
        const fitting = cs.filter((x) => x.latencyMs <= budget);
        fc.pre(target !== undefined && fitting.length > 0);
        const reaches = (x: Candidate) => x.pCorrect >= t(target!, x.model);
        const s = selectModel(cs, c, t, d);
        expect(s.threshold).to.equal(t(target!, s.model));
        const confident = fitting.filter(reaches);
        if (confident.length > 0) {
          expect(s.predictedAccuracy).to.be.at.least(s.threshold!);
          expect(s.predictedLatencyMs).to.equal(fastest(confident));
          expect(s.constraintMet).to.equal(true);
        } else {
          expect(s.predictedAccuracy).to.equal(mostLikelyRight(fitting));
          // Not met only when the budget kept out a model that would have reached its threshold.
          expect(s.constraintMet).to.equal(!cs.some((x) => x.latencyMs > budget && reaches(x)));
        }
      }),
    );
  });

  it('serves a forced model whatever the rest asks, and says whether it meets the rest', () => {
    fc.assert(
      fc.property(
        candidates.chain((cs) => fc.tuple(fc.constant(cs), fc.constantFrom(...cs.map((x) => x.model)))),
        constraint,
        thresholdFor,
        defaults,
        ([cs, model], c, t, d) => {
          const s = selectModel(cs, { ...c, model }, t, d);
          const forced = cs.find((x) => x.model === model)!;
          const { target, budget } = goals(c, d);
          expect(s.model).to.equal(model);
          expect(s.constraintMet).to.equal(forced.latencyMs <= budget && (target === undefined || forced.pCorrect >= t(target, model)));
        },
      ),
    );
  });
});

/** A zoo, an operating point on it (a ladder of its models) and stage two's verdict on each model. */
const routing = candidates.chain((cs) =>
  fc.record({
    candidates: fc.constant(cs),
    point: fc.subarray(cs.map((c) => c.model), { minLength: 1 }).chain((models) =>
      fc.record({
        models: fc.constant(models),
        thresholds: fc.array(probability, { minLength: models.length, maxLength: models.length }),
        verifier: fc.constantFrom('premodel', 'confidence'),
        start: fc.constantFrom('premodel', 'cheapest'),
        accuracy: probability,
      }),
    ) as fc.Arbitrary<OperatingPoint>,
    confirmed: fc.array(probability, { minLength: cs.length, maxLength: cs.length }),
  }),
);

function routeOf(r: { candidates: Candidate[]; point: OperatingPoint; confirmed: number[] }, c: Constraint, d: PolicyDefaults) {
  const models = r.candidates.map((x) => x.model);
  const estimateFor = (ids: readonly string[]) => r.candidates.filter((x) => ids.includes(x.model));
  const confirm = (model: string) => r.confirmed[models.indexOf(model)]!;
  return { models, confirm, result: routeWith(models, estimateFor, c, () => r.point, d, confirm) };
}

describe('select/route properties', () => {
  it('runs distinct models of the zoo, each dearer than the last, and answers with the last one run', () => {
    fc.assert(
      fc.property(routing, constraint, defaults, (r, c, d) => {
        const { models, result } = routeOf(r, c, d);
        const latency = (m: string) => r.candidates.find((x) => x.model === m)!.latencyMs;
        expect(result.ran).to.not.be.empty;
        expect(models).to.include.members(result.ran);
        expect(new Set(result.ran).size).to.equal(result.ran.length);
        expect(result.model).to.equal(result.ran[result.ran.length - 1]);
        for (let i = 1; i < result.ran.length; i++) expect(latency(result.ran[i]!)).to.be.above(latency(result.ran[i - 1]!));
        expect(result.predictedLatencyMs).to.be.closeTo(result.ran.reduce((sum, m) => sum + latency(m), 0), 1e-9);
      }),
    );
  });

  it('escalates only past answers stage two doubts, and stops at the first it trusts', () => {
    fc.assert(
      fc.property(routing, constraint, defaults, (r, c, d) => {
        const { confirm, result } = routeOf(r, c, d);
        fc.pre(goals(c, d).target !== undefined);
        for (const doubted of result.ran.slice(0, -1)) expect(confirm(doubted)).to.be.below(thresholdAt(r.point, doubted));
        // What is predicted is what the served point is vouched for.
        expect(result.predictedAccuracy).to.equal(r.point.accuracy);
      }),
    );
  });

  it('keeps the whole route within the latency budget whenever some model fits it; else runs the fastest once, not met', () => {
    fc.assert(
      fc.property(routing, constraint, defaults, (r, c, d) => {
        const { budget } = goals(c, d);
        const { result } = routeOf(r, c, d);
        if (r.candidates.some((x) => x.latencyMs <= budget)) {
          expect(result.predictedLatencyMs).to.be.at.most(budget);
        } else {
          expect(result.ran).to.have.length(1);
          expect(result.predictedLatencyMs).to.equal(fastest(r.candidates));
          expect(result.constraintMet).to.equal(false);
        }
      }),
    );
  });

  it('with an accuracy target, climbs only the ladder of its operating point when a rung fits the budget', () => {
    fc.assert(
      fc.property(routing, constraint, defaults, (r, c, d) => {
        const { target, budget } = goals(c, d);
        const ladder = r.candidates.filter((x) => r.point.models.includes(x.model));
        fc.pre(target !== undefined && ladder.some((x) => x.latencyMs <= budget));
        expect(r.point.models).to.include.members(routeOf(r, c, d).result.ran);
      }),
    );
  });

  it('runs a forced model alone, and routes deterministically', () => {
    fc.assert(
      fc.property(routing, constraint, defaults, fc.nat(), (r, c, d, pick) => {
        const model = r.candidates[pick % r.candidates.length]!.model;
        expect(routeOf(r, { ...c, model }, d).result).to.deep.include({ model, ran: [model] });
        expect(routeOf(r, c, d).result).to.deep.equal(routeOf(r, c, d).result);
      }),
    );
  });
});
