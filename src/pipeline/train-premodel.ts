/**
 * Premodel training: from the zoo's recorded outcomes on the premodel split and the cheap
 * features of the same inputs, the two stages of forests per routed model, their out-of-fold
 * estimates (k folds), the calibration of thresholds by replaying routing on those estimates, and
 * the final forests on every row. Nothing here looks at the test split.
 */
import { createHash } from 'node:crypto';
import { taskInputs } from '../inputs/registry.js';
import { PackedForest, trainForest, type CompiledForest, type ForestOptions } from '../premodel/forest.js';
import { consultsPremodel, type CalibrationPoint, type OperatingPointFor, type Start, type Verifier } from '../premodel/operating-point.js';
import { PREMODEL_KIND, PREMODEL_VERSION, type PremodelFile } from '../premodel/premodel.js';
import { routeWith } from '../select/route.js';
import type { Constraint } from '../select/policy.js';
import type { ZooManifest } from '../zoo/manifest.js';
import { accuracyLowerBound } from './bounds.js';
import type { LabelledInputs } from './datasets/index.js';
import type { OutcomeFile } from './outcomes.js';
import { forestUs, timedFeatureRows } from './overhead.js';
import { progress } from './progress.js';

export const DEFAULT_FOREST: ForestOptions = Object.freeze({
  trees: 12,
  rowsPerTree: 500,
  maxFeatures: 0.5,
  maxDepth: 7,
  minLeafRows: 10,
  seed: 17,
});

/** Thresholds tried on every ladder by calibration. */
export const CALIBRATION_THRESHOLDS: readonly number[] = Object.freeze([
  0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98,
]);

/**
 * How a ladder may be routed, tried for each: the premodel's two stages (stage one picks where to
 * start, stage two judges each answer), or a plain cascade (start at the cheapest rung, each model's
 * own top-1 confidence judges its answer). Stage one with the confidence verifier was tried too:
 * it made training 1.5x slower (over 2 minutes for fashion) for no gain on the test split.
 */
export const ROUTINGS: readonly { start: Start; verifier: Verifier }[] = Object.freeze([
  { start: 'premodel', verifier: 'premodel' },
  { start: 'cheapest', verifier: 'confidence' },
]);

/** Middle-rung thresholds tried below the first rung's (see thresholdGrid). */
export const LAXER_MIDDLE_THRESHOLDS: readonly number[] = Object.freeze([0.5, 0.7]);

/** Rungs of a ladder at most: every rung more is one more model run on the hardest inputs. */
export const MAX_RUNGS = 3;

export interface RoutingData {
  /** Routed model ids, cheapest first, with their profiled latency. */
  models: { id: string; latencyMs: number }[];
  /** Per model: right (1) or wrong (0) on each input. */
  correct: Record<string, Uint8Array>;
  /** Per model: stage-one and stage-two estimates for each input. */
  stage1: Record<string, Float64Array>;
  stage2: Record<string, Float64Array>;
  /** Per model: its own top-1 confidence on each input (the other verifier). */
  confidence: Record<string, Float64Array>;
  /**
   * Per-input cost on the request path, in ms, of the features and forests, charged to the routings
   * that consult the premodel (see consultsPremodel); none when left out.
   */
  overheadMs?: number;
}

/** A lone model has nothing to decide: it is served as a cascade of one, which consults no forest. */
const LONE_MODEL: { start: Start; verifier: Verifier } = Object.freeze({ start: 'cheapest', verifier: 'confidence' });

/** Every profiled model, cheapest first: the premodel routes among all of them. */
export function profiledModels(manifest: ZooManifest): { id: string; latencyMs: number; accuracy: number }[] {
  const all = manifest.models.map((m) => {
    if (m.latency === undefined || m.accuracy === undefined) {
      throw new Error(`model ${m.id} has not been profiled: run \`npm run profile -- --task ${manifest.task}\``);
    }
    return { id: m.id, latencyMs: m.latency.p50Ms, accuracy: m.accuracy.premodel };
  });
  return all.sort((a, b) => a.latencyMs - b.latencyMs);
}

/** The accuracy/latency Pareto front on the premodel split: no other model is both faster and at least as accurate. */
export function paretoModels(manifest: ZooManifest): { id: string; latencyMs: number; accuracy: number }[] {
  const all = profiledModels(manifest);
  return all
    .filter((m) => !all.some((o) => o !== m && o.latencyMs <= m.latencyMs && o.accuracy >= m.accuracy && (o.latencyMs < m.latencyMs || o.accuracy > m.accuracy)))
    .sort((a, b) => a.latencyMs - b.latencyMs);
}

