/**
 * Probability forests for the premodel: trained with ml-random-forest (the one module that
 * imports it), then compiled into flat arrays, which is what a premodel file stores and what the
 * request path evaluates: a few hundred array reads, no object graph, no matrix copies.
 *
 * ml-random-forest's split search is quadratic in a tree's rows (every candidate threshold
 * re-partitions the node), and its `maxSamples` keeps the *first* rows for every tree. So each tree
 * is trained here as a one-tree forest on its own random subset of `rowsPerTree` rows (without
 * replacement), with the library's feature bagging (`maxFeatures`), depth and leaf-size limits, and
 * with its out-of-bag step off (`noOOB`), which can throw on small subsets.
 */
import { RandomForestRegression } from 'ml-random-forest';
import type { DeepReadonly, FromSchema } from '../schema/index.js';

export const forestOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['trees', 'rowsPerTree', 'maxFeatures', 'maxDepth', 'minLeafRows', 'seed'],
  properties: {
    /** Trees in the forest. */
    trees: { type: 'integer', minimum: 1 },
    /** Training rows drawn (without replacement) for each tree. */
    rowsPerTree: { type: 'integer', minimum: 1 },
    /** Share of the features each tree may split on, (0, 1]. */
    maxFeatures: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    /** Deepest split level. */
    maxDepth: { type: 'integer', minimum: 1 },
    /** A node with this many rows or fewer becomes a leaf. */
    minLeafRows: { type: 'integer', minimum: 1 },
    seed: { type: 'integer' },
  },
} as const;

export type ForestOptions = FromSchema<typeof forestOptionsSchema>;

/**
 * A compiled forest as a premodel file stores it. Each tree is flattened: node i splits on
 * feature[i] < threshold[i] (left) or not (right); a leaf has feature -1 and its value.
 */
export const forestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['features', 'trees'],
  properties: {
    features: { type: 'integer', minimum: 1 },
    trees: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['feature', 'threshold', 'left', 'right', 'value'],
        properties: {
          feature: { type: 'array', items: { type: 'integer', minimum: -1 }, minItems: 1 },
          threshold: { type: 'array', items: { type: 'number' } },
          left: { type: 'array', items: { type: 'integer', minimum: -1 } },
          right: { type: 'array', items: { type: 'integer', minimum: -1 } },
          value: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
        },
      },
    },
  },
} as const;

export type CompiledForest = FromSchema<typeof forestSchema>;
export type CompiledTree = CompiledForest['trees'][number];

interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  distribution?: number;
  left?: CartNode;
  right?: CartNode;
}

/** A seeded 32-bit generator (mulberry32): forests are reproducible from their options. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleRows(count: number, take: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  const n = Math.min(take, count);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (count - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, n);
}

function compileTree(root: CartNode, usedColumns: readonly number[]): CompiledTree {
  const tree: CompiledTree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const visit = (node: CartNode): number => {
    const id = tree.feature.length;
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(0);
    if (node.left !== undefined && node.right !== undefined && node.splitColumn !== undefined) {
      tree.feature[id] = usedColumns[node.splitColumn]!;
      tree.threshold[id] = node.splitValue!;
      tree.left[id] = visit(node.left);
      tree.right[id] = visit(node.right);
    } else {
      tree.value[id] = node.distribution ?? 0;
    }
    return id;
  };
  visit(root);
  return tree;
}

/** Trains a forest estimating P(y = 1 | x) for 0/1 targets (regression trees: leaf = share of 1s). */
export function trainForest(rows: readonly (readonly number[])[], targets: readonly number[], options: ForestOptions): CompiledForest {
  if (rows.length === 0 || rows.length !== targets.length) {
    throw new RangeError(`a forest needs as many targets as rows (${rows.length} rows, ${targets.length} targets), at least one`);
  }
  const features = rows[0]!.length;
  const random = seededRandom(options.seed);
  const trees: CompiledTree[] = [];
  for (let t = 0; t < options.trees; t++) {
    const picked = sampleRows(rows.length, options.rowsPerTree, random);
    const forest = new RandomForestRegression({
      nEstimators: 1,
      maxFeatures: Math.max(1, Math.round(options.maxFeatures * features)),
      replacement: false,
      useSampleBagging: false,
      noOOB: true,
      seed: Math.floor(random() * 2 ** 31),
      treeOptions: { maxDepth: options.maxDepth, minNumSamples: options.minLeafRows },
    });
    forest.train(picked.map((i) => [...rows[i]!]), picked.map((i) => targets[i]!));
    const model = forest as unknown as { estimators: { root: CartNode }[]; indexes: number[][] };
    trees.push(compileTree(model.estimators[0]!.root, model.indexes[0]!));
  }
  return { features, trees };
}

/**
 * A compiled forest packed into typed arrays, every tree's nodes one after the other (children as
 * absolute indices): what the request path walks, a few hundred nanoseconds a forest.
 */
export class PackedForest {
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;
  private readonly roots: Int32Array;

  constructor(forest: DeepReadonly<CompiledForest>) {
    const size = forest.trees.reduce((n, t) => n + t.feature.length, 0);
    this.feature = new Int32Array(size);
    this.threshold = new Float64Array(size);
    this.left = new Int32Array(size);
    this.right = new Int32Array(size);
    this.value = new Float64Array(size);
    this.roots = new Int32Array(forest.trees.length);
    let offset = 0;
    forest.trees.forEach((tree, t) => {
      this.roots[t] = offset;
      for (let i = 0; i < tree.feature.length; i++) {
        this.feature[offset + i] = tree.feature[i]!;
        this.threshold[offset + i] = tree.threshold[i]!;
        this.left[offset + i] = offset + tree.left[i]!;
        this.right[offset + i] = offset + tree.right[i]!;
        this.value[offset + i] = tree.value[i]!;
      }
      offset += tree.feature.length;
    });
  }

  /** The mean of the trees' leaves for one row. */
  predict(row: ArrayLike<number>): number {
    let sum = 0;
    for (let t = 0; t < this.roots.length; t++) {
      let node = this.roots[t]!;
      while (this.feature[node]! >= 0) {
        node = row[this.feature[node]!]! < this.threshold[node]! ? this.left[node]! : this.right[node]!;
      }
      sum += this.value[node]!;
    }
    return sum / this.roots.length;
  }
}
