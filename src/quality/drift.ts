/**
 * Drift detection on the request path. The premodel's promises were measured on the premodel
 * split; when what clients send stops looking like it, they may no longer hold. Per encoding group
 * (a window task has none: the key ""), the monitor keeps the bins of the last requests' cheap
 * features and of their first model's top-1 confidence, and compares their spread with the split's
 * (premodel/reference.ts) by the population stability index:
 *
 *   PSI = sum over bins of (p_live - p_ref) * ln(p_live / p_ref)
 *
 * Observing is O(features) with no allocation (a group's buffers are made once, on its first
 * request): each window is a ring of bin indices with running counts per bin, so it slides in
 * O(1) per value. A snapshot, made when metrics are scraped, computes the PSIs from the counts.
 */
import { binOf, type Binned, type DriftReference } from '../premodel/reference.js';
import type { DeepReadonly } from '../schema/index.js';

/** PSI above which a distribution has shifted significantly (the conventional level): the group is `drifted`. */
export const DRIFT_PSI_WARN = 0.25;
/** PSI below which a distribution is conventionally stable; between this and DRIFT_PSI_WARN, a moderate shift. */
export const DRIFT_PSI_STABLE = 0.1;
/**
 * Floor of both shares in each PSI term, so that a bin empty on one side adds a large but finite
 * term (at most about ln(1 / 1e-4) = 9.2 times the other side's share) rather than infinity.
 */
export const PSI_EPSILON = 1e-4;
/** Groups tracked at most: requests of further groups are counted as untracked, a bound on the memory clients can make the monitor hold. */
export const MAX_DRIFT_GROUPS = 64;

export const DRIFT_DEFAULTS = Object.freeze({
  /** Requests kept per group in the sliding window (the features and the confidence each). */
  window: 1000,
  /**
   * Requests in a group's window before its PSI is reported. A sample drawn like the reference
   * still has a PSI of about (bins - 1) / rows from sampling alone: 0.045 at 200 rows, and the
   * largest over a few dozen features about 0.15 at worst, well under DRIFT_PSI_WARN.
   */
  minRows: 200,
});

export interface DriftOptions {
  window: number;
  minRows: number;
}

/** The drift of one group's window. */
export interface GroupDrift {
  /** Requests in the window whose features were observed (the caller samples them). */
  featureRows: number;
  /** Requests in the window whose first model's confidence was observed (a model with a reference). */
  confidenceRows: number;
  /** What the window is compared with: the reference's shares for this group, or its overall shares (a group it has not seen). */
  reference: 'group' | 'overall';
  /** The largest PSI over the features, and that feature's name; absent under minRows feature rows. */
  featurePsi?: { psi: number; feature: string };
  /** The confidence's PSI: each first model's against its own reference, weighted by its rows; absent under minRows confidence rows. */
  confidencePsi?: number;
  /** Whether either PSI is above DRIFT_PSI_WARN. */
  drifted: boolean;
}

export interface DriftSnapshot {
  /** Per group, "" for requests without one. */
  groups: Record<string, GroupDrift>;
  /** Requests of groups beyond MAX_DRIFT_GROUPS, which were not tracked. */
  untracked: number;
}

/** Shares floored at PSI_EPSILON, once: the reference side of every PSI term. */
function flooredShares(shares: readonly number[]): Float64Array {
  return Float64Array.from(shares, (s) => Math.max(s, PSI_EPSILON));
}

/** The PSI of the window's counts at `counts[offset...]` (of `rows` in all), one per bin of the floored reference `expected`. */
function psi(counts: Uint32Array, offset: number, rows: number, expected: Float64Array): number {
  let sum = 0;
  for (let b = 0; b < expected.length; b++) {
    const live = Math.max(counts[offset + b]! / rows, PSI_EPSILON);
    const reference = expected[b]!;
    sum += (live - reference) * Math.log(live / reference);
  }
  return sum;
}

