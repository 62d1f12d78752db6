/**
 * Routing replayed over recorded outcomes, as the service would route each row: what requests with
 * a constraint would have been answered with, and what they would have cost (the profiled
 * latency of every rung each one ran; a rung that reuses a run already made is charged the rest).
 * Calibration and evaluation both replay through the route the service runs (select/route.ts).
 */
import type { OperatingPointFor } from '../premodel/operating-point.js';
import type { Constraint } from '../select/policy.js';
import { routeWith } from '../select/route.js';
import type { OutcomeFile } from './outcomes.js';

/** A rung as replays cost it: its latency alone, and the run of another rung it reuses. */
export interface RungCost {
  id: string;
  /** Profiled ms of the rung answering alone (a test-time augmentation: both its runs). */
  latencyMs: number;
  /** A test-time augmentation reuses its model's plain run: where that ran first, `ms` less. */
  reuses?: { rung: string; ms: number };
}

export interface RoutingData {
  /** Routed rungs, cheapest first, with their profiled latency. */
  models: RungCost[];
  /** Per rung: right (1) or wrong (0) on each row. */
  correct: Record<string, Uint8Array>;
  /** Per rung: stage-one and stage-two estimates for each row. */
  stage1: Record<string, Float64Array>;
  stage2: Record<string, Float64Array>;
  /** Per rung: its own top-1 confidence on each row (the other verifier). */
  confidence: Record<string, Float64Array>;
  /**
   * Per-row cost on the request path, in ms, of the features and forests, charged to the routings
   * that consult the premodel (see consultsPremodel); none when left out.
   */
  overheadMs?: number;
}

export interface Replayed {
  accuracy: number;
  meanCostMs: number;
  /** Per row: whether the answer was right, and what the row cost. */
  right: Uint8Array;
  cost: Float64Array;
}

/** Each of `models`' own top-1 confidence on every row: the cascade's verifier. */
export function confidences(outcomes: OutcomeFile, models: readonly string[]): Record<string, Float64Array> {
  return Object.fromEntries(models.map((id) => [id, Float64Array.from(outcomes.models[id]!.confidence)]));
}

export function correctness(outcomes: OutcomeFile, model: string): Uint8Array {
  return Uint8Array.from(outcomes.models[model]!.predicted, (p, i) => (p === outcomes.labels[i] ? 1 : 0));
}

function summary(right: Uint8Array, cost: Float64Array): Replayed {
  let hits = 0;
  let total = 0;
  for (let i = 0; i < right.length; i++) {
    hits += right[i]!;
    total += cost[i]!;
  }
  return { accuracy: hits / right.length, meanCostMs: total / right.length, right, cost };
}

/** Replays the route for `constraint` over every row of `data`. */
export function replay(data: RoutingData, constraint: Constraint, operatingPointFor: OperatingPointFor): Replayed {
  const n = data.correct[data.models[0]!.id]!.length;
  const defaults = { minAccuracy: 1, maxLatencyMs: Infinity };
  const right = new Uint8Array(n);
  const cost = new Float64Array(n);
  const ids = data.models.map((m) => m.id);
  const byId = new Map(data.models.map((m) => [m.id, m]));
  for (let i = 0; i < n; i++) {
    // Inline, not a named closure (see thresholdsOf in select/route.ts): one per row.
    const result = routeWith(
      ids,
      (models) =>
        models.map((model) => {
          const rung = byId.get(model)!;
          return { model, pCorrect: data.stage1[model]![i]!, latencyMs: rung.latencyMs, reuses: rung.reuses };
        }),
      constraint,
      operatingPointFor,
      defaults,
      (model, verifier) => (verifier === 'confidence' ? data.confidence : data.stage2)[model]![i]!,
    );
    right[i] = data.correct[result.model]![i]!;
    cost[i] = result.predictedLatencyMs;
  }
  return summary(right, cost);
}

/**
 * Replays a plain cascade over recorded data as `replay` routes a point that starts at the cheapest
 * rung and trusts the models' own confidence, with no budget: each row runs `models` cheapest
 * first and stops at the first whose top-1 confidence reaches that rung's threshold, or at the last.
 * The same answers (a test holds them equal) without the route's machinery, 20 times faster:
 * calibration replays millions of rows.
 */
export function replayCascade(data: RoutingData, models: readonly string[], thresholds: readonly number[]): Replayed {
  const byId = new Map(data.models.map((m) => [m.id, m]));
  const rungs = models.map((id, k) => {
    const rung = byId.get(id)!;
    // Every rung below this one has run: a rung that reuses one of them is charged the rest.
    const saved = rung.reuses !== undefined && models.slice(0, k).includes(rung.reuses.rung) ? rung.reuses.ms : 0;
    return { correct: data.correct[id]!, confidence: data.confidence[id]!, costMs: rung.latencyMs - saved, threshold: thresholds[k]! };
  });
  const n = rungs[0]!.correct.length;
  const right = new Uint8Array(n);
  const cost = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let spent = 0;
    for (let k = 0; k < rungs.length; k++) {
      const rung = rungs[k]!;
      spent += rung.costMs;
      if (rung.confidence[i]! >= rung.threshold || k === rungs.length - 1) {
        right[i] = rung.correct[i]!;
        break;
      }
    }
    cost[i] = spent;
  }
  return summary(right, cost);
}
