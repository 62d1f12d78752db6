/**
 * What a batch of n examples costs against a single run of the same model, for the latency model:
 *
 *   cost(n) = p50 x (1 + rowShare x (n - 1))
 *
 * `rowShare` is what one more row adds, as a share of a batch-1 run: 1 where batching gains
 * nothing, towards 0 where a run's fixed cost (the call into onnxruntime, the graph's dispatch,
 * the weights brought into cache) dominates. It is measured per model when the task is warmed
 * up: interleaved runs of batch 1 and of batch `profileSize` on a blank (zero) tensor, medians of each.
 * Linear in n is the simple model; the latency model's slowdown and margin, which every batch
 * feeds, take up what it misses at other sizes. Until measured (and on a clock that does not move,
 * as in tests) a row costs a whole run: batching is then planned as if it gained nothing.
 */
import type { Clock } from './clock.js';

/** What the measurement needs of a model: its id, one example's size, and a batched run. */
export interface ProfiledModel {
  readonly id: string;
  classify(input: Float32Array, batch: number): Float32Array;
}

export class BatchCosts {
  private readonly rowShares = new Map<string, number>();

  /** What one more row of `model` adds to a batch, as a share of its batch-1 run, in [0, 1]. */
  rowShare(model: string): number {
    return this.rowShares.get(model) ?? 1;
  }

  /** How many times a batch-1 run a batch of `size` of `model` takes. */
  factor(model: string, size: number): number {
    return 1 + this.rowShare(model) * (Math.max(1, size) - 1);
  }

  set(model: string, rowShare: number): void {
    if (!(rowShare >= 0 && rowShare <= 1)) throw new RangeError(`a row's share of a run must be in [0, 1], not ${rowShare}`);
    this.rowShares.set(model, rowShare);
  }

  /** Every measured model's share, for the task's description and the docs. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.rowShares);
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/**
 * Measures `model`'s row share on `clock`: `runs` runs of batch 1 and of batch `size`, interleaved
 * so that a change of the machine's load hits both alike, on zeros of `exampleSize` values.
 * Undefined where the clock saw no time pass (a test's clock): nothing to learn from.
 */
export function measureRowShare(model: ProfiledModel, exampleSize: number, clock: Clock, size: number, runs: number): number | undefined {
  if (size < 2) return undefined;
  const one = new Float32Array(exampleSize);
  const many = new Float32Array(exampleSize * size);
  const single: number[] = [];
  const batched: number[] = [];
  for (let i = 0; i < runs; i++) {
    let started = clock.now();
    model.classify(one, 1);
    single.push(clock.now() - started);
    started = clock.now();
    model.classify(many, size);
    batched.push(clock.now() - started);
  }
  const singleMs = median(single);
  if (!(singleMs > 0)) return undefined;
  const share = (median(batched) / singleMs - 1) / (size - 1);
  return Math.min(1, Math.max(0, share));
}
