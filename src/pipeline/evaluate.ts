/**
 * Offline evaluation on the test split, which neither the zoo nor the premodel saw, as it is and as
 * clients send it (its inputs in client encodings, each routed with the calibration of the
 * encoding group the decoder saw): every single model, the oracle, two confidence cascades, and
 * the premodel at a sweep of accuracy targets and of latency budgets, side by side. Cost is the
 * profiled batch-1 latency of every model run a request makes, plus, for the premodel, its
 * measured overhead: the route's own work on every request, and the features and forests on those
 * whose operating point consults the premodel.
 *
 * The cascades: the plain one (cheapest rung first through the zoo's Pareto chain, escalating
 * while top-1 confidence is under a swept threshold), and one tuned like the premodel: its ladders
 * and thresholds chosen on the premodel split by the same calibration, with top-1 confidence in
 * place of the premodel's estimates. The second shows what the premodel's learning adds over
 * choosing a good cascade.
 */
import { consultsPremodel, operatingPointIn, type CalibrationPoint, type OperatingPoint, type OperatingPointFor, type Start, type Verifier } from '../premodel/operating-point.js';
import type { Premodel } from '../premodel/premodel.js';
import type { Constraint } from '../select/policy.js';
import type { DeepReadonly } from '../schema/index.js';
import type { ZooManifest } from '../zoo/manifest.js';
import { taskInputs } from '../inputs/registry.js';
import { Z_95 } from '../quality/wilson.js';
import { calibrate, rowOptions } from './calibrate.js';
import { rowsOfOutcomes } from './client-rows.js';
import type { LabelledInputs } from './datasets/splits.js';
import { selectionUs, timedFeatureRows } from './overhead.js';
import { rowEncodings, rowGroups, type OutcomeFile } from './outcomes.js';
import { confidences, correctness, replay, replayCascade, type Replayed, type RoutingData } from './replay.js';
import { ladderRungs, paretoRungs, rungTable } from './rungs.js';

export interface Point {
  label: string;
  accuracy: number;
  meanCostMs: number;
}

export interface TargetPoint extends Point {
  target: number;
  /** The operating point of the rows' group (of the most frequent group, where they differ). */
  ladder: string[];
  thresholds: number[];
  verifier: Verifier;
  start: Start;
  /** Whether the target was met; null where no single model reaches it on these rows. */
  met: boolean | null;
  /** Met within the sampling margin of these rows: accuracy >= target - z * sqrt(target (1 - target) / n). */
  metWithinMargin: boolean | null;
  /** Share of the rows whose served point was vouched for the target: the others answered constraintMet false. */
  vouchedShare: number;
  /** Accuracy on the rows answered constraintMet true (null: none was). */
  vouchedAccuracy: number | null;
  /**
   * The promise: the rows answered constraintMet true reached the target within the sampling margin
   * of as many rows (or none was answered so); null where no single model reaches the target.
   */
  kept: boolean | null;
  /** The premodel's share of the cost: the route, plus the features and forests where consulted. */
  overheadMs: number;
}

export interface EncodingSummary {
  encoding: string;
  rows: number;
  best: { model: string; accuracy: number; meanCostMs: number };
  /** Targets from 80% up to the best single model's accuracy on these rows: how many, and how many met. */
  targets: number;
  met: number;
  metWithinMargin: number;
  /** Targets whose constraintMet-true answers reached them within their sampling margin (TargetPoint.kept). */
  kept: number;
  /** Each reachable target on these rows: what was served, what was vouched, and whether the promise held. */
  points: Pick<TargetPoint, 'target' | 'accuracy' | 'vouchedShare' | 'vouchedAccuracy' | 'kept'>[];
  /** The premodel's cost at the best single model's accuracy (within 0.2 points), as a share of it. */
  costRatioAtBest: number | null;
}

