/**
 * Offline evaluation on the test split, which neither the zoo nor the premodel saw: every single
 * model, the oracle, two confidence cascades, and the premodel at a sweep of accuracy targets and
 * of latency budgets, side by side. Cost is the profiled batch-1 latency of every model a request
 * runs, plus, for the premodel, its measured overhead: the route's own work on every request, and
 * the features and forests on those whose operating point consults them.
 *
 * The cascades: the plain one (cheapest model first through the zoo's Pareto chain, escalating
 * while top-1 confidence is under a swept threshold), and one tuned like the premodel: its ladders
 * and thresholds chosen on the premodel split by the same calibration, with top-1 confidence in
 * place of the premodel's estimates. The second shows what the premodel's learning adds over
 * choosing a good cascade.
 */
import { consultsPremodel, operatingPointIn, type OperatingPoint, type Start, type Verifier } from '../premodel/operating-point.js';
import type { Premodel } from '../premodel/premodel.js';
import type { ZooManifest } from '../zoo/manifest.js';
import type { OutcomeFile } from './outcomes.js';
import { calibrate, confidences, correctness, paretoModels, replay, replayCascade, type RoutingData } from './train-premodel.js';

export interface Point {
  label: string;
  accuracy: number;
  meanCostMs: number;
}

export interface Evaluation {
  task: string;
  inputs: number;
  singles: (Point & { model: string })[];
  oracle: Point;
  cascade: (Point & { threshold: number })[];
  tunedCascade: (Point & { target: number; ladder: string[]; thresholds: number[] })[];
  premodelTargets: (Point & {
    target: number;
    ladder: string[];
    thresholds: number[];
    verifier: Verifier;
    start: Start;
    met: boolean | null;
    /** The premodel's share of the cost: the route, plus the features and forests where consulted. */
    overheadMs: number;
  })[];
  premodelBudgets: (Point & { budgetMs: number })[];
  /** Every operating point some target reaches (the target equal to its bound), cheapest first: the premodel's curve. */
  premodelPoints: (Point & { ladder: string[]; thresholds: number[]; verifier: Verifier; start: Start; bound: number; overheadMs: number })[];
  overheadUs: OverheadUs;
  /** Each input feature's share of the splits in all the premodel's forests, most used first. */
  featureImportance: { feature: string; share: number }[];
  headline: Headline;
}

export interface Headline {
  best: { model: string; accuracy: number; meanCostMs: number };
  /** Cheapest premodel point within 0.2 points of the best single model's accuracy. */
  premodelAtBest: Point | null;
  cascadeAtBest: Point | null;
  tunedCascadeAtBest: Point | null;
  premodelCostRatio: number | null;
  cascadeCostRatio: number | null;
  tunedCascadeCostRatio: number | null;
  premodelMaxAccuracy: number;
  overheadShare: number | null;
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
  /** Outcomes on the test split, and on the premodel split (where the tuned cascade is calibrated). */
  outcomes: OutcomeFile;
  premodelOutcomes: OutcomeFile;
  /** Source of each premodel-split row (see LabelledInputs.groups), for the tuned cascade's bounds. */
  premodelGroups?: readonly number[];
  features: number[][];
  overheadUs: OverheadUs;
}

const TOLERANCE = 0.002; // "at the best model's accuracy": within 0.2 points

function cheapestAtLeast<T extends Point>(points: readonly T[], accuracy: number): T | null {
  const ok = points.filter((p) => p.accuracy >= accuracy - TOLERANCE);
  return ok.length === 0 ? null : ok.reduce((a, b) => (b.meanCostMs < a.meanCostMs ? b : a));
}

/**
 * Accuracy targets swept: every half point from 80% up to the best single model, then finer near
 * it, and the default target as requests with no constraint get it (not rounded: a point's bound
 * may equal it).
 */
