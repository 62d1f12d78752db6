/**
 * Offline recalibration from label feedback (npm run recalibrate). Calibration vouched for each
 * operating point what it reached on the premodel split, per input group; the labels clients sent
 * show what the points they served really reached. Per group, the shift between the two (realized
 * less expected, over every labelled decision of this premodel) is estimated with its one-sided 95%
 * lower bound, and every bound of that group (each point's, each model's alone, the default
 * target) moves down by it: the group's targets are then served from stronger points. A point
 * with enough labels of its own moves by its own shift instead: a shift hurts cheap models more
 * than strong ones, and the group's pooled shift, dominated by the points that served, would
 * hold the strong points to the cheap ones' loss. A group or point that labels show easier than
 * the split keeps its bounds (serving cheaper on the strength of labels is left undone), and so
 * does one with too few labels.
 *
 * The forests and ladders stay; so does the premodel's dataHash: decision tokens name it, and the
 * labels of decisions routed by the recalibrated premodel are comparable with the earlier ones
 * (what a point reached on the premodel split does not change). A premodel recalibrated before is
 * first taken back to its own bounds, so shifts never add up.
 */
import type { FeedbackRecord } from '../feedback/index.js';
import { answeredRight } from '../feedback/index.js';
import { pointFor, type CalibrationPoint } from '../premodel/operating-point.js';
import type { PremodelFile } from '../premodel/premodel.js';
import { Z_95 } from '../quality/wilson.js';

export interface Shift {
  labels: number;
  realized: number;
  expected: number;
  shift: number;
  applied: number;
}

/** A group's shift over all its labels, and that of each operating point with enough labels of its own. */
export interface GroupShift extends Shift {
  points: Record<string, Shift>;
}

interface Sum {
  labels: number;
  right: number;
  expected: number;
}

function add<K>(sums: Map<K, Sum>, key: K, right: boolean, expected: number): void {
  const sum = sums.get(key) ?? { labels: 0, right: 0, expected: 0 };
  sum.labels++;
  if (right) sum.right++;
  sum.expected += expected;
  sums.set(key, sum);
}

/** Realized less expected, and what is applied: its one-sided 95% lower bound, never above 0, and 0 under `minLabels`. */
function shiftOf({ labels, right, expected }: Sum, minLabels: number): Shift {
  const realized = right / labels;
  const shift = realized - expected / labels;
  const lower = shift - Z_95 * Math.sqrt((realized * (1 - realized)) / labels);
  return { labels, realized: round(realized), expected: round(expected / labels), shift: round(shift), applied: labels < minLabels ? 0 : round(Math.min(0, lower)) };
}

/** How far each group's bounds move (times `sign`): the group's own shift, and a point's own where it has one. */
interface Moves {
  group: number;
  points: ReadonlyMap<number, number>;
}

function moves(groups: Readonly<Record<string, { applied: number; points?: Readonly<Record<string, { applied: number }>> }>>, sign: 1 | -1): Record<string, Moves> {
  return Object.fromEntries(
    Object.entries(groups).map(([g, s]) => [g, { group: sign * s.applied, points: new Map(Object.entries(s.points ?? {}).map(([i, p]) => [Number(i), sign * p.applied])) }]),
  );
}

export interface Recalibration {
  file: PremodelFile;
  /** Labels used: this task's, of decisions this premodel routed through an operating point, each id once. */
  labels: number;
  /** Labels left out: another task's or premodel's, no operating point, or a repeat. */
  skipped: number;
  groups: Record<string, GroupShift>;
}