export interface Evaluation {
  task: string;
  /** The test split as it is, or as clients send it. */
  set: 'clean' | 'client';
  inputs: number;
  /** Half-width, in accuracy, of the one-sided 95% sampling margin of a target of 90% on these rows. */
  samplingMargin: number;
  singles: (Point & { model: string })[];
  oracle: Point;
  cascade: (Point & { threshold: number })[];
  tunedCascade: (Point & { target: number; ladder: string[]; thresholds: number[] })[];
  premodelTargets: TargetPoint[];
  /** Requests with no constraint: each row served at its group's default target. */
  premodelDefault: Point & { vouchedShare: number };
  premodelBudgets: (Point & { budgetMs: number })[];
  /** Every operating point some target reaches, cheapest first: the premodel's curve. */
  premodelPoints: (Point & { ladder: string[]; thresholds: number[]; verifier: Verifier; start: Start; bound: number; overheadMs: number })[];
  perEncoding: EncodingSummary[];
  overheadUs: OverheadUs;
  /** Each input feature's share of the splits in all the premodel's forests, most used first. */
  featureImportance: { feature: string; share: number }[];
  headline: Headline;
}

export interface Headline {
  best: { model: string; accuracy: number; meanCostMs: number };
  /** Cheapest premodel target within 0.2 points of the best single model's accuracy, and at it exactly. */
  premodelAtBest: Point | null;
  premodelAtBestExactly: Point | null;
  cascadeAtBest: Point | null;
  tunedCascadeAtBest: Point | null;
  premodelCostRatio: number | null;
  premodelExactCostRatio: number | null;
  cascadeCostRatio: number | null;
  tunedCascadeCostRatio: number | null;
  premodelMaxAccuracy: number;
  overheadShare: number | null;
  /**
   * Targets from 80% up to the best single model's accuracy: how many, met, met within the sampling
   * margin, and met or else answered constraintMet false on every request (honest).
   */
  targets: { reachable: number; met: number; metWithinMargin: number; honest: number; kept: number };
  /**
   * Where the premodel's curve (its operating points and latency budgets) lies above the plain
   * cascade's: each cascade point that no premodel point matches in accuracy at no more cost, with
   * the cheapest premodel point that matches its accuracy (null: none reaches it).
   */
  dearerThanCascade: { cascade: Point; premodel: Point | null }[];
}

/** The premodel's measured cost per request, in microseconds. */
export interface OverheadUs {
  /** The input's features, and the forests a request consults: paid only where the point consults the premodel. */
  features: number;
  premodel: number;
  /** The route and the policy (operating point, selection, escalation): paid by every routed request. */
  route: number;
}

export interface EvaluationInputs {
  manifest: ZooManifest;
  premodel: Premodel;
  set: 'clean' | 'client';
  /** Outcomes on the evaluated rows, and on the premodel split (where the tuned cascade is calibrated). */
  outcomes: OutcomeFile;
  premodelOutcomes: OutcomeFile;
  /** The person of each premodel-split row (see LabelledInputs.groups), for the tuned cascade's bounds. */
  premodelGroups?: readonly number[];
  features: number[][];
  overheadUs: OverheadUs;
}

const TOLERANCE = 0.002; // "at the best model's accuracy": within 0.2 points

function cheapestAtLeast<T extends Point>(points: readonly T[], accuracy: number, tolerance = TOLERANCE): T | null {
  const ok = points.filter((p) => p.accuracy >= accuracy - tolerance);
  return ok.length === 0 ? null : ok.reduce((a, b) => (b.meanCostMs < a.meanCostMs ? b : a));
}

/** One-sided 95% sampling margin of an accuracy near `share` measured on `n` rows. */
function samplingMargin(share: number, n: number): number {
  return Z_95 * Math.sqrt((share * (1 - share)) / Math.max(1, n));
}

/**
 * Whether the answers that said constraintMet: true kept the target: their accuracy reached it
 * within the one-sided 95% sampling margin of as many rows. None said so: kept, vacuously (every
 * answer owned up to falling short).
 */