function stage2Rows(rows: readonly number[][], outcomes: OutcomeFile, model: string): number[][] {
  const m = outcomes.models[model]!;
  return rows.map((r, i) => [...r, m.confidence[i]!, m.margin[i]!]);
}

/** Each of `models`' own top-1 confidence on every input: the cascade's verifier. */
export function confidences(outcomes: OutcomeFile, models: readonly string[]): Record<string, Float64Array> {
  return Object.fromEntries(models.map((id) => [id, Float64Array.from(outcomes.models[id]!.confidence)]));
}

export function correctness(outcomes: OutcomeFile, model: string): Uint8Array {
  return Uint8Array.from(outcomes.models[model]!.predicted, (p, i) => (p === outcomes.labels[i] ? 1 : 0));
}

/**
 * Replays routing over recorded data: what requests with `constraint` would have been answered
 * with. Accuracy, and mean cost as the sum of the profiled latencies of the models each one ran.
 */
export function replay(
  data: RoutingData,
  constraint: Constraint,
  operatingPointFor: OperatingPointFor,
): { accuracy: number; meanCostMs: number; right: Uint8Array } {
  const n = data.correct[data.models[0]!.id]!.length;
  const defaults = { minAccuracy: 1, maxLatencyMs: Infinity };
  const right = new Uint8Array(n);
  let hits = 0;
  let cost = 0;
  const ids = data.models.map((m) => m.id);
  const latency = new Map(data.models.map((m) => [m.id, m.latencyMs]));
  for (let i = 0; i < n; i++) {
    // Inline, not a named closure (see thresholdsOf in select/route.ts): one per input.
    const result = routeWith(
      ids,
      (models) => models.map((model) => ({ model, pCorrect: data.stage1[model]![i]!, latencyMs: latency.get(model)! })),
      constraint,
      operatingPointFor,
      defaults,
      (model, verifier) => (verifier === 'confidence' ? data.confidence : data.stage2)[model]![i]!,
    );
    right[i] = data.correct[result.model]![i]!;
    hits += right[i]!;
    cost += result.predictedLatencyMs;
  }
  return { accuracy: hits / n, meanCostMs: cost / n, right };
}

/**
 * Replays a plain cascade over recorded data as `replay` routes a point that starts at the cheapest
 * rung and trusts the models' own confidence, with no budget: each input runs `models` cheapest
 * first and stops at the first whose top-1 confidence reaches that rung's threshold, or at the last.
 * The same answers (a test holds them equal) without the route's machinery, 20 times faster:
 * calibration replays millions of inputs.
 */
export function replayCascade(
  data: RoutingData,
  models: readonly string[],
  thresholds: readonly number[],
): { accuracy: number; meanCostMs: number; right: Uint8Array } {
  const latency = new Map(data.models.map((m) => [m.id, m.latencyMs]));
  const rungs = models.map((id, k) => ({ correct: data.correct[id]!, confidence: data.confidence[id]!, latencyMs: latency.get(id)!, threshold: thresholds[k]! }));
  const n = rungs[0]!.correct.length;
  const right = new Uint8Array(n);
  let hits = 0;
  let cost = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < rungs.length; k++) {
      const rung = rungs[k]!;
      cost += rung.latencyMs;
      if (rung.confidence[i]! >= rung.threshold || k === rungs.length - 1) {
        right[i] = rung.correct[i]!;
        hits += right[i]!;
        break;
      }
    }
  }
  return { accuracy: hits / n, meanCostMs: cost / n, right };
}

/** Every ladder of at most `maxRungs` of `models` (cheapest first), each cheapest first. */
export function ladders(models: readonly string[], maxRungs: number): string[][] {
  const result: string[][] = [];
  const extend = (ladder: string[], from: number) => {
    if (ladder.length > 0) result.push(ladder);
    if (ladder.length === maxRungs) return;
    for (let i = from; i < models.length; i++) extend([...ladder, models[i]!], i + 1);
  };
  extend([], 0);
  return result;
}

/**
 * Thresholds of a ladder's rungs to try: one rung, any (it always answers); two, one threshold
 * (the top rung's only decides, in stage one, whether to start there); three, every first-rung
 * threshold with, for the middle rung, the same one or a laxer one of LAXER_MIDDLE_THRESHOLDS (a
 * middle rung that is often trusted saves the dearest rung's runs).
 */
