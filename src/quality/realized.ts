/**
 * What label feedback shows of one task's accuracy promise, live: per target band, per operating
 * point and per input group, the labelled count and the realized accuracy with its Wilson bounds;
 * and the online correction of each band (and group): when labels show a band missed, its requests
 * are served from the point calibrated for a higher target, and back as it over-delivers.
 *
 * The correction is adaptive conformal inference (Gibbs and Candes, 2021) on the miss rate: each
 * label moves the band's raise r by step * (miss - (1 - target)), so r climbs while the band misses
 * more often than its target allows and falls while it misses less; r stays within [0, maxRaise]
 * (never below the calibrated point). In the long run the band's miss rate then stays within
 * (maxRaise + step) / (step * labels) of 1 - target, wherever the raise does not saturate.
 */
import type { Decision } from '../feedback/token.js';
import { wilsonLowerBound, wilsonUpperBound } from './wilson.js';

export interface CorrectionOptions {
  /** Whether labels move the operating points (FEEDBACK_CORRECTION); tallies are kept either way. */
  enabled: boolean;
  /** The rule's step, gamma: how far one label moves the raise (FEEDBACK_STEP). */
  step: number;
  /** The most a band's target is raised, in accuracy (FEEDBACK_MAX_RAISE). */
  maxRaise: number;
}

/** The band of an accuracy target: its whole points ("0.90" holds 0.90 up to 0.9099...). */
export function bandOf(target: number): string {
  return (Math.floor(target * 100 + 1e-9) / 100).toFixed(2);
}

/** Requests with no accuracy target (a latency budget alone, or a forced model). */
export const NO_TARGET = 'none';

/** Labels a band's recent accuracy is judged on: a decayed count, so a band the correction has mended stops counting as missed. */
const RECENT_LABELS = 500;
const DECAY = 1 - 1 / RECENT_LABELS;
/** Labels below which a band is never judged missed. */
const MIN_LABELLED = 50;

class Tally {
  labelled = 0;
  correct = 0;
  targetSum = 0;

  add(correct: boolean, target: number | undefined): void {
    this.labelled++;
    if (correct) this.correct++;
    if (target !== undefined) this.targetSum += target;
  }

  figures(): TallyFigures {
    const accuracy = this.labelled === 0 ? 0 : this.correct / this.labelled;
    return {
      labelled: this.labelled,
      accuracy: round(accuracy),
      lowerBound: round(wilsonLowerBound(accuracy, this.labelled)),
      upperBound: round(wilsonUpperBound(accuracy, this.labelled)),
    };
  }
}

/** One band and group's correction state. */
class Correction {
  raise = 0;
  recentLabelled = 0;
  recentCorrect = 0;
  recentTargetSum = 0;

  /** Whether recent labels put the band's accuracy below its targets beyond the one-sided 95% bound. */
  get missed(): boolean {
    if (this.recentLabelled < MIN_LABELLED) return false;
    const accuracy = this.recentCorrect / this.recentLabelled;
    return wilsonUpperBound(accuracy, this.recentLabelled) < this.recentTargetSum / this.recentLabelled;
  }
}

export interface TallyFigures {
  labelled: number;
  accuracy: number;
  lowerBound: number;
  upperBound: number;
}

export interface QualitySnapshot {
  labelled: number;
  correction: CorrectionOptions;
  bands: (TallyFigures & { band: string; meanTarget: number | null })[];
  points: (TallyFigures & { point: number })[];
  groups: (TallyFigures & { group: string })[];
  /** Per band and group where labels arrived: the raise now, and whether recent labels show the band missed. */
  corrections: { band: string; group: string; raise: number; missed: boolean; recentLabelled: number }[];
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

export class TaskQuality {
  private readonly bands = new Map<string, Tally>();
  private readonly points = new Map<number, Tally>();
  private readonly groups = new Map<string, Tally>();
  private readonly corrections = new Map<string, Correction>();
  private labelled = 0;

  constructor(readonly options: Readonly<CorrectionOptions>) {}

  private correctionOf(target: number, group: string | undefined, create: boolean): Correction | undefined {
    const key = `${bandOf(target)}|${group ?? ''}`;
    let c = this.corrections.get(key);
    if (c === undefined && create) this.corrections.set(key, (c = new Correction()));
    return c;
  }

  /** The target a request's operating point is chosen for: its own, raised as labels ask of its band and group. */
  effectiveTarget(target: number, group: string | undefined): number {
    if (!this.options.enabled) return target;
    const raise = this.correctionOf(target, group, false)?.raise ?? 0;
    // Rounded, so that the points remembered per target stay few.
    return raise === 0 ? target : Math.min(1, Math.round((target + raise) * 1e4) / 1e4);
  }

  /** Whether recent labels show requests of this target and group missing it, beyond the bound. */
  missed(target: number, group: string | undefined): boolean {
    return this.correctionOf(target, group, false)?.missed ?? false;
  }

  /** The raise feedback has put on this target's band and group (0: none). */
  raiseOf(target: number, group: string | undefined): number {
    return this.correctionOf(target, group, false)?.raise ?? 0;
  }

  /**
   * A label for a decision: whether its answer was right. `current`: the decision was routed by
   * the premodel serving now, so its operating point is one of this calibration's; `learn`: the
   * band's correction learns from it (not a label replayed from the store at start-up or reload).
   */
  record(decision: Decision, correct: boolean, how: { current: boolean; learn: boolean }): void {
    this.labelled++;
    const { target, group, point } = decision;
    tally(this.bands, target === undefined ? NO_TARGET : bandOf(target)).add(correct, target);
    if (point !== undefined && how.current) tally(this.points, point).add(correct, target);
    tally(this.groups, group ?? '').add(correct, target);
    if (target === undefined || !how.learn || !how.current) return;
    const c = this.correctionOf(target, group, true)!;
    c.recentLabelled = c.recentLabelled * DECAY + 1;
    c.recentCorrect = c.recentCorrect * DECAY + (correct ? 1 : 0);
    c.recentTargetSum = c.recentTargetSum * DECAY + target;
    if (this.options.enabled) {
      const miss = correct ? 0 : 1;
      c.raise = Math.min(this.options.maxRaise, Math.max(0, c.raise + this.options.step * (miss - (1 - target))));
    }
  }

  snapshot(): QualitySnapshot {
    return {
      labelled: this.labelled,
      correction: { ...this.options },
      bands: [...this.bands].sort(([a], [b]) => a.localeCompare(b)).map(([band, t]) => ({
        band,
        meanTarget: band === NO_TARGET ? null : round(t.targetSum / t.labelled),
        ...t.figures(),
      })),
      points: [...this.points].sort(([a], [b]) => a - b).map(([point, t]) => ({ point, ...t.figures() })),
      groups: [...this.groups].sort(([a], [b]) => a.localeCompare(b)).map(([group, t]) => ({ group, ...t.figures() })),
      corrections: [...this.corrections].sort(([a], [b]) => a.localeCompare(b)).map(([key, c]) => {
        const [band, group] = key.split('|') as [string, string];
        return { band, group, raise: round(c.raise), missed: c.missed, recentLabelled: Math.round(c.recentLabelled) };
      }),
    };
  }
}

function tally<K>(map: Map<K, Tally>, key: K): Tally {
  let t = map.get(key);
  if (t === undefined) map.set(key, (t = new Tally()));
  return t;
}
