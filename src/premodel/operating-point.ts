/**
 * The premodel's routing vocabulary. An accuracy target maps, through calibration, to an operating
 * point: a ladder of models (a few rungs of the zoo, cheapest first), a threshold per rung on the
 * chance that the rung's answer is right (a cheap rung must be surer than a dear one before its
 * answer stands: escalating from it costs little, and from a dear one, much), where a request starts
 * on the ladder, and what judges each answer. Calibration writes these points into the premodel
 * file; the route (select/route.ts) follows them.
 */
import type { DeepReadonly, FromSchema } from '../schema/index.js';

/**
 * What says, once a model has run, how likely its answer is right: the premodel's stage two (the
 * input's features and the model's output), or the model's own top-1 confidence. Calibration keeps
 * whichever serves a point for less.
 */
export const VERIFIERS = ['premodel', 'confidence'] as const;
export type Verifier = (typeof VERIFIERS)[number];

/**
 * Where a request starts on the ladder: where the premodel's stage one expects the first rung
 * right enough, or always at the cheapest rung (a plain cascade: stage one is not consulted).
 */
export const STARTS = ['premodel', 'cheapest'] as const;
export type Start = (typeof STARTS)[number];

const share = { type: 'number', minimum: 0, maximum: 1 } as const;

/** One calibrated point as the premodel file stores it. */
export const calibrationPointSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['models', 'thresholds', 'verifier', 'start', 'accuracy', 'meanCostMs', 'accuracyLowerBound'],
  properties: {
    /** The ladder routed: model ids, cheapest first. */
    models: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
    /** Per rung, the threshold on the chance of being right at which its answer stands. */
    thresholds: { type: 'array', items: share, minItems: 1 },
    verifier: { enum: VERIFIERS },
    start: { enum: STARTS },
    /** Accuracy and mean cost (ms) that routing this way reached on the premodel split, out of fold. */
    accuracy: share,
    meanCostMs: { type: 'number', minimum: 0 },
    /**
     * One-sided 95% lower bound of that accuracy on new data, less the measured margin
     * (pipeline/calibrate.ts): what the point vouches for. With groups: the worst group's.
     */
    accuracyLowerBound: share,
    /** Per encoding group of the requests (what the decoder saw): the same three figures on its rows. */
    groups: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['accuracy', 'meanCostMs', 'accuracyLowerBound'],
        properties: { accuracy: share, meanCostMs: { type: 'number', minimum: 0 }, accuracyLowerBound: share },
      },
    },
  },
} as const;

export type CalibrationPoint = FromSchema<typeof calibrationPointSchema>;

/** How the premodel serves an accuracy target, as calibration found it on the premodel split. */
export interface OperatingPoint {
  /** The ladder: models the route may run, cheapest first. */
  models: readonly string[];
  /** Per rung: the chance of being right at which that model's answer stands. */
  thresholds: readonly number[];
  verifier: Verifier;
  start: Start;
  /** The accuracy calibration can vouch for at this point (a lower confidence bound). */
  accuracy: number;
  /** Its position in the premodel's calibration table (what a decision token records); none for a candidate calibration weighs. */
  index?: number;
}

/** Maps an accuracy target to the operating point calibrated for it. */
export type OperatingPointFor = (minAccuracy: number) => OperatingPoint;

/**
 * Whether a routing asks the premodel's forests anything. One that starts at the cheapest rung and
 * trusts each model's own confidence (a tuned cascade) does not, so its requests skip the
 * input's features and the forests: calibration charges their cost only to routings that do.
 */
export function consultsPremodel(routing: { start: Start; verifier: Verifier }): boolean {
  return routing.start === 'premodel' || routing.verifier === 'premodel';
}

/** The threshold of `model` at `point`: its rung's; a model off the ladder (forced) gets the top rung's. */
export function thresholdAt(point: OperatingPoint, model: string): number {
  const rung = point.models.indexOf(model);
  return point.thresholds[rung === -1 ? point.thresholds.length - 1 : rung]!;
}

/**
 * What `point` vouches for, reached, and costs, for requests of `group`: that group's figures where
 * calibration measured it; the worst group's bound (and the mean accuracy and cost) for any other.
 */
export function pointFor(point: DeepReadonly<CalibrationPoint>, group: string | undefined): { bound: number; accuracy: number; costMs: number } {
  const measured = group === undefined ? undefined : point.groups?.[group];
  return measured === undefined
    ? { bound: point.accuracyLowerBound, accuracy: point.accuracy, costMs: point.meanCostMs }
    : { bound: measured.accuracyLowerBound, accuracy: measured.accuracy, costMs: measured.meanCostMs };
}

/**
 * The cheapest of `points` whose bound for `group` reaches `target`; when none does, the most
 * accurate configuration calibration knows for the group: the single model that measured most
 * accurate on the group's premodel rows (whose bound, below the target, tells the route it is not
 * met). A single model, not a ladder: a ladder's edge over its rungs rests on how far their
 * confidence can be trusted, which is what moves most with the people and encodings a deployment
 * brings; and a single model's figure is one of a few, not the best of hundreds of ladders and
 * thresholds, so the least flattered by the choice. A table with no single model falls back to
 * the point it vouches most for.
 */
export function operatingPointIn(points: readonly DeepReadonly<CalibrationPoint>[], target: number, group?: string): OperatingPoint {
  let chosen = -1;
  let chosenCost = Infinity;
  let fallback = -1;
  let fallbackRank: readonly number[] = [];
  points.forEach((p, i) => {
    const { bound, accuracy, costMs } = pointFor(p, group);
    if (bound >= target && costMs < chosenCost) {
      chosen = i;
      chosenCost = costMs;
    }
    // Single models before ladders; then the most accurate single model, or the ladder vouched for most; then the cheaper.
    const rank = p.models.length === 1 ? [1, accuracy, -costMs] : [0, bound, -costMs];
    if (fallback === -1 || ranksAbove(rank, fallbackRank)) {
      fallback = i;
      fallbackRank = rank;
    }
  });
  const index = chosen === -1 ? fallback : chosen;
  const point = points[index]!;
  return { models: point.models, thresholds: point.thresholds, verifier: point.verifier, start: point.start, accuracy: pointFor(point, group).bound, index };
}

/** Whether `a` comes before `b`, compared figure by figure. */
function ranksAbove(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}