/** One group's sliding windows and the reference shares it is compared with. */
class GroupWindow {
  /** The last `window` feature rows' bins, slot * features + feature. */
  private readonly featureBins: Uint8Array;
  /** Per feature, the window's rows in each bin: feature * stride + bin. */
  readonly featureCounts: Uint32Array;
  featureRows = 0;
  private nextFeatureSlot = 0;
  /** The last `window` confidences' bins, and the model (by index) whose edges binned each. */
  private readonly confidenceBins: Uint8Array;
  private readonly confidenceModels: Uint8Array;
  /** Per model, the window's rows in each bin: model * stride + bin. */
  readonly confidenceCounts: Uint32Array;
  confidenceRows = 0;
  private nextConfidenceSlot = 0;

  constructor(
    private readonly window: number,
    private readonly stride: number,
    features: number,
    models: number,
    /** The reference shares, floored: per feature, per model. */
    readonly featureShares: readonly Float64Array[],
    readonly confidenceShares: readonly Float64Array[],
    readonly reference: 'group' | 'overall',
  ) {
    this.featureBins = new Uint8Array(window * features);
    this.featureCounts = new Uint32Array(features * stride);
    this.confidenceBins = new Uint8Array(window);
    this.confidenceModels = new Uint8Array(window);
    this.confidenceCounts = new Uint32Array(models * stride);
  }

  addFeatures(values: ArrayLike<number>, edges: readonly Float64Array[]): void {
    const width = edges.length;
    const base = this.nextFeatureSlot * width;
    const full = this.featureRows === this.window;
    for (let j = 0; j < width; j++) {
      // A full window forgets the row this slot held before it takes the new one.
      if (full) this.featureCounts[j * this.stride + this.featureBins[base + j]!]!--;
      const bin = binOf(edges[j]!, values[j]!);
      this.featureBins[base + j] = bin;
      this.featureCounts[j * this.stride + bin]!++;
    }
    if (!full) this.featureRows++;
    this.nextFeatureSlot = (this.nextFeatureSlot + 1) % this.window;
  }

  addConfidence(model: number, bin: number): void {
    const slot = this.nextConfidenceSlot;
    if (this.confidenceRows === this.window) this.confidenceCounts[this.confidenceModels[slot]! * this.stride + this.confidenceBins[slot]!]!--;
    else this.confidenceRows++;
    this.confidenceModels[slot] = model;
    this.confidenceBins[slot] = bin;
    this.confidenceCounts[model * this.stride + bin]!++;
    this.nextConfidenceSlot = (slot + 1) % this.window;
  }
}

/**
 * Compares the live spread of a task's requests, per group, with its premodel's drift reference.
 * One per task and premodel: a reloaded premodel gets a new monitor (its bins are other bins).
 */
export class DriftMonitor {
  private readonly options: DriftOptions;
  private readonly featureEdges: readonly Float64Array[];
  private readonly confidenceEdges: readonly Float64Array[];
  /** Routed models with a confidence reference, to their index in confidenceEdges. */
  private readonly modelIndex: ReadonlyMap<string, number>;
  /** Counts per quantity take this many slots: the most bins any quantity has. */
  private readonly stride: number;
  private readonly windows = new Map<string, GroupWindow>();
  private untracked = 0;