export function keptPromise(target: number, vouchedAccuracy: number | null, vouchedRows: number): boolean {
  return vouchedAccuracy === null || vouchedRows === 0 || vouchedAccuracy >= target - samplingMargin(target, vouchedRows);
}

/** Accuracy targets swept: every half point from 80% up to the best single model, then finer near it. */
function targetSweep(bestAccuracy: number): number[] {
  const coarse = Array.from({ length: 40 }, (_, i) => 0.8 + i * 0.005);
  const fine = Array.from({ length: 11 }, (_, i) => bestAccuracy - 0.005 + i * 0.001);
  const swept = [...coarse, ...fine].filter((t) => t <= bestAccuracy + 0.0051 && t < 1).map((t) => Math.round(t * 1e4) / 1e4);
  return [...new Set(swept)].sort((a, b) => a - b);
}

/**
 * How much the forests lean on each input feature: its share of all split nodes, stage one and two
 * (stage two's extra inputs, the model's confidence and margin, are left out).
 */
export function featureImportance(premodel: Premodel): { feature: string; share: number }[] {
  const names = premodel.file.featureNames;
  const splits = new Array<number>(names.length).fill(0);
  const forests = [...Object.values(premodel.file.stage1), ...Object.values(premodel.file.stage2)];
  for (const tree of forests.flatMap((f) => f.trees)) for (const f of tree.feature) if (f >= 0 && f < names.length) splits[f]!++;
  const total = splits.reduce((a, b) => a + b, 0) || 1;
  return names.map((feature, i) => ({ feature, share: splits[i]! / total })).sort((a, b) => b.share - a.share);
}

/** The points of `reference` that no point of `curve` matches in accuracy at no more cost. */
export function dearerThan(curve: readonly Point[], reference: readonly Point[]): { cascade: Point; premodel: Point | null }[] {
  return reference.flatMap((r) => {
    const matching = curve.filter((p) => p.accuracy >= r.accuracy);
    const cheapest = matching.length === 0 ? null : matching.reduce((a, b) => (b.meanCostMs < a.meanCostMs ? b : a));
    return cheapest !== null && cheapest.meanCostMs <= r.meanCostMs ? [] : [{ cascade: r, premodel: cheapest }];
  });
}

/** `data` on the rows `rows` only. */
function subset(data: RoutingData, rows: readonly number[]): RoutingData {
  const pick = <A extends Uint8Array | Float64Array>(record: Record<string, A>): Record<string, A> =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v.constructor === Uint8Array ? (Uint8Array.from(rows, (i) => v[i]!) as A) : (Float64Array.from(rows, (i) => v[i]!) as A)]));
  return { ...data, correct: pick(data.correct), stage1: pick(data.stage1), stage2: pick(data.stage2), confidence: pick(data.confidence) };
}

/**
 * Replays every row with its group's operating points (and constraint), as the service routes a
 * request by the encoding group its decoder saw; rows without groups, as one.
 */
function replayByGroup(
  data: RoutingData,
  groups: readonly string[] | undefined,
  request: (group: string | undefined) => { constraint: Constraint; pointFor: OperatingPointFor },
): Replayed & { pointOf: (OperatingPoint | undefined)[] } {
  const n = data.correct[data.models[0]!.id]!.length;
  const right = new Uint8Array(n);
  const cost = new Float64Array(n);
  const pointOf: (OperatingPoint | undefined)[] = new Array(n);
  const rowsOf = new Map<string | undefined, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups?.[i];
    const rows = rowsOf.get(g);
    if (rows === undefined) rowsOf.set(g, [i]);
    else rows.push(i);
  }
  for (const [group, rows] of rowsOf) {
    const { constraint, pointFor } = request(group);
    const r = replay(rowsOf.size === 1 ? data : subset(data, rows), constraint, pointFor);
    const point = constraint.minAccuracy === undefined ? undefined : pointFor(constraint.minAccuracy);
    rows.forEach((row, k) => {
      right[row] = r.right[k]!;
      cost[row] = r.cost[k]!;
      pointOf[row] = point;
    });
  }
  let hits = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    hits += right[i]!;
    total += cost[i]!;
  }
  return { accuracy: hits / n, meanCostMs: total / n, right, cost, pointOf };
}

