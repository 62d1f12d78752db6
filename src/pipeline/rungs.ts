/**
 * The rungs the premodel routes among, as offline code sees them: every zoo model and every
 * test-time augmentation its manifest declares (zoo/manifest.ts, rungsOf), each with what it costs
 * alone on this machine (a model's profiled p50; an augmentation's two runs, of which the plain
 * one is reused where its model has run) and its accuracy on the premodel split's rows.
 */
import { rungsOf, type ZooManifest } from '../zoo/manifest.js';
import { rowGroups, rowsByKey, type OutcomeFile } from './outcomes.js';
import type { RungCost } from './replay.js';

export interface RungInfo extends RungCost {
  accuracy: number;
  /** Its accuracy on each encoding group's rows, where the outcomes have groups. */
  groupAccuracy?: Record<string, number>;
}

/** Every rung, cheapest alone first; an error naming the command when the zoo is not profiled. */
export function rungTable(manifest: ZooManifest, outcomes: OutcomeFile): RungInfo[] {
  const p50 = new Map(
    manifest.models.map((m) => {
      if (m.latency === undefined) throw new Error(`model ${m.id} has not been profiled: run \`npm run profile -- --task ${manifest.task}\``);
      return [m.id, m.latency.p50Ms];
    }),
  );
  const groups = rowGroups(outcomes);
  const table = rungsOf(manifest).map((r): RungInfo => {
    const recorded = outcomes.models[r.id];
    if (recorded === undefined) throw new Error(`rung ${r.id} has no outcomes: run \`npm run profile -- --task ${manifest.task}\``);
    const right = recorded.predicted.map((p, i) => (p === outcomes.labels[i] ? 1 : 0));
    const ms = p50.get(r.model)!;
    return {
      id: r.id,
      latencyMs: r.view === undefined ? ms : 2 * ms,
      accuracy: right.reduce((n: number, v) => n + v, 0) / outcomes.labels.length,
      ...(groups === undefined ? {} : { groupAccuracy: accuracyByGroup(right, groups) }),
      ...(r.view === undefined ? {} : { reuses: { rung: r.model, ms } }),
    };
  });
  return table.sort((a, b) => a.latencyMs - b.latencyMs);
}

function accuracyByGroup(right: readonly number[], groups: readonly string[]): Record<string, number> {
  const byGroup = rowsByKey(groups.keys(), (i) => groups[i]!);
  return Object.fromEntries([...byGroup].map(([g, rows]) => [g, rows.reduce((hits, i) => hits + right[i]!, 0) / rows.length]));
}

/** The accuracy/latency Pareto front of `rungs` (alone): none other is both cheaper and at least as accurate. */
export function paretoRungs(rungs: readonly RungInfo[]): RungInfo[] {
  return rungs.filter(
    (m) => !rungs.some((o) => o !== m && o.latencyMs <= m.latencyMs && o.accuracy >= m.accuracy && (o.latencyMs < m.latencyMs || o.accuracy > m.accuracy)),
  );
}

/**
 * The rungs ladders are made of: the front of the whole split and of each encoding group (the
 * model best on half-size thumbnails may be off the pooled front: calibration must still be able
 * to serve it to them), and the test-time augmentations of the models on a front, which climb
 * from their model for one more run (alone they may be off it).
 */
export function ladderRungs(rungs: readonly RungInfo[]): RungInfo[] {
  const groups = new Set(rungs.flatMap((r) => Object.keys(r.groupAccuracy ?? {})));
  const fronts = [paretoRungs(rungs), ...[...groups].map((g) => paretoRungs(rungs.map((r) => ({ ...r, accuracy: r.groupAccuracy?.[g] ?? 0 }))))];
  const onFront = new Set(fronts.flat().map((r) => r.id));
  return rungs.filter((r) => onFront.has(r.id) || (r.reuses !== undefined && onFront.has(r.reuses.rung)));
}
