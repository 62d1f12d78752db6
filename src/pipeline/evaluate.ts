/**
 * Offline evaluation on the test split, which neither the zoo nor the premodel saw: every single
 * model, the oracle, a confidence cascade (thresholds swept), and the premodel at a sweep of
 * accuracy targets and of latency budgets, side by side. Cost is the profiled batch-1 latency of
 * every model a request runs, plus, for the premodel, its measured features and forest overhead.
 */
import type { Premodel } from '../premodel/premodel.js';
import type { ZooManifest } from '../zoo/manifest.js';
import type { OutcomeFile } from './outcomes.js';
import { correctness, paretoModels, replay, type RoutingData } from './train-premodel.js';

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
  premodelTargets: (Point & { target: number; threshold: number; met: boolean | null })[];
  premodelBudgets: (Point & { budgetMs: number })[];
  overheadUs: { features: number; premodel: number };
  headline: Headline;
}

export interface Headline {
  best: { model: string; accuracy: number; meanCostMs: number };
  /** Cheapest premodel point within 0.2 points of the best single model's accuracy. */
  premodelAtBest: Point | null;
  cascadeAtBest: Point | null;
  premodelCostRatio: number | null;
  cascadeCostRatio: number | null;
  premodelMaxAccuracy: number;
  overheadShare: number | null;
}

export interface EvaluationInputs {
  manifest: ZooManifest;
  premodel: Premodel;
  outcomes: OutcomeFile;
  features: number[][];
  overheadUs: { features: number; premodel: number };
}

const TOLERANCE = 0.002; // "at the best model's accuracy": within 0.2 points

function cheapestAtLeast<T extends Point>(points: readonly T[], accuracy: number): T | null {
  const ok = points.filter((p) => p.accuracy >= accuracy - TOLERANCE);
  return ok.length === 0 ? null : ok.reduce((a, b) => (b.meanCostMs < a.meanCostMs ? b : a));
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
  const cascade = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 0.9999].map((t) => {
    let right = 0;
    let cost = 0;
    for (let i = 0; i < n; i++) {
      for (const [k, m] of chain.entries()) {
        cost += m.latencyMs;
        if (outcomes.models[m.id]!.confidence[i]! >= t || k === chain.length - 1) {
          right += correct[m.id]![i]!;
          break;
        }
      }
    }
    return { label: `cascade ${t}`, threshold: t, accuracy: share(right), meanCostMs: cost / n };
  });

  const routing: RoutingData = {
    models: premodel.models.map((id) => ({ id, latencyMs: latency.get(id)! })),
    correct,
    stage1: {},
    stage2: {},
  };
  const estimates = features.map((row) => premodel.estimate(row));
  for (const id of premodel.models) {
    routing.stage1[id] = Float64Array.from(estimates, (e) => e.get(id)!);
    routing.stage2[id] = Float64Array.from(features, (row, i) =>
      premodel.confirm(id, row, outcomes.models[id]!.confidence[i]!, outcomes.models[id]!.margin[i]!),
    );
  }
  const overheadMs = (inputs.overheadUs.features + inputs.overheadUs.premodel) / 1000;
  const best = singles.reduce((a, b) => (b.accuracy > a.accuracy || (b.accuracy === a.accuracy && b.meanCostMs < a.meanCostMs) ? b : a));
  const targets = [...new Set([0.8, 0.85, 0.88, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, best.accuracy, premodel.file.bestSingleAccuracy].map((t) => Math.round(t * 1e4) / 1e4))]
    .sort((a, b) => a - b);
  const premodelTargets = targets.map((target) => {
    const threshold = premodel.thresholdFor(target);
    const r = replay(routing, { minAccuracy: target }, () => threshold);
    return {
      label: `minAccuracy ${target}`,
      target,
      threshold,
      accuracy: r.accuracy,
      meanCostMs: r.meanCostMs + overheadMs,
      met: best.accuracy >= target ? r.accuracy >= target : null,
    };
  });
  const premodelBudgets = routing.models.map((m) => {
    const budgetMs = Math.round(m.latencyMs * 1.05 * 1e4) / 1e4;
    const r = replay(routing, { maxLatencyMs: budgetMs }, () => 1);
    return { label: `maxLatencyMs ${budgetMs}`, budgetMs, accuracy: r.accuracy, meanCostMs: r.meanCostMs + overheadMs };
  });

  const premodelAtBest = cheapestAtLeast(premodelTargets, best.accuracy);
  const cascadeAtBest = cheapestAtLeast(cascade, best.accuracy);
  return {
    task: manifest.task,
    inputs: n,
    singles,
    oracle,
    cascade,
    premodelTargets,
    premodelBudgets,
    overheadUs: inputs.overheadUs,
    headline: {
      best: { model: best.model, accuracy: best.accuracy, meanCostMs: best.meanCostMs },
      premodelAtBest,
      cascadeAtBest,
      premodelCostRatio: premodelAtBest && premodelAtBest.meanCostMs / best.meanCostMs,
      cascadeCostRatio: cascadeAtBest && cascadeAtBest.meanCostMs / best.meanCostMs,
      premodelMaxAccuracy: Math.max(...premodelTargets.map((p) => p.accuracy), ...premodelBudgets.map((p) => p.accuracy)),
      overheadShare: premodelAtBest && overheadMs / premodelAtBest.meanCostMs,
    },
  };
}