export function thresholdGrid(rungs: number): number[][] {
  if (rungs === 1) return [[CALIBRATION_THRESHOLDS[0]!]];
  const grid: number[][] = [];
  for (const first of CALIBRATION_THRESHOLDS) {
    if (rungs === 2) grid.push([first, first]);
    else for (const middle of new Set([first, ...LAXER_MIDDLE_THRESHOLDS.filter((t) => t < first)])) grid.push([first, middle, middle]);
  }
  return grid;
}

/**
 * The operating points worth serving: every ladder over `rungs`, routed each of the `routings`
 * ways, tried at every threshold of its grid, replayed on out-of-fold estimates; kept are the points that
 * no cheaper point matches in accuracy, cheapest first. A one-rung ladder is that model alone (no
 * verdict is asked of it), so the table never does worse than serving a single model.
 */
export function calibrate(
  data: RoutingData,
  rungs: readonly string[],
  groups?: readonly number[],
  tick: () => void = () => {},
  routings: readonly { start: Start; verifier: Verifier }[] = ROUTINGS,
): CalibrationPoint[] {
  const points: CalibrationPoint[] = [];
  for (const models of ladders(rungs, MAX_RUNGS)) {
    const ladder: RoutingData = { ...data, models: data.models.filter((m) => models.includes(m.id)) };
    for (const routing of models.length === 1 ? [LONE_MODEL] : routings) {
      const { start, verifier } = routing;
      const consults = consultsPremodel(routing);
      const overheadMs = consults ? data.overheadMs ?? 0 : 0;
      for (const thresholds of thresholdGrid(models.length)) {
        const { accuracy, meanCostMs, right } = consults
          ? replay(ladder, { minAccuracy: 1 }, () => ({ models, thresholds, verifier, start, accuracy: 1 }))
          : replayCascade(ladder, models, thresholds);
        points.push({
          models,
          thresholds,
          verifier,
          start,
          accuracy: round(accuracy),
          meanCostMs: round(meanCostMs + overheadMs),
          accuracyLowerBound: round(accuracyLowerBound(right, groups)),
        });
      }
    }
    tick();
  }
  points.sort((a, b) => a.meanCostMs - b.meanCostMs || b.accuracy - a.accuracy);
  const front: CalibrationPoint[] = [];
  for (const p of points) if (front.length === 0 || p.accuracy > front.at(-1)!.accuracy) front.push(p);
  return front;
}

export interface TrainingInputs {
  manifest: ZooManifest;
  zooHash: string;
  outcomes: OutcomeFile;
  features: number[][];
  /** Source of each row (see LabelledInputs.groups). */
  groups?: readonly number[];
  options: ForestOptions;
  folds: number;
  /**
   * Measures, once the forests are trained, the per-input cost in ms of the features and of the
   * forests a request consults (timing is the caller's side effect); calibration charges it to the
   * routings that consult the premodel. Without it they count as free.
   */
  requestOverheadMs?: (stage1: Record<string, CompiledForest>, stage2: Record<string, CompiledForest>) => number;
}

interface StageResult {
  /** Out-of-fold estimates per model, for calibration. */
  estimates: Record<string, Float64Array>;
  /** Forests trained on every row, for serving. */
  forests: Record<string, CompiledForest>;
}

/**
 * The fold of each row: rows of one group (a volunteer) share a fold, so that out-of-fold estimates
 * are made on people the forests never saw, as on the test split; without groups, row i % folds.
 */
export function assignFolds(n: number, folds: number, groups?: readonly number[]): Uint8Array {
  if (groups === undefined) return Uint8Array.from({ length: n }, (_, i) => i % folds);
  const order = [...new Set(groups)].sort((a, b) => a - b);
  if (order.length < folds) throw new Error(`${folds} folds need at least ${folds} groups, the data has ${order.length}`);
  const foldOf = new Map(order.map((g, i) => [g, i % folds]));
  return Uint8Array.from(groups, (g) => foldOf.get(g)!);
}