function statsOn(r: Replayed, rows: readonly number[], extraMs: number): { accuracy: number; meanCostMs: number } {
  let hits = 0;
  let total = 0;
  for (const i of rows) {
    hits += r.right[i]!;
    total += r.cost[i]!;
  }
  return { accuracy: hits / rows.length, meanCostMs: total / rows.length + extraMs };
}

export function evaluate(inputs: EvaluationInputs): Evaluation {
  const { manifest, premodel, outcomes, features } = inputs;
  const n = outcomes.labels.length;
  const rungs = rungTable(manifest, outcomes);
  const correct = Object.fromEntries(rungs.map((m) => [m.id, correctness(outcomes, m.id)]));
  const groups = rowGroups(outcomes);
  const plainRungs = rungs.filter((r) => r.reuses === undefined);
  const singleOn = (rows: readonly number[]) =>
    plainRungs.map((m) => ({ label: m.id, model: m.id, accuracy: rows.reduce((a, i) => a + correct[m.id]![i]!, 0) / rows.length, meanCostMs: m.latencyMs }));
  const allRows = Array.from({ length: n }, (_, i) => i);
  const singles = singleOn(allRows);
  const bestOf = (points: readonly (Point & { model: string })[]) =>
    points.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.meanCostMs < a.meanCostMs) ? b : a));

  const byCost = [...plainRungs].sort((a, b) => a.latencyMs - b.latencyMs);
  let oracleRight = 0;
  let oracleCost = 0;
  for (let i = 0; i < n; i++) {
    const right = byCost.find((m) => correct[m.id]![i] === 1);
    oracleRight += right === undefined ? 0 : 1;
    oracleCost += (right ?? byCost[0]!).latencyMs;
  }
  const oracle = { label: 'oracle', accuracy: oracleRight / n, meanCostMs: oracleCost / n };

  const routing: RoutingData = {
    models: rungs.filter((r) => premodel.models.includes(r.id)),
    correct,
    stage1: {},
    stage2: {},
    confidence: confidences(outcomes, premodel.models),
  };
  // Confidence cascade over the Pareto chain: stop at the first model whose top-1 confidence reaches t.
  const chain = paretoRungs(plainRungs).map((m) => m.id);
  const cascade = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999].map((t) => {
    const { accuracy, meanCostMs } = replayCascade(routing, chain, chain.map(() => t));
    return { label: `cascade ${t}`, threshold: t, accuracy, meanCostMs };
  });

  const estimates = features.map((row) => premodel.estimate(row));
  for (const id of premodel.models) {
    routing.stage1[id] = Float64Array.from(estimates, (e) => e.get(id)!);
    routing.stage2[id] = Float64Array.from(features, (row, i) => premodel.confirm(id, row, outcomes.models[id]!.confidence[i]!, outcomes.models[id]!.margin[i]!));
  }
  const routeMs = inputs.overheadUs.route / 1000;
  const consultedMs = routeMs + (inputs.overheadUs.features + inputs.overheadUs.premodel) / 1000;
  const overheadOf = (point: OperatingPoint | undefined) => (point === undefined || consultsPremodel(point) ? consultedMs : routeMs);
  const best = bestOf(singles);
  const targets = targetSweep(best.accuracy);
  const pointsOf = (group: string | undefined): OperatingPointFor => (a) => premodel.operatingPoint(a, group);
  /** Mean overhead of a replay: each row's point's. */
  const overheadOn = (r: ReturnType<typeof replayByGroup>, rows: readonly number[]) => rows.reduce((a, i) => a + overheadOf(r.pointOf[i]), 0) / rows.length;
  const vouchedRows = (r: ReturnType<typeof replayByGroup>, rows: readonly number[], target: number) => rows.filter((i) => (r.pointOf[i]?.accuracy ?? 0) >= target);

  const targetReplays = targets.map((target) => ({ target, replayed: replayByGroup(routing, groups, (g) => ({ constraint: { minAccuracy: target }, pointFor: pointsOf(g) })) }));
  const targetPoint = (target: number, replayed: ReturnType<typeof replayByGroup>, rows: readonly number[], bestAccuracy: number, rowGroups = groups): TargetPoint => {
    const overheadMs = overheadOn(replayed, rows);
    const { accuracy, meanCostMs } = statsOn(replayed, rows, overheadMs);
    // The most frequent group's point stands for the row set in the table.
    const point = premodel.operatingPoint(target, mostFrequent(rows.map((i) => rowGroups?.[i])));
    const reachable = bestAccuracy >= target;
    const vouched = vouchedRows(replayed, rows, target);
    const vouchedAccuracy = vouched.length === 0 ? null : statsOn(replayed, vouched, 0).accuracy;
    return {
      label: `minAccuracy ${target}`,
      target,
      ladder: [...point.models],
      thresholds: [...point.thresholds],
      verifier: point.verifier,
      start: point.start,
      accuracy,
      meanCostMs,
      overheadMs,
      met: reachable ? accuracy >= target : null,
      metWithinMargin: reachable ? accuracy >= target - samplingMargin(target, rows.length) : null,
      vouchedShare: vouched.length / rows.length,
      vouchedAccuracy,
      kept: reachable ? keptPromise(target, vouchedAccuracy, vouched.length) : null,
    };
  };
  const premodelTargets = targetReplays.map(({ target, replayed }) => targetPoint(target, replayed, allRows, best.accuracy));

  const defaults = replayByGroup(routing, groups, (g) => ({ constraint: { minAccuracy: premodel.defaultTarget(g) }, pointFor: pointsOf(g) }));
  const defaultOverhead = overheadOn(defaults, allRows);
  const premodelDefault = {
    label: 'no constraint (each group at its default target)',
    accuracy: defaults.accuracy,
    meanCostMs: defaults.meanCostMs + defaultOverhead,
    vouchedShare: allRows.filter((i) => (defaults.pointOf[i]?.accuracy ?? 0) >= premodel.defaultTarget(groups?.[i]) - 1e-12).length / n,
  };

  // The curve: every operating point, whatever target reaches it, replayed on every row.
  const premodelPoints = premodel.file.calibration
    .map((c) => {
      const point: OperatingPoint = { models: c.models, thresholds: c.thresholds, verifier: c.verifier, start: c.start, accuracy: c.accuracyLowerBound };
      const r = replay(routing, { minAccuracy: point.accuracy }, () => point);
      const overheadMs = overheadOf(point);
      return {
        label: `${point.models.join(' > ')} @ ${point.thresholds.map((t) => t.toFixed(2)).join(' / ')}`,
        ladder: [...point.models],
        thresholds: [...point.thresholds],
        verifier: point.verifier,
        start: point.start,
        bound: point.accuracy,
        accuracy: r.accuracy,
        meanCostMs: r.meanCostMs + overheadMs,
        overheadMs,
      };
    })
    .sort((a, b) => a.meanCostMs - b.meanCostMs);
  const premodelBudgets = routing.models
    .filter((m) => m.reuses === undefined)
    .map((m) => {
      const budgetMs = Math.round(m.latencyMs * 1.05 * 1e4) / 1e4;
      const r = replayByGroup(routing, groups, (g) => ({ constraint: { maxLatencyMs: budgetMs }, pointFor: pointsOf(g) }));
      return { label: `maxLatencyMs ${budgetMs}`, budgetMs, accuracy: r.accuracy, meanCostMs: r.meanCostMs + consultedMs };
    });

  // The tuned cascade: calibrated on the premodel split like the premodel, with no stage one (every
  // ladder starts at its cheapest rung) and confidence as the only verifier.
  const cascadeOn = (file: OutcomeFile): RoutingData => {
    const table = rungTable(manifest, file).filter((r) => premodel.models.includes(r.id));
    const none = Object.fromEntries(table.map((m) => [m.id, new Float64Array(file.labels.length)]));
    return { models: table, correct: Object.fromEntries(table.map((m) => [m.id, correctness(file, m.id)])), stage1: none, stage2: none, confidence: confidences(file, table.map((m) => m.id)) };
  };
  const cascadePoints = calibrate(cascadeOn(inputs.premodelOutcomes), ladderRungs(rungTable(manifest, inputs.premodelOutcomes)).map((m) => m.id), {
    ...rowOptions(inputs.premodelOutcomes, inputs.premodelGroups, premodel.file.training.margin),
    routings: [{ start: 'cheapest', verifier: 'confidence' }],
  });
  const cascadeTest = cascadeOn(outcomes);
  const tunedCascade = targets.map((target) => {
    const cascadePointsOf = (g: string | undefined): OperatingPointFor => (a) => operatingPointIn(cascadePoints as DeepReadonly<CalibrationPoint>[], a, g);
    const r = replayByGroup(cascadeTest, groups, (g) => ({ constraint: { minAccuracy: target }, pointFor: cascadePointsOf(g) }));
    const point = cascadePointsOf(mostFrequent(groups ?? []))(target);
    return { label: `tuned cascade ${target}`, target, ladder: [...point.models], thresholds: [...point.thresholds], accuracy: r.accuracy, meanCostMs: r.meanCostMs };
  });

  // Per client encoding: the same sweep on its rows.
  const encodings = rowEncodings(outcomes);
  const perEncoding: EncodingSummary[] = [];
  if (encodings !== undefined) {
    for (const encoding of [...new Set(encodings)]) {
      const rows = allRows.filter((i) => encodings[i] === encoding);
      const bestHere = bestOf(singleOn(rows));
      // The encoding's own sweep, up to its own best single model, over its rows alone.
      const data = subset(routing, rows);
      const rowGroupsHere = groups === undefined ? undefined : rows.map((i) => groups[i]!);
      const own = Array.from({ length: rows.length }, (_, k) => k);
      const points = targetSweep(bestHere.accuracy).map((target) =>
        targetPoint(target, replayByGroup(data, rowGroupsHere, (g) => ({ constraint: { minAccuracy: target }, pointFor: pointsOf(g) })), own, bestHere.accuracy, rowGroupsHere),
      );
      const reachable = points.filter((p) => p.met !== null);
      const atBest = cheapestAtLeast(points, bestHere.accuracy);
      perEncoding.push({
        encoding,
        rows: rows.length,
        best: { model: bestHere.model, accuracy: bestHere.accuracy, meanCostMs: bestHere.meanCostMs },
        targets: reachable.length,
        met: reachable.filter((p) => p.met).length,
        metWithinMargin: reachable.filter((p) => p.metWithinMargin).length,
        kept: reachable.filter((p) => p.kept).length,
        points: reachable.map(({ target, accuracy, vouchedShare, vouchedAccuracy, kept }) => ({ target, accuracy, vouchedShare, vouchedAccuracy, kept })),
        costRatioAtBest: atBest && atBest.meanCostMs / bestHere.meanCostMs,
      });
    }
  }

  const premodelAtBest = cheapestAtLeast(premodelTargets, best.accuracy);
  const premodelAtBestExactly = cheapestAtLeast(premodelTargets, best.accuracy, 0);
  const cascadeAtBest = cheapestAtLeast(cascade, best.accuracy);
  const tunedCascadeAtBest = cheapestAtLeast(tunedCascade, best.accuracy);
  const reachable = premodelTargets.filter((p) => p.met !== null);
  return {
    task: manifest.task,
    set: inputs.set,
    inputs: n,
    samplingMargin: samplingMargin(0.9, n),
    singles,
    oracle,
    cascade,
    tunedCascade,
    premodelTargets,
    premodelDefault,
    premodelBudgets,
    premodelPoints,
    perEncoding,
    overheadUs: inputs.overheadUs,
    featureImportance: featureImportance(premodel),
    headline: {
      best: { model: best.model, accuracy: best.accuracy, meanCostMs: best.meanCostMs },
      premodelAtBest,
      premodelAtBestExactly,
      cascadeAtBest,
      tunedCascadeAtBest,
      premodelCostRatio: premodelAtBest && premodelAtBest.meanCostMs / best.meanCostMs,
      premodelExactCostRatio: premodelAtBestExactly && premodelAtBestExactly.meanCostMs / best.meanCostMs,
      cascadeCostRatio: cascadeAtBest && cascadeAtBest.meanCostMs / best.meanCostMs,
      tunedCascadeCostRatio: tunedCascadeAtBest && tunedCascadeAtBest.meanCostMs / best.meanCostMs,
      premodelMaxAccuracy: Math.max(...premodelPoints.map((p) => p.accuracy), ...premodelBudgets.map((p) => p.accuracy)),
      overheadShare: premodelAtBest && (premodelAtBest as TargetPoint).overheadMs / premodelAtBest.meanCostMs,
      targets: {
        reachable: reachable.length,
        met: reachable.filter((p) => p.met).length,
        metWithinMargin: reachable.filter((p) => p.metWithinMargin).length,
        honest: reachable.filter((p) => p.met || p.vouchedShare === 0).length,
        kept: reachable.filter((p) => p.kept).length,
      },
      dearerThanCascade: dearerThan([...premodelPoints, ...premodelBudgets], cascade),
    },
  };
}

