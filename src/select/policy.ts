/**
 * The selection policy: which zoo model serves a request, given the premodel's estimate of each
 * model's chance of being right on this input, each model's expected latency now, and the
 * request's constraint. Pure: no I/O, no clock, so that serving, calibration and the offline
 * evaluation all route by this one implementation. Semantics (docs/premodel.md, "The constraint"):
 * - minAccuracy a: the cheapest model whose chance of being right reaches the threshold that
 *   calibration found for a (so that requests sent with a are right at least a of the time);
 *   when none reaches it, the model most likely right.
 * - maxLatencyMs: a hard bound; among the models that fit, the one most likely right; when none
 *   fits, the fastest, with constraintMet false.
 * - both: minAccuracy's rule among the models that fit the budget.
 * - neither: the defaults (by default the accuracy of the zoo's most accurate model).
 * - model: forced; constraintMet tells whether it meets the rest of the constraint.
 */

export interface Candidate {
  model: string;
  /** The premodel's estimate that this model classifies this input right. */
  pCorrect: number;
  /** What a request answered by this model alone is expected to take now, in milliseconds. */
  latencyMs: number;
  /** The model's own run time, when it differs from `latencyMs` (which may include waiting); ms. */
  runMs?: number;
  /**
   * A rung that reuses another's run (a test-time augmentation reuses its model's plain pass): where
   * that rung has already run for the request, this one costs `ms` less.
   */
  reuses?: { rung: string; ms: number };
}

export interface Constraint {
  minAccuracy?: number;
  maxLatencyMs?: number;
  model?: string;
}

export interface PolicyDefaults {
  /** Target used when a request gives neither minAccuracy nor maxLatencyMs. */
  minAccuracy: number;
  /** Budget used when a request gives no maxLatencyMs (Infinity: none). */
  maxLatencyMs: number;
}

export interface Selection {
  model: string;
  constraintMet: boolean;
  predictedAccuracy: number;
  predictedLatencyMs: number;
  /** The threshold on pCorrect that the accuracy target asked of the chosen model, if there was one. */
  threshold?: number;
  reason: string;
}

/** The pCorrect threshold calibrated for an accuracy target, for one model (each rung of a ladder has its own). */
export type ThresholdFor = (minAccuracy: number, model: string) => number;

const ms = (v: number) => `${v.toFixed(3)} ms`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Faster first; equal latencies keep their order. */
function byLatency(a: Candidate, b: Candidate): number {
  return a.latencyMs - b.latencyMs;
}

/** The candidate most likely right; ties go to the faster one. */
function mostLikelyRight(candidates: readonly Candidate[]): Candidate {
  return candidates.reduce((best, c) =>
    c.pCorrect > best.pCorrect || (c.pCorrect === best.pCorrect && c.latencyMs < best.latencyMs) ? c : best,
  );
}

function chosen(c: Candidate, constraintMet: boolean, reason: string, threshold?: number): Selection {
  return {
    model: c.model,
    constraintMet,
    predictedAccuracy: c.pCorrect,
    predictedLatencyMs: c.latencyMs,
    ...(threshold === undefined ? {} : { threshold }),
    reason,
  };
}

/** Each candidate's threshold for `target` (none without a target). */
function candidateThresholds(thresholdFor: ThresholdFor, target: number | undefined): (c: Candidate) => number | undefined {
  return (c) => (target === undefined ? undefined : thresholdFor(target, c.model));
}

/** The accuracy target a request asks for: its own, the default when it gives no constraint, or none. */
export function targetOf(constraint: Constraint, defaults: PolicyDefaults): number | undefined {
  const unconstrained = constraint.minAccuracy === undefined && constraint.maxLatencyMs === undefined;
  return constraint.minAccuracy ?? (unconstrained ? defaults.minAccuracy : undefined);
}

export function selectModel(
  candidates: readonly Candidate[],
  constraint: Constraint,
  thresholdFor: ThresholdFor,
  defaults: PolicyDefaults,
): Selection {
  if (candidates.length === 0) throw new Error('no candidate models');
  const target = targetOf(constraint, defaults);
  const budget = constraint.maxLatencyMs ?? defaults.maxLatencyMs;
  const thresholdOf = candidateThresholds(thresholdFor, target); // see thresholdsOf in route.ts

  if (constraint.model !== undefined) {
    const forced = candidates.find((c) => c.model === constraint.model);
    if (forced === undefined) throw new Error(`model ${constraint.model} is not a candidate`);
    const threshold = thresholdOf(forced);
    const fits = forced.latencyMs <= budget;
    const confident = threshold === undefined || forced.pCorrect >= threshold;
    return chosen(forced, fits && confident, `model ${forced.model} forced by the request`, threshold);
  }

  const sorted = [...candidates].sort(byLatency);
  const fitting = sorted.filter((c) => c.latencyMs <= budget);
  if (fitting.length === 0) {
    const fastest = sorted[0]!;
    return chosen(
      fastest,
      false,
      `no model fits ${ms(budget)}; serving the fastest, ${fastest.model} (${ms(fastest.latencyMs)})`,
      thresholdOf(fastest),
    );
  }
  const within = Number.isFinite(budget) ? ` within ${ms(budget)}` : '';

  if (target === undefined) {
    const best = mostLikelyRight(fitting);
    return chosen(best, true, `most likely right${within}: ${best.model} (p=${best.pCorrect.toFixed(3)})`);
  }

  const confident = fitting.find((c) => c.pCorrect >= thresholdOf(c)!);
  if (confident !== undefined) {
    const threshold = thresholdOf(confident)!;
    return chosen(
      confident,
      true,
      `cheapest model${within} predicted right with p=${confident.pCorrect.toFixed(3)} >= ${threshold.toFixed(3)} ` +
        `(calibrated for ${pct(target)} accuracy): ${confident.model}`,
      threshold,
    );
  }
  // No fitting model reaches its threshold. If one outside the budget would have, the budget is
  // what costs accuracy: say so. Otherwise this input is hard for every model, and calibration
  // counted on serving the most likely right one here.
  const best = mostLikelyRight(fitting);
  const threshold = thresholdOf(best)!;
  const blockedByBudget = sorted.some((c) => c.latencyMs > budget && c.pCorrect >= thresholdOf(c)!);
  return chosen(
    best,
    !blockedByBudget,
    blockedByBudget
      ? `no model${within} reaches p >= ${threshold.toFixed(3)} for ${pct(target)}; serving the most likely right that fits, ${best.model}`
      : `no model reaches p >= ${threshold.toFixed(3)} on this input; serving the most likely right${within}, ${best.model}`,
    threshold,
  );
}
