/**
 * Premodel training: from the zoo's recorded outcomes on the premodel split and the cheap
 * features of the same inputs, the two stages of forests per routed model, their out-of-fold
 * estimates (k folds), the calibration of thresholds by replaying routing on those estimates, and
 * the final forests on every row. Nothing here looks at the test split.
 */
import { createHash } from 'node:crypto';
import { taskInputs } from '../inputs/registry.js';
import { PackedForest, trainForest, type CompiledForest, type ForestOptions } from '../premodel/forest.js';
import { pointFor } from '../premodel/operating-point.js';
import { PREMODEL_KIND, PREMODEL_VERSION, type PremodelFile } from '../premodel/premodel.js';
import type { ZooManifest } from '../zoo/manifest.js';
import { aloneFigures, calibrate, ladders, MAX_RUNGS, measuredMargin, rowOptions } from './calibrate.js';
import { driftReference } from './drift-reference.js';
import type { LabelledInputs } from './datasets/splits.js';
import { rowGroups, type OutcomeFile } from './outcomes.js';
import { forestUs, timedFeatureRows } from './overhead.js';
import { progress } from './progress.js';
import { confidences, correctness, type RoutingData } from './replay.js';
import { ladderRungs, rungTable } from './rungs.js';

export const DEFAULT_FOREST: ForestOptions = Object.freeze({
  trees: 12,
  rowsPerTree: 500,
  maxFeatures: 0.5,
  maxDepth: 7,
  minLeafRows: 10,
  seed: 17,
});

export interface TrainingInputs {
  manifest: ZooManifest;
  zooHash: string;
  outcomes: OutcomeFile;
  features: number[][];
  /** The person of each row (see LabelledInputs.groups). */
  groups?: readonly number[];
  /** The input each row encodes (see LabelledInputs.sources). */
  sources?: readonly number[];
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
 * The fold of each row: rows of one key (a volunteer, or the input a row encodes) share a fold, so
 * that out-of-fold estimates are made on people, or inputs, the forests never saw; without keys,
 * row i % folds.
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

function stage2Rows(rows: readonly number[][], outcomes: OutcomeFile, model: string): number[][] {
  const m = outcomes.models[model]!;
  return rows.map((r, i) => [...r, m.confidence[i]!, m.margin[i]!]);
}

export function trainPremodel(inputs: TrainingInputs): PremodelFile {
  const started = performance.now();
  const { manifest, outcomes, features, options, folds } = inputs;
  const models = rungTable(manifest, outcomes);
  const n = features.length;
  const correct = Object.fromEntries(models.map((m) => [m.id, correctness(outcomes, m.id)]));
  const foldOf = assignFolds(n, folds, inputs.groups ?? inputs.sources);
  const rungs = ladderRungs(models);
  const reuses = new Map(rungs.flatMap((r) => (r.reuses === undefined ? [] : [[r.id, r.reuses.rung] as const])));
  const bar = progress('forests, then ladders', models.length * 2 * (folds + 1) + ladders(rungs.map((r) => r.id), MAX_RUNGS, (m) => reuses.get(m)).length);
  const tick = () => bar.tick();
  const stage1 = trainStage(() => features, correct, options, foldOf, folds, tick);
  // Every stage-two tree sees the started model's confidence and margin: they carry most of the signal.
  const stage2 = trainStage((id) => stage2Rows(features, outcomes, id), correct, { ...options, maxFeatures: 1, seed: options.seed + 1 }, foldOf, folds, tick);
  const overheadMs = round(inputs.requestOverheadMs?.(stage1.forests, stage2.forests) ?? 0);
  const oof: RoutingData = { models, correct, stage1: stage1.estimates, stage2: stage2.estimates, confidence: confidences(outcomes, models.map((m) => m.id)), overheadMs };
  const requestGroups = rowGroups(outcomes);
  const margin = round(measuredMargin(Object.fromEntries(models.filter((m) => m.reuses === undefined).map((m) => [m.id, correct[m.id]!])), inputs.groups ?? inputs.sources));
  const calibrationOptions = rowOptions(outcomes, inputs.groups, margin);
  const calibration = calibrate(oof, rungs.map((r) => r.id), { ...calibrationOptions, tick });
  bar.stop();
  // The default target: the most accurate single model's bound (per group), as far as some point
  // vouches for it, so that a request with no constraint is always served a vouched point.
  const alone = aloneFigures(oof, calibrationOptions);
  const plain = models.filter((m) => m.reuses === undefined);
  const best = plain.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const defaultFor = (group: string | undefined) => {
    const bestSingle = Math.max(...plain.map((m) => (group === undefined ? undefined : alone[m.id]!.groups?.[group]) ?? alone[m.id]!.accuracyLowerBound));
    const vouched = Math.max(...calibration.map((p) => pointFor(p, group).bound));
    return round(Math.min(bestSingle, vouched));
  };
  const groupNames = [...new Set(requestGroups ?? [])];
  // Plain models only: a test-time augmentation's confidence is an average of two runs, which drift detection does not follow.
  const drift = driftReference(features, requestGroups, Object.fromEntries(plain.map((m) => [m.id, outcomes.models[m.id]!.confidence])));
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
    alone,
    bestSingleAccuracy: round(best.accuracy),
    defaultTarget: defaultFor(undefined),
    ...(groupNames.length === 0 ? {} : { defaultTargets: Object.fromEntries(groupNames.map((g) => [g, defaultFor(g)])) }),
    drift,
    training: { options, folds, rows: n, overheadMs, margin, seconds: round((performance.now() - started) / 1000), trainedAt: new Date().toISOString() },
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
    ...(task.data.sources === undefined ? {} : { sources: task.data.sources }),
    folds: task.folds,
    requestOverheadMs: (stage1, stage2) => {
      const first = Object.values(stage1).slice(0, MAX_RUNGS);
      return (featureUs + forestUs(first, Object.values(stage2)[0]!, features)) / 1000;
    },
    options: task.options,
  });
  return { premodel, featureUs };
}