function mostFrequent(values: readonly (string | undefined)[]): string | undefined {
  const counts = new Map<string | undefined, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let most = 0;
  for (const [v, c] of counts) if (c > most) [best, most] = [v, c];
  return best;
}

/** The profiled latency of each rung alone, for a caller that times the route on these outcomes. */
export function latencyOf(manifest: ZooManifest, outcomes: OutcomeFile): Map<string, number> {
  return new Map(rungTable(manifest, outcomes).map((r) => [r.id, r.latencyMs]));
}

export interface TaskEvaluation {
  /** The measured margin the premodel's bounds carry, in units of the error rate. */
  margin: number;
  clean: Evaluation;
  /** The test split as clients send it (kinds with client encodings). */
  client?: Evaluation;
}

/**
 * Evaluates a task's premodel on its test split, as it is and as clients send it (the rows the
 * profiler measured, rebuilt from the outcome files' plans), with the premodel's overhead timed
 * on these rows as the request path pays it.
 */
export async function evaluateTask(task: {
  manifest: ZooManifest;
  premodel: Premodel;
  outcomes: { premodel: OutcomeFile; test: OutcomeFile; testClient?: OutcomeFile };
  /** The test split, and the rows calibration learned from (the premodel outcomes' rows: task-steps.ts calibrationRowsAt). */
  splits: { test: LabelledInputs; premodel: LabelledInputs };
}): Promise<TaskEvaluation> {
  const { manifest, premodel, outcomes, splits } = task;
  const inputs = taskInputs(manifest);
  const run = async (set: 'clean' | 'client', file: OutcomeFile): Promise<Evaluation> => {
    const { rows: features, featureUs } = await timedFeatureRows(manifest, rowsOfOutcomes(splits.test, inputs, file.rows));
    const selection = selectionUs(premodel, latencyOf(manifest, file), file, features);
    return evaluate({
      manifest,
      premodel,
      set,
      outcomes: file,
      premodelOutcomes: outcomes.premodel,
      ...(splits.premodel.groups === undefined ? {} : { premodelGroups: splits.premodel.groups }),
      features,
      overheadUs: { features: featureUs, ...selection },
    });
  };
  const clean = await run('clean', outcomes.test);
  const margin = premodel.file.training.margin;
  return outcomes.testClient === undefined ? { margin, clean } : { margin, clean, client: await run('client', outcomes.testClient) };
}
