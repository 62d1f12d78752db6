/**
 * Two-stage routing of one input, as a generator, so that serving (which runs the models) and
 * calibration and evaluation (which replay recorded outcomes) follow one implementation (for plain
 * cascades calibration uses `replayCascade`, 20x faster, which a test holds equal to this).
 *
 * An accuracy target maps, through calibration, to an operating point (premodel/operating-point.ts).
 * Stage one: `selectModel` on the premodel's feature-only estimates picks where on the ladder to
 * start. Each time a model has run, the caller sends back the point's verifier's estimate that its
 * answer is right; at or above that rung's threshold the route stops there, otherwise it escalates to the
 * rung `selectModel` picks among the dearer ones that fit the budget left (so it may skip rungs).
 * A point that starts at the cheapest rung (a cascade) needs no policy: it starts at the cheapest
 * rung that fits and climbs to the next one that fits.
 */
import { consultsPremodel, thresholdAt, type OperatingPoint, type OperatingPointFor, type Verifier } from '../premodel/operating-point.js';
import { selectModel, targetOf, type Candidate, type Constraint, type PolicyDefaults, type Selection, type ThresholdFor } from './policy.js';

/** A model for the caller to run, and what should judge its answer. */
export interface Step {
  model: string;
  verifier: Verifier;
}

/**
 * Whether routing a request under `constraint` consults the premodel: a forced model and a plain
 * latency budget are weighed by stage one's estimates; an accuracy target, as its point says.
 */
export function routeConsultsPremodel(constraint: Constraint, operatingPointFor: OperatingPointFor, defaults: PolicyDefaults): boolean {
  const target = targetOf(constraint, defaults);
  return constraint.model !== undefined || target === undefined || consultsPremodel(operatingPointFor(target));
}

/**
 * The thresholds of one point. Made here rather than as a named closure (or a bound function) in
 * `route`: under tsx, esbuild's keepNames gives every named closure a defineProperty when it is
 * made, as bind does, and calibration routes millions of inputs.
 */
function thresholdsOf(point: OperatingPoint): ThresholdFor {
  return (_target, model) => thresholdAt(point, model);
}

/**
 * The fastest of `candidates`: a cascade's next rung, which fits the budget if any does. A cascade
 * asks nothing of the policy, and skipping it (and the reason it would word) saves the route half
 * its cost.
 */
function fastestOf(candidates: readonly Candidate[]): Candidate {
  return candidates.reduce((a, b) => (b.latencyMs < a.latencyMs ? b : a));
}

export interface RouteResult extends Selection {
  /** The models run, in order; the answer is the last one's. */
  ran: string[];
  /** The models the route weighed, with their estimates. */
  candidates: readonly Candidate[];
  /** The operating point that served an accuracy target (its index in the calibration); none for a forced model or a budget alone. */
  point?: number;
}

/**
 * The premodel's stage-one estimate and the expected latency of each of `models`. The route asks
 * only for the models it may run, since every estimate costs a forest on the request path.
 */
export type EstimateFor = (models: readonly string[]) => Candidate[];

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/**
 * Yields each model to run; expects back its verifier's chance that the model's answer is right.
 * `vouchedAlone` gives what calibration vouches for each model serving alone: a model that a request
 * forces meets an accuracy target only where that reaches it (without it, the policy's estimate judges).
 */