/** One stage: per model, k out-of-fold forests for honest estimates, then one on all rows. */
function trainStage(
  rowsOf: (model: string) => number[][],
  correct: Record<string, Uint8Array>,
  options: ForestOptions,
  foldOf: Uint8Array,
  folds: number,
  tick: () => void,
): StageResult {
  const result: StageResult = { estimates: {}, forests: {} };
  for (const [model, right] of Object.entries(correct)) {
    const rows = rowsOf(model);
    const targets = Array.from(right);
    const estimates = new Float64Array(rows.length);
    for (let k = 0; k < folds; k++) {
      const train = rows.flatMap((_, i) => (foldOf[i] !== k ? [i] : []));
      const forest = new PackedForest(
        trainForest(train.map((i) => rows[i]!), train.map((i) => targets[i]!), { ...options, seed: options.seed + 101 * (k + 1) }),
      );
      for (let i = 0; i < rows.length; i++) if (foldOf[i] === k) estimates[i] = forest.predict(rows[i]!);
      tick();
    }
    result.estimates[model] = estimates;
    result.forests[model] = trainForest(rows, targets, options);
    tick();
  }
  return result;
}

export function trainPremodel(inputs: TrainingInputs): PremodelFile {
  const started = performance.now();
  const { manifest, outcomes, features, options, folds } = inputs;
  const models = profiledModels(manifest);
  const n = features.length;
  const correct = Object.fromEntries(models.map((m) => [m.id, correctness(outcomes, m.id)]));
  const foldOf = assignFolds(n, folds, inputs.groups);
  const rungs = paretoModels(manifest).map((m) => m.id);
  const bar = progress('forests, then ladders', models.length * 2 * (folds + 1) + ladders(rungs, MAX_RUNGS).length);
  const tick = () => bar.tick();
  const stage1 = trainStage(() => features, correct, options, foldOf, folds, tick);
  // Every stage-two tree sees the started model's confidence and margin: they carry most of the signal.
  const stage2 = trainStage((id) => stage2Rows(features, outcomes, id), correct, { ...options, maxFeatures: 1, seed: options.seed + 1 }, foldOf, folds, tick);
  const confidence = confidences(outcomes, models.map((m) => m.id));
  const overheadMs = round(inputs.requestOverheadMs?.(stage1.forests, stage2.forests) ?? 0);
  const oof: RoutingData = { models, correct, stage1: stage1.estimates, stage2: stage2.estimates, confidence, overheadMs };
  const calibration = calibrate(oof, rungs, inputs.groups, tick);
  bar.stop();
  const best = models.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  return {
    $comment: `Generated by \`npm run train-premodel -- --task ${manifest.task}\`.`,
    kind: PREMODEL_KIND,
    version: PREMODEL_VERSION,
    task: manifest.task,
    zooHash: inputs.zooHash,
    dataHash: createHash('sha256').update(JSON.stringify(outcomes)).digest('hex'),
    featureNames: [...taskInputs(manifest).featureNames],
    models: models.map((m) => m.id),
    stage1: stage1.forests,
    stage2: stage2.forests,
    calibration,
    bestSingleAccuracy: round(best.accuracy),
    defaultTarget: round(accuracyLowerBound(correct[best.id]!, inputs.groups)),
    training: { options, folds, rows: n, overheadMs, seconds: round((performance.now() - started) / 1000), trainedAt: new Date().toISOString() },
  };
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;

export interface TaskTraining {
  manifest: ZooManifest;
  zooHash: string;
  /** The zoo's outcomes on the premodel split, and the inputs they were measured on. */
  outcomes: OutcomeFile;
  data: LabelledInputs;
  folds: number;
  options: ForestOptions;
}

/**
 * Trains and calibrates a task's premodel from its premodel split: the inputs' features, timed as
 * the request path computes them, and the charge a request that consults the premodel pays (its
 * features, a full ladder's stage one and a stage-two verdict per model it runs: one, for most).
 */
export async function trainTaskPremodel(task: TaskTraining): Promise<{ premodel: PremodelFile; featureUs: number }> {
  const { rows: features, featureUs } = await timedFeatureRows(task.manifest, task.data);
  const premodel = trainPremodel({
    manifest: task.manifest,
    zooHash: task.zooHash,
    outcomes: task.outcomes,
    features,
    ...(task.data.groups === undefined ? {} : { groups: task.data.groups }),
    folds: task.folds,
    requestOverheadMs: (stage1, stage2) => {
      const first = Object.values(stage1).slice(0, MAX_RUNGS);
      return (featureUs + forestUs(first, Object.values(stage2)[0]!, features)) / 1000;
    },
    options: task.options,
  });
  return { premodel, featureUs };
}
