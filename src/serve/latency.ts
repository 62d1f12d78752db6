/**
 * The live latency model behind `maxLatencyMs`: how long a request would take, receipt to
 * answer, if this process answered it now with a given model.
 *
 *   expected = elapsed so far + wait for the event loop's turn + profiled p50 of the model
 *
 * onnxruntime-node runs each inference on the event loop, in a setImmediate callback, one at a
 * time; under load, what a request waits between the choice of its model and its answer is that
 * turn (measured on 2 cores: the time left after selection exceeded the turn plus the models'
 * p50 by 0.1 ms at p50 and 0.8 ms at p99, whatever the count of requests in flight, which did not
 * predict it). So every request a task receives measures the turn with a setImmediate of its
 * own, shed or not: the estimate never depends on what it decided. It is a moving mean plus
 * `deviations` moving mean deviations (as TCP estimates a round trip, RFC 6298), a high estimate,
 * since the budget is a hard bound; it fades towards zero while no request measures it (time
 * constant `memoryMs`), so the estimate of a burst ends with it. The profiled p50 stays each
 * model's cost, so that the models keep the order calibration assumed.
 * Pure: the caller brings the clock readings.
 */

export interface LatencyModelOptions {
  /** Off: a model's expected latency is its profiled p50, and nothing is shed (ADAPTIVE_LATENCY=0). */
  adaptive: boolean;
  /** Weight of each new sample in the moving mean and deviation when samples come close together, in (0, 1]. */
  smoothing: number;
  /** Mean deviations added to the moving mean. */
  deviations: number;
  /** Time constant, in ms, with which the estimate fades while no request measures the wait. */
  memoryMs: number;
  /** Share of answers under a budget allowed to come late: the margin is steered to it. */
  lateShare: number;
  /** How far, in ms, one late answer raises the margin (an answer in time lowers it by lateShare / (1 - lateShare) of that). */
  marginStepMs: number;
}

/** Where a request stands. */
export interface Moment {
  /** The clock (performance.now()), in ms. */
  atMs: number;
  /** Since the request's receipt, in ms. */
  elapsedMs: number;
}

export class LatencyModel {
  private mean = 0;
  private deviation = 0;
  private fedAtMs = Number.NEGATIVE_INFINITY;
  private margin = 0;
  private marginAtMs = Number.NEGATIVE_INFINITY;

  constructor(readonly options: Readonly<LatencyModelOptions>) {
    if (!(options.smoothing > 0 && options.smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], not ${options.smoothing}`);
    if (!(options.deviations >= 0)) throw new RangeError(`deviations must be >= 0, not ${options.deviations}`);
    if (!(options.memoryMs > 0)) throw new RangeError(`memoryMs must be > 0, not ${options.memoryMs}`);
    if (!(options.lateShare > 0 && options.lateShare < 1)) throw new RangeError(`lateShare must be in (0, 1), not ${options.lateShare}`);
    if (!(options.marginStepMs >= 0)) throw new RangeError(`marginStepMs must be >= 0, not ${options.marginStepMs}`);
  }

  /** How much of the estimate is left at `atMs`: 1 right after a sample, towards 0 after silence. */
  private freshness(atMs: number): number {
    return Math.exp(-Math.max(0, atMs - this.fedAtMs) / this.options.memoryMs);
  }

  /** The wait for the event loop's turn planned for at `atMs`, in ms. */
  waitMs(atMs: number): number {
    if (!this.options.adaptive) return 0;
    return Math.max(0, (this.mean + this.options.deviations * this.deviation) * this.freshness(atMs));
  }

  /**
   * The margin planned for on top of the wait, in ms: what the answers that came late say the
   * estimate misses (a pause of the collector, a burst after the choice). It fades like the wait,
   * so that a margin grown while everything was shed does not outlive the load that grew it.
   */
  marginMs(atMs: number): number {
    if (!this.options.adaptive) return 0;
    return this.margin * Math.exp(-Math.max(0, atMs - this.marginAtMs) / this.options.memoryMs);
  }

  /** Expected ms from receipt to answer of a request at `now`, answered by a model of p50 `profiledMs`. */
  expectedMs(profiledMs: number, now: Moment): number {
    if (!this.options.adaptive) return profiledMs;
    return now.elapsedMs + profiledMs + this.waitMs(now.atMs) + this.marginMs(now.atMs);
  }

  /**
   * Learns from an answer given under a latency budget: late ones raise the margin, answers in time
   * lower it, in the ratio that holds it where `lateShare` of the answers come late (a stochastic
   * approximation of that quantile of the estimate's error).
   */
  observeAnswer(late: boolean, atMs: number): void {
    if (!this.options.adaptive) return;
    const { lateShare, marginStepMs } = this.options;
    const step = late ? marginStepMs : (-marginStepMs * lateShare) / (1 - lateShare);
    this.margin = Math.max(0, this.marginMs(atMs) + step);
    this.marginAtMs = atMs;
  }

  /**
   * Whether to refuse a request now rather than answer it late: the fastest model it may run (p50
   * `fastestMs`) is not expected to meet `budgetMs`, although it could by its own latency, so the
   * load is what breaks the budget, and a retry may find less. A budget below the fastest model's
   * own latency is not shed: the policy serves the fastest and says the constraint is not met.
   */
  unreachable(budgetMs: number, fastestMs: number, now: Moment): boolean {
    if (!this.options.adaptive || !Number.isFinite(budgetMs)) return false;
    return fastestMs <= budgetMs && this.expectedMs(fastestMs, now) > budgetMs;
  }

  /** Learns from a turn of the event loop that took `waitMs` and ended at `atMs`. */
  observeWait(waitMs: number, atMs: number): void {
    if (!this.options.adaptive) return;
    // The past keeps its weight (1 - smoothing) only while it is fresh: a sample after a silence
    // replaces it.
    const kept = (1 - this.options.smoothing) * this.freshness(atMs);
    this.mean = kept * this.mean + (1 - kept) * waitMs;
    this.deviation = kept * this.deviation + (1 - kept) * Math.abs(waitMs - this.mean);
    this.fedAtMs = Math.max(this.fedAtMs, atMs);
  }
}