export function* route(
  models: readonly string[],
  estimateFor: EstimateFor,
  constraint: Constraint,
  operatingPointFor: OperatingPointFor,
  defaults: PolicyDefaults,
  vouchedAlone?: (model: string) => number,
): Generator<Step, RouteResult, number> {
  const target = targetOf(constraint, defaults);
  // A forced model, or a plain latency budget with no accuracy target, runs once.
  if (constraint.model !== undefined || target === undefined) {
    const candidates = estimateFor(constraint.model === undefined ? models : [constraint.model]);
    const only = selectModel(candidates, constraint, (a, model) => thresholdAt(operatingPointFor(a), model), defaults);
    yield { model: only.model, verifier: 'premodel' };
    if (constraint.model === undefined || target === undefined || vouchedAlone === undefined) return { ...only, ran: [only.model], candidates };
    const bound = vouchedAlone(only.model);
    const fits = only.predictedLatencyMs <= (constraint.maxLatencyMs ?? defaults.maxLatencyMs);
    return {
      ...only,
      constraintMet: fits && bound >= target,
      predictedAccuracy: bound,
      reason: `${only.reason}; alone it is vouched for ${pct(bound)}${bound >= target ? '' : `, below the ${pct(target)} asked`}`,
      ran: [only.model],
      candidates,
    };
  }

  const point = operatingPointFor(target);
  const budget = constraint.maxLatencyMs ?? defaults.maxLatencyMs;
  const ladder = estimateFor(point.models);
  // When the budget leaves no rung of the ladder, the rest of the zoo may still hold a model that fits.
  const pool = ladder.some((c) => c.latencyMs <= budget) ? ladder : estimateFor(models);
  // Where to start, and where to climb to: by stage one's estimates against the rungs' thresholds,
  // or, for a point that starts at the cheapest rung (a cascade), the cheapest rung that fits.
  const thresholds = point.start === 'cheapest' ? undefined : thresholdsOf(point);
  const first = thresholds === undefined ? cascadeStart(fastestOf(pool), budget) : selectModel(pool, constraint, thresholds, defaults);
  const reachable = point.accuracy >= target;
  const vouched = reachable
    ? `${point.models.join(' > ')} is vouched for ${pct(point.accuracy)} accuracy`
    : `no calibrated ladder is vouched for ${pct(target)}: serving the most accurate configuration calibration knows, ${point.models.join(' > ')}, vouched for ${pct(point.accuracy)}`;
  const steps = [`${vouched}; ${first.reason}`];
  const ran = [first.model];
  // A candidate's latency is what the request would take if that model answered it alone (under
  // load: elapsed time and queueing included); climbing to it after others adds their own runs.
  const byModel = new Map(pool.map((c) => [c.model, c]));
  let current = byModel.get(first.model)!;
  let runsBefore = 0; // run time of the models climbed past
  let spent = current.latencyMs;
  let confirmed = yield { model: first.model, verifier: point.verifier };
  while (confirmed < thresholdAt(point, current.model)) {
    runsBefore += (current.runMs ?? current.latencyMs) - savedMs(current, ran);
    const from = current;
    const rest = pool.filter((c) => c.latencyMs > from.latencyMs && c.latencyMs - savedMs(c, ran) + runsBefore <= budget);
    if (rest.length === 0) break;
    const next = thresholds === undefined ? fastestOf(rest) : selectModel(rest, { minAccuracy: target }, thresholds, { ...defaults, maxLatencyMs: Infinity });
    steps.push(`${current.model} was unsure (p=${confirmed.toFixed(3)} < ${thresholdAt(point, current.model).toFixed(3)}): escalated to ${next.model}`);
    ran.push(next.model);
    current = byModel.get(next.model)!;
    spent = current.latencyMs - savedMs(current, ran) + runsBefore;
    confirmed = yield { model: next.model, verifier: point.verifier };
  }
  return {
    model: current.model,
    constraintMet: first.constraintMet && reachable && spent <= budget,
    // What the served point is vouched for (the verifier's own estimate for this input is a hunch).
    predictedAccuracy: point.accuracy,
    predictedLatencyMs: spent,
    threshold: thresholdAt(point, current.model),
    reason: steps.join('; '),
    ran,
    candidates: pool,
    ...(point.index === undefined ? {} : { point: point.index }),
  };
}

/** What `c` saves where it reuses the run of a rung that has already run for this request (`ran`). */
function savedMs(c: Candidate, ran: readonly string[]): number {
  return c.reuses !== undefined && ran.includes(c.reuses.rung) ? c.reuses.ms : 0;
}

/** Where a cascade starts: its cheapest rung, which is the fastest candidate and fits if any does. */
function cascadeStart(rung: Candidate, budget: number): { model: string; constraintMet: boolean; reason: string } {
  const fits = rung.latencyMs <= budget;
  return {
    model: rung.model,
    constraintMet: fits,
    reason: fits
      ? `started at the cheapest rung of the ladder that fits: ${rung.model}`
      : `no model fits ${budget.toFixed(3)} ms; serving the fastest, ${rung.model} (${rung.latencyMs.toFixed(3)} ms)`,
  };
}

/** Drives `route` synchronously with a function that answers stage two for each model run. */
export function routeWith(
  models: readonly string[],
  estimateFor: EstimateFor,
  constraint: Constraint,
  operatingPointFor: OperatingPointFor,
  defaults: PolicyDefaults,
  confirm: (model: string, verifier: Verifier) => number,
  vouchedAlone?: (model: string) => number,
): RouteResult {
  const steps = route(models, estimateFor, constraint, operatingPointFor, defaults, vouchedAlone);
  let step = steps.next();
  while (!step.done) step = steps.next(confirm(step.value.model, step.value.verifier));
  return step.value;
}
