/**
 * What the data plane takes and gives back, whatever protocol carried it: an inference request (the
 * input as it came over the wire, the constraint, and when it was read), and the prediction with the
 * selection and the time each stage took.
 */
import type { DecodeLimits, WireInput } from '../inputs/kind.js';
import type { Constraint } from '../select/policy.js';

export interface InferenceRequest {
  readonly wire: WireInput;
  readonly limits: DecodeLimits;
  readonly constraint: Constraint;
  /** When the worker read the request, on the service's clock (ms); timing.totalMs counts from here. */
  readonly readAtMs: number;
  /** Its estimated wait before it was read, in ms (serve/read-wait.ts): budgets are planned from its arrival. */
  readonly waitedMs: number;
}

/** Milliseconds spent in each stage of a request. */
export type StageTiming = {
  /** Estimated wait before the worker read the request; not part of totalMs. */
  queuedMs: number;
  decodeMs: number;
  /** 0 where the route did not consult the premodel (no features computed). */
  featuresMs: number;
  /** Stage one, the policy, and the route's escalation decisions between model runs. */
  selectMs: number;
  /** The models' runs, their input tensors included, and, in a batch, the wait for it to run (serve/batcher.ts). */
  inferenceMs: number;
  /** From the read to the answer. */
  totalMs: number;
};

export const STAGES = ['queued', 'decode', 'features', 'select', 'inference', 'total'] as const;
export type StageName = (typeof STAGES)[number];

/**
 * One model run for a prediction: the model's own time (its classify call alone), in ms, and the
 * examples it ran. A batched run (serve/batcher.ts) is the whole batch's: each of its `batch`
 * members records the same run, so that the per-model histogram counts each run's time once
 * (ms / batch from each member) and the timing of each answer shows what its run took.
 */
export interface ModelRun {
  readonly model: string;
  readonly ms: number;
  /** Examples in the run: 1 alone, more in a batch. */
  readonly batch: number;
}

/**
 * The key of a prediction's model runs: a symbol, so that they reach the metrics (Service.infer)
 * but not the client, since JSON.stringify skips symbol keys and v1 sends the prediction as it is.
 */
export const MODEL_RUNS = Symbol('modelRuns');

export interface Prediction {
  /** The signed decision (feedback/token.ts): what POST /v1/tasks/{task}/feedback takes a label for. */
  requestId: string;
  task: string;
  model: string;
  label: string;
  classIndex: number;
  scores: number[];
  selection: {
    constraintMet: boolean;
    predictedAccuracy: number;
    predictedLatencyMs: number;
    candidates: { model: string; pCorrect: number; latencyMs: number }[];
    /** Models run for this answer, in order (more than one when the route escalated). */
    ran: string[];
    reason: string;
  };
  timing: StageTiming;
  /** Each model run, in order (a rung that averages a view runs its model twice); not part of the response. */
  readonly [MODEL_RUNS]: readonly ModelRun[];
}
