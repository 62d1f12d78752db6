/**
 * Calibration: the operating points worth serving, found by replaying every ladder of the zoo's
 * rungs, routed each way and at every threshold of its grid, on out-of-fold estimates of the
 * premodel split; each point with the accuracy it can vouch for on new data:
 * - per encoding group of the rows (what the decoder sees of how a client sent an image), where
 *   the kind has groups: a target is served, for each request, from the cheapest point whose bound
 *   for that request's group reaches it; a group calibration never saw gets the worst group's. A
 *   group's bound covers the worst client encoding calibration saw in it: the service sees the
 *   group, not the encoding, and a client may send only the hardest one;
 * - a lower bound that holds for a new sample (bounds.ts), less a measured margin: how far one
 *   half of the data's accuracy strays from the other's (`measuredMargin`), since a deployment's
 *   inputs are another sample, or other people, than the premodel split.
 * Kept are the points that some group (or the whole split) has on its front of cost against
 * bound, and the single model it measured most accurate, cheapest first. A one-rung ladder is
 * that model alone, so the table never does worse than serving a single model.
 */
import { consultsPremodel, type CalibrationPoint, type Start, type Verifier } from '../premodel/operating-point.js';
import { accuracyLowerBound } from './bounds.js';
import { rowEncodings, rowGroups, rowsByKey, type OutcomeFile } from './outcomes.js';
import { replay, replayCascade, type Replayed, type RoutingData } from './replay.js';

/** Thresholds tried on every ladder by calibration. */
export const CALIBRATION_THRESHOLDS: readonly number[] = Object.freeze([
  0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98,
]);

/**
 * How a ladder may be routed, tried for each: the premodel's two stages (stage one picks where to
 * start, stage two judges each answer), or a plain cascade (start at the cheapest rung, each model's
 * own top-1 confidence judges its answer).
 */
export const ROUTINGS: readonly { start: Start; verifier: Verifier }[] = Object.freeze([
  { start: 'premodel', verifier: 'premodel' },
  { start: 'cheapest', verifier: 'confidence' },
]);

/** Middle-rung thresholds tried below the first rung's (see thresholdGrid). */
export const LAXER_MIDDLE_THRESHOLDS: readonly number[] = Object.freeze([0.5, 0.7]);

/** Rungs of a ladder at most: every rung more is one more model run on the hardest inputs. */
export const MAX_RUNGS = 3;

/** A lone model has nothing to decide: it is served as a cascade of one, which consults no forest. */
const LONE_MODEL: { start: Start; verifier: Verifier } = Object.freeze({ start: 'cheapest', verifier: 'confidence' });

/**
 * Every ladder of at most `maxRungs` of `models` (cheapest first), each cheapest first. A rung that
 * reuses another's run (`reusesOf`) climbs straight from that rung: it appears only right after it.
 */