  /**
   * `featureNames`: the premodel's, in the reference's order (the snapshot names the feature that
   * shifted most). Throws a RangeError naming the limit an option breaks.
   */
  constructor(
    private readonly reference: DeepReadonly<DriftReference>,
    private readonly featureNames: readonly string[],
    options: Partial<DriftOptions> = {},
  ) {
    this.options = { ...DRIFT_DEFAULTS, ...options };
    const { window, minRows } = this.options;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`drift window must be a whole number of requests, at least 1 (got ${window})`);
    if (!Number.isInteger(minRows) || minRows < 1 || minRows > window) {
      throw new RangeError(`drift minRows must be a whole number from 1 to the window, ${window} (got ${minRows})`);
    }
    if (featureNames.length !== reference.features.length) {
      throw new RangeError(`the drift reference has ${reference.features.length} features, ${featureNames.length} names were given`);
    }
    const models = Object.keys(reference.confidence);
    // A model's index is stored per request in a Uint8Array.
    if (models.length > 256) throw new RangeError(`drift follows at most 256 models' confidence, the reference has ${models.length}`);
    this.featureEdges = reference.features.map((f) => Float64Array.from(f.edges));
    this.confidenceEdges = models.map((id) => Float64Array.from(reference.confidence[id]!.edges));
    this.modelIndex = new Map(models.map((id, i) => [id, i]));
    this.stride = 1 + Math.max(0, ...[...this.featureEdges, ...this.confidenceEdges].map((e) => e.length));
  }

  /**
   * One request of `group`: its cheap features (undefined where the request skipped them), and the
   * top-1 confidence of the first model it ran (ignored for a model the reference has none for).
   * Features are in the reference's order.
   */
  observe(group: string | undefined, features: ArrayLike<number> | undefined, firstModel: string, confidence: number): void {
    const window = this.windowOf(group ?? '');
    if (window === undefined) {
      this.untracked++;
      return;
    }
    if (features !== undefined) {
      if (features.length !== this.featureEdges.length) {
        throw new RangeError(`drift expects ${this.featureEdges.length} features, got ${features.length}`);
      }
      window.addFeatures(features, this.featureEdges);
    }
    const model = this.modelIndex.get(firstModel);
    if (model !== undefined) window.addConfidence(model, binOf(this.confidenceEdges[model]!, confidence));
  }

  /** Every tracked group's rows, PSIs and verdict, from the windows as they are now. */
  snapshot(): DriftSnapshot {
    const { minRows } = this.options;
    const groups: Record<string, GroupDrift> = {};
    for (const [key, window] of this.windows) {
      const drift: GroupDrift = { featureRows: window.featureRows, confidenceRows: window.confidenceRows, reference: window.reference, drifted: false };
      if (window.featureRows >= minRows) {
        const psis = window.featureShares.map((expected, j) => psi(window.featureCounts, j * this.stride, window.featureRows, expected));
        const worst = psis.indexOf(Math.max(...psis));
        drift.featurePsi = { psi: psis[worst]!, feature: this.featureNames[worst]! };
      }
      if (window.confidenceRows >= minRows) {
        let weighted = 0;
        window.confidenceShares.forEach((expected, m) => {
          const offset = m * this.stride;
          let rows = 0;
          for (let b = 0; b < expected.length; b++) rows += window.confidenceCounts[offset + b]!;
          if (rows > 0) weighted += rows * psi(window.confidenceCounts, offset, rows, expected);
        });
        drift.confidencePsi = weighted / window.confidenceRows;
      }
      drift.drifted = (drift.featurePsi?.psi ?? 0) > DRIFT_PSI_WARN || (drift.confidencePsi ?? 0) > DRIFT_PSI_WARN;
      groups[key] = drift;
    }
    return { groups, untracked: this.untracked };
  }

  /** The window of group `key`, opened on its first request while fewer than MAX_DRIFT_GROUPS are; undefined beyond. */
  private windowOf(key: string): GroupWindow | undefined {
    const known = this.windows.get(key);
    if (known !== undefined || this.windows.size >= MAX_DRIFT_GROUPS) return known;
    // A group the reference has not seen is compared with the split as a whole.
    const sharesFor = (binned: DeepReadonly<Binned>) => flooredShares(binned.groups?.[key] ?? binned.shares);
    const seen = this.reference.features.some((f) => f.groups?.[key] !== undefined);
    const window = new GroupWindow(
      this.options.window,
      this.stride,
      this.featureEdges.length,
      this.confidenceEdges.length,
      this.reference.features.map(sharesFor),
      [...this.modelIndex.keys()].map((id) => sharesFor(this.reference.confidence[id]!)),
      seen ? 'group' : 'overall',
    );
    this.windows.set(key, window);
    return window;
  }
}