export interface RecalibrationOptions {
  /** Labels a group needs before its bounds move. */
  minLabels: number;
  /** Where the labels came from, recorded in the file. */
  sources: readonly string[];
  fittedAt?: Date;
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;
const clamp = (v: number) => Math.min(1, Math.max(0, v));

export function recalibrate(original: PremodelFile, records: Iterable<FeedbackRecord>, options: RecalibrationOptions): Recalibration {
  const premodelId = original.dataHash.slice(0, 8);
  // Back to the bounds training gave, so that a second recalibration does not add to the first.
  const base = original.recalibration === undefined ? original : unshifted(original, original.recalibration);
  const sums = new Map<string, Sum>();
  const pointSums = new Map<string, Map<number, Sum>>();
  const seen = new Set<string>();
  let skipped = 0;
  for (const record of records) {
    const { decision } = record;
    const point = decision.point === undefined ? undefined : base.calibration[decision.point];
    if (record.task !== base.task || decision.premodel !== premodelId || point === undefined || seen.has(record.id)) {
      skipped++;
      continue;
    }
    seen.add(record.id);
    const group = decision.group ?? '';
    const right = answeredRight(record);
    const expected = pointFor(point, decision.group).accuracy;
    add(sums, group, right, expected);
    if (!pointSums.has(group)) pointSums.set(group, new Map());
    add(pointSums.get(group)!, decision.point!, right, expected);
  }
  const groups: Record<string, GroupShift> = {};
  for (const [group, sum] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
    const points = [...pointSums.get(group)!].sort(([a], [b]) => a - b).filter(([, p]) => p.labels >= options.minLabels);
    groups[group] = { ...shiftOf(sum, options.minLabels), points: Object.fromEntries(points.map(([i, p]) => [String(i), shiftOf(p, options.minLabels)])) };
  }
  const file = shifted(base, moves(groups, 1));
  file.recalibration = {
    sources: [...options.sources],
    labels: seen.size,
    fittedAt: (options.fittedAt ?? new Date()).toISOString(),
    groups,
    trainedDefaults: { defaultTarget: base.defaultTarget, ...(base.defaultTargets === undefined ? {} : { defaultTargets: base.defaultTargets }) },
  };
  file.$comment = `${original.$comment.replace(/ Recalibrated by .*$/, '')} Recalibrated by \`npm run recalibrate\` from ${seen.size} labels.`;
  return { file, labels: seen.size, skipped, groups };
}

/**
 * `file` with every bound of each group of `moves` moved by its amount: the group's figures where
 * calibration has them; a group it never saw gets the figures such requests were served by (the
 * worst group's) as its own, moved. A premodel without groups ("") moves its only figures. Moving
 * back by the same amounts restores the file (the figures for unseen groups are never touched).
 */
function shifted(file: PremodelFile, byGroup: Readonly<Record<string, Moves>>): PremodelFile {
  const next: PremodelFile = structuredClone(file);
  delete next.recalibration;
  const grouped = file.defaultTargets !== undefined;
  for (const [group, { group: move, points }] of Object.entries(byGroup)) {
    const own = grouped && group !== '';
    next.calibration.forEach((point, i) => {
      const by = points.get(i) ?? move;
      if (by !== 0) movePoint(point, own ? group : undefined, by);
    });
    if (move === 0) continue;
    for (const alone of Object.values(next.alone)) {
      if (!own) alone.accuracyLowerBound = round(clamp(alone.accuracyLowerBound + move));
      else alone.groups = { ...alone.groups, [group]: round(clamp((alone.groups?.[group] ?? alone.accuracyLowerBound) + move)) };
    }
    if (!own) next.defaultTarget = round(clamp(next.defaultTarget + move));
    else next.defaultTargets = { ...next.defaultTargets, [group]: round(clamp((next.defaultTargets?.[group] ?? next.defaultTarget) + move)) };
  }
  // A request with no constraint is served its group's default, which some point must still vouch for.
  const vouched = (group: string | undefined) => Math.max(...next.calibration.map((p) => pointFor(p, group).bound));
  next.defaultTarget = Math.min(next.defaultTarget, vouched(undefined));
  if (next.defaultTargets !== undefined) {
    next.defaultTargets = Object.fromEntries(Object.entries(next.defaultTargets).map(([g, t]) => [g, Math.min(t, vouched(g))]));
  }
  return next;
}

/** `file` as training wrote it: the moves undone, the default targets as they were. */
function unshifted(file: PremodelFile, recalibration: NonNullable<PremodelFile['recalibration']>): PremodelFile {
  const base = shifted(file, moves(recalibration.groups, -1));
  base.defaultTarget = recalibration.trainedDefaults.defaultTarget;
  if (recalibration.trainedDefaults.defaultTargets === undefined) delete base.defaultTargets;
  else base.defaultTargets = { ...recalibration.trainedDefaults.defaultTargets };
  return base;
}

function movePoint(point: CalibrationPoint, group: string | undefined, move: number): void {
  if (group === undefined) {
    point.accuracyLowerBound = round(clamp(point.accuracyLowerBound + move));
    return;
  }
  const figures = point.groups?.[group] ?? { accuracy: point.accuracy, meanCostMs: point.meanCostMs, accuracyLowerBound: point.accuracyLowerBound };
  point.groups = { ...point.groups, [group]: { ...figures, accuracyLowerBound: round(clamp(figures.accuracyLowerBound + move)) } };
}