export function ladders(models: readonly string[], maxRungs: number, reusesOf: (model: string) => string | undefined = () => undefined): string[][] {
  const result: string[][] = [];
  const extend = (ladder: string[], from: number) => {
    if (ladder.length > 0) result.push(ladder);
    if (ladder.length === maxRungs) return;
    for (let i = from; i < models.length; i++) {
      const reused = reusesOf(models[i]!);
      if (reused !== undefined && ladder.at(-1) !== reused) continue;
      extend([...ladder, models[i]!], i + 1);
    }
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
 * How far the accuracy of one half of the data strays from the other's: for each single rung, the
 * standard deviation of its accuracy on the two halves (rows split by key in their order, a person
 * or the input a row encodes: what a new sample from elsewhere brings, another group of people or
 * another stretch of the data set), the median over the rungs. Calibration subtracts it from every
 * bound: the bound itself allows for sampling, and for one new person; this allows for the next
 * sample being another population than the premodel split.
 */
export function measuredMargin(correct: Readonly<Record<string, Uint8Array>>, keys?: readonly number[]): number {
  const first = Object.values(correct)[0];
  if (first === undefined || first.length < 2) return 0;
  const n = first.length;
  const key = (i: number) => keys?.[i] ?? i;
  const order = [...new Set(Array.from({ length: n }, (_, i) => key(i)))].sort((a, b) => a - b);
  const firstHalf = new Set(order.slice(0, Math.floor(order.length / 2)));
  const spreads: number[] = [];
  for (const right of Object.values(correct)) {
    const hits = [0, 0];
    const rows = [0, 0];
    for (let i = 0; i < n; i++) {
      const half = firstHalf.has(key(i)) ? 0 : 1;
      hits[half]! += right[i]!;
      rows[half]!++;
    }
    if (rows[0] === 0 || rows[1] === 0) continue;
    spreads.push(Math.abs(hits[0]! / rows[0]! - hits[1]! / rows[1]!) / Math.SQRT2);
  }
  if (spreads.length === 0) return 0;
  spreads.sort((x, y) => x - y);
  return spreads[Math.floor(spreads.length / 2)]!;
}

export interface CalibrationOptions {
  /** The person of each row (a volunteer): bounds allow for the spread between people. */
  groups?: readonly number[];
  /** The encoding group of each row (what the decoder saw): each gets bounds of its own. */
  requestGroups?: readonly string[];
  /** The client encoding each row was made in: a group's bound is its worst encoding's. */
  encodings?: readonly string[];
  /** Subtracted from every bound (measuredMargin), in accuracy. */
  margin?: number;
  routings?: readonly { start: Start; verifier: Verifier }[];
  tick?: () => void;
}

/**
 * The options a set of rows gives calibration: the people of its rows (`people`), and, from its
 * outcomes, each row's encoding group and client encoding; with `margin`.
 */
export function rowOptions(outcomes: OutcomeFile, people: readonly number[] | undefined, margin: number): CalibrationOptions {
  const requestGroups = rowGroups(outcomes);
  const encodings = rowEncodings(outcomes);
  return {
    ...(people === undefined ? {} : { groups: people }),
    ...(requestGroups === undefined ? {} : { requestGroups }),
    ...(encodings === undefined ? {} : { encodings }),
    margin,
  };
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;

/** The rows of a group, and those rows by the client encoding they were made in (one part without encodings). */
interface GroupRows {
  rows: readonly number[];
  parts: readonly (readonly number[])[];
}

/**
 * Accuracy and mean cost of the rows `rows` of a replay (all rows: undefined), and the bound: the
 * lowest of its parts' (the worst client encoding's).
 */
function statsOf(r: Replayed, group: GroupRows | undefined, people: readonly number[] | undefined, margin: number, extraMs: number) {
  const take = group?.rows ?? Array.from({ length: r.right.length }, (_, i) => i);
  let hits = 0;
  let cost = 0;
  for (const i of take) {
    hits += r.right[i]!;
    cost += r.cost[i]!;
  }
  const boundOf = (rows: readonly number[]) =>
    accuracyLowerBound(Uint8Array.from(rows, (i) => r.right[i]!), people === undefined ? undefined : rows.map((i) => people[i]!));
  const bound = Math.min(...(group?.parts ?? [take]).map(boundOf)) - margin;
  return { accuracy: round(hits / take.length), meanCostMs: round(cost / take.length + extraMs), accuracyLowerBound: round(Math.max(0, bound)) };
}

/** The rows of each request group, and of each client encoding within it. */
function rowsByGroup(requestGroups: readonly string[] | undefined, encodings: readonly string[] | undefined): Map<string, GroupRows> {
  const byGroup = rowsByKey(requestGroups?.keys() ?? [], (i) => requestGroups![i]!);
  return new Map([...byGroup].map(([g, rows]) => [g, { rows, parts: [...rowsByKey(rows, (i) => encodings?.[i] ?? '').values()] }]));
}

/**
 * What calibration vouches for each rung serving alone (the bound a request that forces a model
 * is held to): the worst group's bound, and each group's.
 */
export function aloneFigures(data: RoutingData, options: CalibrationOptions = {}): Record<string, { accuracyLowerBound: number; groups?: Record<string, number> }> {
  const { groups: people, requestGroups, encodings, margin = 0 } = options;
  const rowsOf = rowsByGroup(requestGroups, encodings);
  return Object.fromEntries(
    data.models.map((m) => {
      const right = data.correct[m.id]!;
      const replayed: Replayed = { accuracy: 0, meanCostMs: m.latencyMs, right, cost: new Float64Array(right.length).fill(m.latencyMs) };
      if (rowsOf.size === 0) return [m.id, { accuracyLowerBound: statsOf(replayed, undefined, people, margin, 0).accuracyLowerBound }];
      const groups = Object.fromEntries([...rowsOf].map(([g, rows]) => [g, statsOf(replayed, rows, people, margin, 0).accuracyLowerBound]));
      return [m.id, { accuracyLowerBound: Math.min(...Object.values(groups)), groups }];
    }),
  );
}

export function calibrate(data: RoutingData, rungs: readonly string[], options: CalibrationOptions = {}): CalibrationPoint[] {
  const { groups: people, requestGroups, encodings, margin = 0, routings = ROUTINGS, tick = () => {} } = options;
  const rowsOf = rowsByGroup(requestGroups, encodings);
  const reuses = new Map(data.models.flatMap((m) => (m.reuses === undefined ? [] : [[m.id, m.reuses.rung] as const])));
  const points: CalibrationPoint[] = [];
  for (const models of ladders(rungs, MAX_RUNGS, (m) => reuses.get(m))) {
    const ladder: RoutingData = { ...data, models: data.models.filter((m) => models.includes(m.id)) };
    for (const routing of models.length === 1 ? [LONE_MODEL] : routings) {
      const { start, verifier } = routing;
      const consults = consultsPremodel(routing);
      const extraMs = consults ? data.overheadMs ?? 0 : 0;
      for (const thresholds of thresholdGrid(models.length)) {
        const replayed = consults
          ? replay(ladder, { minAccuracy: 1 }, () => ({ models, thresholds, verifier, start, accuracy: 1 }))
          : replayCascade(ladder, models, thresholds);
        const pooled = statsOf(replayed, undefined, people, margin, extraMs);
        if (rowsOf.size === 0) {
          points.push({ models, thresholds, verifier, start, ...pooled });
          continue;
        }
        const byGroup = Object.fromEntries([...rowsOf].map(([g, rows]) => [g, statsOf(replayed, rows, people, margin, extraMs)]));
        // The bound for a request of a group calibration never saw: the worst group's.
        const worst = Math.min(...Object.values(byGroup).map((s) => s.accuracyLowerBound));
        points.push({ models, thresholds, verifier, start, ...pooled, accuracyLowerBound: worst, groups: byGroup });
      }
    }
    tick();
  }
  return frontOf(points, [...rowsOf.keys()]);
}

/**
 * The points that the whole split or some group has on its front of cost against bound, and the
 * single model each of them measured most accurate (what a target no point vouches for is served
 * from: operatingPointIn), cheapest first.
 */
function frontOf(points: readonly CalibrationPoint[], groups: readonly string[]): CalibrationPoint[] {
  const kept = new Set<CalibrationPoint>();
  const views: ((p: CalibrationPoint) => { cost: number; bound: number; accuracy: number })[] = [
    (p) => ({ cost: p.meanCostMs, bound: p.accuracyLowerBound, accuracy: p.accuracy }),
    ...groups.map((g) => (p: CalibrationPoint) => {
      const figures = p.groups![g]!;
      return { cost: figures.meanCostMs, bound: figures.accuracyLowerBound, accuracy: figures.accuracy };
    }),
  ];
  for (const view of views) {
    const sorted = [...points].sort((a, b) => view(a).cost - view(b).cost || view(b).bound - view(a).bound);
    let best = -Infinity;
    let mostAccurateAlone: CalibrationPoint | undefined;
    for (const p of sorted) {
      const { bound, accuracy } = view(p);
      if (bound > best) {
        kept.add(p);
        best = bound;
      }
      if (p.models.length === 1 && (mostAccurateAlone === undefined || accuracy > view(mostAccurateAlone).accuracy)) mostAccurateAlone = p;
    }
    if (mostAccurateAlone !== undefined) kept.add(mostAccurateAlone);
  }
  return [...kept].sort((a, b) => a.meanCostMs - b.meanCostMs || b.accuracy - a.accuracy);
}
