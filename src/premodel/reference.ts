/**
 * The drift reference a premodel file carries: how the premodel split's rows spread over bins of
 * each cheap feature and of each routed model's top-1 confidence, overall and per encoding group.
 * The premodel's promises hold for inputs spread like these; the request path (quality/drift.ts)
 * compares the live spread with it, and training (pipeline/drift-reference.ts) writes it. Both bin
 * a value with `binOf`, so that a live value and a training row of the same value share a bin.
 */
import type { DeepReadonly, FromSchema } from '../schema/index.js';

/** Deciles: 9 inner edges, so at most 10 bins (fewer where a feature takes few values). */
export const MAX_DRIFT_EDGES = 9;

const shares = { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 1, maxItems: MAX_DRIFT_EDGES + 1 } as const;

/** One quantity (a feature, or a model's confidence) binned on the premodel split. */
export const binnedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['edges', 'shares'],
  properties: {
    /** Inner bin edges, ascending, no two equal: bin i holds values in (edges[i-1], edges[i]]. */
    edges: { type: 'array', items: { type: 'number' }, maxItems: MAX_DRIFT_EDGES },
    /** Share of the split's rows in each bin (edges.length + 1 of them). */
    shares,
    /** Per encoding group of the requests ("" for rows without one): the shares of its rows, on the same edges. */
    groups: { type: 'object', additionalProperties: shares },
  },
} as const;

export const driftReferenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['features', 'confidence'],
  properties: {
    /** Per feature, in the premodel's featureNames order. */
    features: { type: 'array', items: binnedSchema },
    /** Per routed plain model (a test-time augmentation has none): its top-1 confidence. */
    confidence: { type: 'object', additionalProperties: binnedSchema },
  },
} as const;

export type Binned = FromSchema<typeof binnedSchema>;
/** What the premodel file stores under `drift`. */
export type DriftReference = FromSchema<typeof driftReferenceSchema>;

/**
 * The bin of `value` among ascending `edges`: the number of edges below it, so that a value equal
 * to an edge goes to the lower bin (the edges are values the split took: each bin then holds its
 * upper edge). A binary search: O(log edges). NaN compares false and lands in the top bin.
 */
export function binOf(edges: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (value <= edges[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** What makes `reference` unusable for a premodel with these features and models; empty when none. */
export function driftReferenceProblems(reference: DeepReadonly<DriftReference>, featureNames: readonly string[], models: readonly string[]): string[] {
  const problems: string[] = [];
  if (reference.features.length !== featureNames.length) {
    problems.push(`drift has a reference for ${reference.features.length} features, the premodel has ${featureNames.length}`);
  }
  const check = (binned: DeepReadonly<Binned>, what: string) => {
    if (binned.edges.some((edge, i) => i > 0 && edge <= binned.edges[i - 1]!)) problems.push(`drift edges of ${what} are not strictly ascending`);
    for (const shares of [binned.shares, ...Object.values(binned.groups ?? {})]) {
      if (shares.length !== binned.edges.length + 1) {
        problems.push(`drift of ${what} has ${shares.length} shares for ${binned.edges.length + 1} bins`);
        break;
      }
    }
  };
  reference.features.forEach((binned, i) => check(binned, `feature ${featureNames[i] ?? i}`));
  for (const [model, binned] of Object.entries(reference.confidence)) {
    if (!models.includes(model)) problems.push(`drift has a confidence reference for "${model}", which the premodel does not route to`);
    check(binned, `the confidence of "${model}"`);
  }
  return problems;
}
