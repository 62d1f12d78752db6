/**
 * The drift reference of a premodel (premodel/reference.ts), from the premodel split's rows: per
 * feature and per routed model's confidence, decile bin edges and the share of rows in each bin,
 * overall and per encoding group. Training writes it into the premodel file, so that the service
 * can tell when what it is sent no longer looks like what its promises were measured on.
 */
import { binOf, MAX_DRIFT_EDGES, type Binned, type DriftReference } from '../premodel/reference.js';

/** Significant digits kept of an edge, decimals of a share: the reference stays a few kB per task. */
const EDGE_DIGITS = 6;
const SHARE_DECIMALS = 4;

/**
 * The reference of `features` (one row per input, the premodel's featureNames order), the encoding
 * group of each row (`groups`; undefined: the kind has none) and each routed model's top-1
 * confidence on the same rows (`confidences`).
 */
export function driftReference(
  features: readonly ArrayLike<number>[],
  groups: readonly (string | undefined)[] | undefined,
  confidences: Readonly<Record<string, ArrayLike<number>>>,
): DriftReference {
  const n = features.length;
  if (n === 0) throw new Error('a drift reference needs at least one row');
  if (groups !== undefined && groups.length !== n) throw new Error(`${groups.length} groups for ${n} rows`);
  const width = features[0]!.length;
  const column = new Float64Array(n);
  const binnedFeatures = Array.from({ length: width }, (_, j) => {
    for (let i = 0; i < n; i++) column[i] = features[i]![j]!;
    return binned(column, groups);
  });
  const confidence = Object.fromEntries(
    Object.entries(confidences).map(([model, values]) => {
      if (values.length !== n) throw new Error(`model "${model}" has ${values.length} confidences for ${n} rows`);
      return [model, binned(values, groups)];
    }),
  );
  return { features: binnedFeatures, confidence };
}

/** `values` binned at their deciles: overall shares, and per group where rows have groups. */
function binned(values: ArrayLike<number>, groups: readonly (string | undefined)[] | undefined): Binned {
  const edges = decileEdges(values);
  const bins = Uint8Array.from(values, (v) => binOf(edges, v));
  const result: Binned = { edges, shares: sharesOf(bins, edges.length + 1) };
  if (groups !== undefined) {
    const rowsOf = new Map<string, number[]>();
    groups.forEach((g, i) => {
      const key = g ?? '';
      let rows = rowsOf.get(key);
      if (rows === undefined) rowsOf.set(key, (rows = []));
      rows.push(i);
    });
    result.groups = Object.fromEntries([...rowsOf].map(([key, rows]) => [key, sharesOf(rows.map((i) => bins[i]!), edges.length + 1)]));
  }
  return result;
}

/**
 * The 9 deciles of `values` as bin edges. Each is a value the rows took (the nearest-rank decile:
 * the smallest value with at least k/10 of the rows at or below it), so that the bin it closes is
 * not empty; equal deciles (a discrete feature) are kept once, and one at the maximum is dropped,
 * since no row lies above it. Rounded before binning, so that the shares are those of the stored edges.
 */
function decileEdges(values: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const max = sorted[n - 1]!;
  const edges: number[] = [];
  for (let k = 1; k <= MAX_DRIFT_EDGES; k++) {
    const edge = Number(sorted[Math.ceil((k * n) / (MAX_DRIFT_EDGES + 1)) - 1]!.toPrecision(EDGE_DIGITS));
    if (edge < max && (edges.length === 0 || edge > edges[edges.length - 1]!)) edges.push(edge);
  }
  return edges;
}

/** The share of `bins` (bin indices) in each of `count` bins, rounded. */
function sharesOf(bins: ArrayLike<number>, count: number): number[] {
  const counts = new Array<number>(count).fill(0);
  for (let i = 0; i < bins.length; i++) counts[bins[i]!]!++;
  const scale = 10 ** SHARE_DECIMALS;
  return counts.map((c) => Math.round((c / bins.length) * scale) / scale);
}
