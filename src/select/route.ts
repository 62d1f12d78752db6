/**
 * Two-stage routing of one input, as a generator, so that serving (which runs the models) and
 * calibration and evaluation (which replay recorded outcomes) follow one implementation.
 *
 * Stage one: `selectModel` on the premodel's feature-only estimates picks where to start. Each
 * time a model has run, the caller sends back stage two's estimate that its answer is right; at
 * or above the threshold the route stops there, otherwise it escalates, like a cascade, to the model
 * `selectModel` picks among the dearer ones that fit the budget left (so it may skip rungs).
 */
import { selectModel, type Candidate, type Constraint, type PolicyDefaults, type Selection, type ThresholdFor } from './policy.js';

export interface RouteResult extends Selection {
  /** The models run, in order; the answer is the last one's. */
  ran: string[];
}

/** Yields each model to run; expects back stage two's chance that its answer is right. */
export function* route(
  candidates: readonly Candidate[],
  constraint: Constraint,
  thresholdFor: ThresholdFor,
  defaults: PolicyDefaults,
): Generator<string, RouteResult, number> {
  const first = selectModel(candidates, constraint, thresholdFor, defaults);
  const ran = [first.model];
  let confirmed = yield first.model;
  // A forced model, or a plain latency budget with no accuracy target, runs once.
  if (constraint.model !== undefined || first.threshold === undefined) return { ...first, ran };

  const threshold = first.threshold;
  const target = constraint.minAccuracy ?? defaults.minAccuracy;
  const budget = constraint.maxLatencyMs ?? defaults.maxLatencyMs;
  const latency = new Map(candidates.map((c) => [c.model, c.latencyMs]));
  let spent = latency.get(first.model)!;
  let current: Selection = first;
  const steps = [first.reason];
  while (confirmed < threshold) {
    const now = latency.get(current.model)!;
    const rest = candidates.filter((c) => c.latencyMs > now && c.latencyMs <= budget - spent);
    if (rest.length === 0) break;
    const next = selectModel(rest, { minAccuracy: target }, () => threshold, { ...defaults, maxLatencyMs: Infinity });
    steps.push(`${current.model} was unsure (p=${confirmed.toFixed(3)} < ${threshold.toFixed(3)}): escalated to ${next.model}`);
    ran.push(next.model);
    spent += latency.get(next.model)!;
    current = next;
    confirmed = yield next.model;
  }
  return {
    model: current.model,
    constraintMet: first.constraintMet && spent <= budget,
    predictedAccuracy: confirmed,
    predictedLatencyMs: spent,
    threshold,
    reason: steps.join('; '),
    ran,
  };
}

/** Drives `route` synchronously with a function that answers stage two for each model run. */
export function routeWith(
  candidates: readonly Candidate[],
  constraint: Constraint,
  thresholdFor: ThresholdFor,
  defaults: PolicyDefaults,
  confirm: (model: string) => number,
): RouteResult {
  const steps = route(candidates, constraint, thresholdFor, defaults);
  let step = steps.next();
  while (!step.done) step = steps.next(confirm(step.value));
  return step.value;
}
