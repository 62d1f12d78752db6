/**
 * Per-model inference statistics of the Open Inference Protocol's statistics extension, as
 * Triton's `GET /v2/models/{name}/stats` reports them: counts and total nanoseconds of the
 * successful and failed requests, per name a client used, since this process started.
 */
import type { Clock } from '../../serve/clock.js';

interface Totals {
  count: number;
  ns: number;
}

interface ModelStats {
  /** Examples answered (a batch of 4 counts 4). */
  inferences: number;
  /** Requests answered. */
  executions: number;
  /** When the last request ended, in ms since the epoch. */
  last: number;
  success: Totals;
  fail: Totals;
}

export class InferenceStats {
  private readonly byName = new Map<string, ModelStats>();

  constructor(private readonly clock: Clock) {}

  /** Records a request on `name` that took `ms` and answered `examples` examples (0: it failed). */
  record(name: string, ms: number, examples: number): void {
    let s = this.byName.get(name);
    if (s === undefined) this.byName.set(name, (s = { inferences: 0, executions: 0, last: 0, success: { count: 0, ns: 0 }, fail: { count: 0, ns: 0 } }));
    const ns = Math.round(ms * 1e6);
    if (examples > 0) {
      s.inferences += examples;
      s.executions++;
      s.success.count++;
      s.success.ns += ns;
    } else {
      s.fail.count++;
      s.fail.ns += ns;
    }
    s.last = Date.now();
  }

  /** The stats of `names` (every name seen when none is given), in Triton's layout. */
  report(names: readonly string[] | undefined, version: string): object {
    const listed = names ?? [...this.byName.keys()].sort();
    return {
      model_stats: listed.map((name) => {
        const s = this.byName.get(name);
        const empty = { count: 0, ns: 0 };
        return {
          name,
          version,
          last_inference: s?.last ?? 0,
          inference_count: s?.inferences ?? 0,
          execution_count: s?.executions ?? 0,
          inference_stats: { success: s?.success ?? empty, fail: s?.fail ?? empty, queue: empty, compute_input: empty, compute_infer: empty, compute_output: empty },
          batch_stats: [],
        };
      }),
    };
  }

  /** The clock requests are timed on. */
  now(): number {
    return this.clock.now();
  }
}