function targetSweep(bestAccuracy: number, defaultTarget: number): number[] {
  const coarse = Array.from({ length: 30 }, (_, i) => 0.8 + i * 0.005);
  const fine = Array.from({ length: 11 }, (_, i) => bestAccuracy - 0.005 + i * 0.001);
  const swept = [...coarse, ...fine].filter((t) => t <= bestAccuracy + 0.0051).map((t) => Math.round(t * 1e4) / 1e4);
  return [...new Set([...swept, defaultTarget])].sort((a, b) => a - b);
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

export function evaluate(inputs: EvaluationInputs): Evaluation {
  const { manifest, premodel, outcomes, features } = inputs;
  const n = outcomes.labels.length;
  const latency = new Map(manifest.models.map((m) => [m.id, m.latency!.p50Ms]));
  const correct = Object.fromEntries(manifest.models.map((m) => [m.id, correctness(outcomes, m.id)]));
  const share = (hits: number) => hits / n;

  const singles = manifest.models.map((m) => ({
    label: m.id,
    model: m.id,
    accuracy: share(correct[m.id]!.reduce((a, b) => a + b, 0)),
    meanCostMs: latency.get(m.id)!,
  }));

  const byCost = [...manifest.models].sort((a, b) => latency.get(a.id)! - latency.get(b.id)!);
  let oracleRight = 0;
  let oracleCost = 0;
  for (let i = 0; i < n; i++) {
    const right = byCost.find((m) => correct[m.id]![i] === 1);
    oracleRight += right === undefined ? 0 : 1;
    oracleCost += latency.get((right ?? byCost[0]!).id)!;
  }
  const oracle = { label: 'oracle', accuracy: share(oracleRight), meanCostMs: oracleCost / n };

  // Confidence cascade over the Pareto chain: stop at the first model whose top-1 confidence reaches t.
  const chain = paretoModels(manifest);
  const routing: RoutingData = {
    models: premodel.models.map((id) => ({ id, latencyMs: latency.get(id)! })),
    correct,
    stage1: {},
    stage2: {},
    confidence: confidences(outcomes, premodel.models),
  };
  const cascade = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999].map((t) => {
    const { accuracy, meanCostMs } = replayCascade(routing, chain.map((m) => m.id), chain.map(() => t));
    return { label: `cascade ${t}`, threshold: t, accuracy, meanCostMs };
  });

  const estimates = features.map((row) => premodel.estimate(row));
  for (const id of premodel.models) {
    routing.stage1[id] = Float64Array.from(estimates, (e) => e.get(id)!);
    routing.stage2[id] = Float64Array.from(features, (row, i) =>
      premodel.confirm(id, row, outcomes.models[id]!.confidence[i]!, outcomes.models[id]!.margin[i]!),
    );
  }
  const routeMs = inputs.overheadUs.route / 1000;
  const consultedMs = routeMs + (inputs.overheadUs.features + inputs.overheadUs.premodel) / 1000;
  const best = singles.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.meanCostMs < a.meanCostMs) ? b : a));
  const targets = targetSweep(best.accuracy, premodel.defaultTarget);
  /** A point replayed on the test split, its cost with the overhead its routing pays. */
  const replayPoint = (point: OperatingPoint, target: number) => {
    const r = replay(routing, { minAccuracy: target }, () => point);
    const overheadMs = consultsPremodel(point) ? consultedMs : routeMs;
    const { verifier, start } = point;
    return { ladder: [...point.models], thresholds: [...point.thresholds], verifier, start, accuracy: r.accuracy, meanCostMs: r.meanCostMs + overheadMs, overheadMs };
  };
  const premodelTargets = targets.map((target) => {
    const replayed = replayPoint(premodel.operatingPoint(target), target);
    return { label: `minAccuracy ${target}`, target, ...replayed, met: best.accuracy >= target ? replayed.accuracy >= target : null };
  });
  // The curve: every operating point some target reaches, not only those of the sweep.
  const reachable = new Set(premodel.file.calibration.map((c) => premodel.operatingPoint(c.accuracyLowerBound)));
  const premodelPoints = [...reachable]
    .map((point) => ({
      label: `${point.models.join(' > ')} @ ${point.thresholds.map((t) => t.toFixed(2)).join(' / ')}`,
      bound: point.accuracy,
      ...replayPoint(point, point.accuracy),
    }))
    .sort((a, b) => a.meanCostMs - b.meanCostMs);
  const premodelBudgets = routing.models.map((m) => {
    const budgetMs = Math.round(m.latencyMs * 1.05 * 1e4) / 1e4;
    const r = replay(routing, { maxLatencyMs: budgetMs }, (a) => premodel.operatingPoint(a));
    return { label: `maxLatencyMs ${budgetMs}`, budgetMs, accuracy: r.accuracy, meanCostMs: r.meanCostMs + consultedMs };
  });

  // The tuned cascade: calibrated on the premodel split like the premodel, with no stage one (every
  // ladder starts at its cheapest rung) and confidence as the only verifier.
  const cascadeOn = (file: OutcomeFile): RoutingData => {
    const none = Object.fromEntries(routing.models.map((m) => [m.id, new Float64Array(file.labels.length)]));
    return {
      models: routing.models,
      correct: Object.fromEntries(routing.models.map((m) => [m.id, correctness(file, m.id)])),
      stage1: none,
      stage2: none,
      confidence: confidences(file, premodel.models),
    };
  };
  const cascadePoints = calibrate(cascadeOn(inputs.premodelOutcomes), paretoModels(manifest).map((m) => m.id), inputs.premodelGroups, undefined, [
    { start: 'cheapest', verifier: 'confidence' },
  ]);
  const cascadeTest = cascadeOn(outcomes);
  const tunedCascade = targets.map((target) => {
    const point = operatingPointIn(cascadePoints, target);
    const { accuracy, meanCostMs } = replay(cascadeTest, { minAccuracy: target }, () => point);
    return { label: `tuned cascade ${target}`, target, ladder: [...point.models], thresholds: [...point.thresholds], accuracy, meanCostMs };
  });

  const premodelAtBest = cheapestAtLeast(premodelTargets, best.accuracy);
  const cascadeAtBest = cheapestAtLeast(cascade, best.accuracy);
  const tunedCascadeAtBest = cheapestAtLeast(tunedCascade, best.accuracy);
  return {
    task: manifest.task,
    inputs: n,
    singles,
    oracle,
    cascade,
    tunedCascade,
    premodelTargets,
    premodelBudgets,
    premodelPoints,
    overheadUs: inputs.overheadUs,
    featureImportance: featureImportance(premodel),
    headline: {
      best: { model: best.model, accuracy: best.accuracy, meanCostMs: best.meanCostMs },
      premodelAtBest,
      cascadeAtBest,
      tunedCascadeAtBest,
      premodelCostRatio: premodelAtBest && premodelAtBest.meanCostMs / best.meanCostMs,
      cascadeCostRatio: cascadeAtBest && cascadeAtBest.meanCostMs / best.meanCostMs,
      tunedCascadeCostRatio: tunedCascadeAtBest && tunedCascadeAtBest.meanCostMs / best.meanCostMs,
      premodelMaxAccuracy: Math.max(...premodelPoints.map((p) => p.accuracy), ...premodelBudgets.map((p) => p.accuracy)),
      overheadShare: premodelAtBest && premodelAtBest.overheadMs / premodelAtBest.meanCostMs,
      dearerThanCascade: dearerThan([...premodelPoints, ...premodelBudgets], cascade),
    },
  };
}
