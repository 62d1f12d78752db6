/**
 * The live latency model behind `maxLatencyMs`: how long a request would take, from its arrival
 * to its answer, if this process answered it now with a given model.
 *
 *   expected = elapsed so far + profiled p50 of the model x slowdown + margin
 *
 * The time elapsed counts from the request's arrival: its estimated wait to be read (read-wait.ts)
 * and the time since.
 *
 * Models run synchronously (zoo/onnx.ts): once a request's model is chosen, nothing else runs in
 * this process until it is answered, so what is left is the run itself; or, where the request
 * joins a batch (serve/batcher.ts), the wait for the batch and the batch's run. On an idle service it
 * costs the profiled p50; under load every run takes longer (the other worker, the load, the
 * collector share the cores), by a factor that every run of every model measures: the ratio of
 * moving means of observed and profiled run time, so that a slow model's long runs weigh as much
 * as their share of the work. It fades back to 1 while nothing runs (time constant `memoryMs`), so
 * the slowdown of a burst ends with it. What it cannot see (a pause of the collector, the scheduler
 * taking the core mid-run) the margin learns from the answers that came late. One factor for
 * every model keeps them in the order calibration assumed.
 * Pure: the caller brings the clock readings.
 */

export interface LatencyModelOptions {
  /** Off: a model's expected latency is its profiled p50, and nothing is shed (ADAPTIVE_LATENCY=0). */
  adaptive: boolean;
  /** Weight of each run in the moving means when runs come close together, in (0, 1]. */
  smoothing: number;
  /** Time constant, in ms, with which the slowdown and the margin fade while nothing refreshes them. */
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
  /** Since the request arrived, in ms: since it was read, plus its estimated wait to be read. */
  elapsedMs: number;
}

export class LatencyModel {
  private observedMs = 0;
  private profiledMs = 0;
  private fedAtMs = Number.NEGATIVE_INFINITY;
  private margin = 0;
  private marginAtMs = Number.NEGATIVE_INFINITY;

  constructor(readonly options: Readonly<LatencyModelOptions>) {
    if (!(options.smoothing > 0 && options.smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], not ${options.smoothing}`);
    if (!(options.memoryMs > 0)) throw new RangeError(`memoryMs must be > 0, not ${options.memoryMs}`);
    if (!(options.lateShare > 0 && options.lateShare < 1)) throw new RangeError(`lateShare must be in (0, 1), not ${options.lateShare}`);
    if (!(options.marginStepMs >= 0)) throw new RangeError(`marginStepMs must be >= 0, not ${options.marginStepMs}`);
  }

  /** How much of the estimate is left at `atMs`: 1 right after a sample, towards 0 after silence. */
  private freshness(atMs: number): number {
    return Math.exp(-Math.max(0, atMs - this.fedAtMs) / this.options.memoryMs);
  }

  /** How many times its profiled p50 a run is planned to take at `atMs`. */
  slowdown(atMs: number): number {
    if (!this.options.adaptive || this.profiledMs === 0) return 1;
    return 1 + (this.observedMs / this.profiledMs - 1) * this.freshness(atMs);
  }

  /**
   * The margin planned for on top of the run, in ms: what the answers that came late say the
   * estimate misses (a pause of the collector, a descheduled worker). It fades like the slowdown,
   * so that a margin grown while everything was shed does not outlive the load that grew it.
   */
  marginMs(atMs: number): number {
    if (!this.options.adaptive) return 0;
    return this.margin * Math.exp(-Math.max(0, atMs - this.marginAtMs) / this.options.memoryMs);
  }

  /**
   * Expected ms from arrival to answer of a request at `now`, answered by a model of p50
   * `profiledMs`, after a wait of `waitMs` before its run (a batch's, serve/batcher.ts: measured on
   * the clock already, so not scaled by the slowdown).
   */
  expectedMs(profiledMs: number, now: Moment, waitMs = 0): number {
    if (!this.options.adaptive) return waitMs + profiledMs;
    return now.elapsedMs + waitMs + profiledMs * this.slowdown(now.atMs) + this.marginMs(now.atMs);
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

  /**
   * Learns from a run expected to take `profiledMs` on an idle service (a batch's: its model's p50
   * times the batch's cost factor, serve/batch-cost.ts) that took `observedMs` and ended at `atMs`.
   */
  observeRun(profiledMs: number, observedMs: number, atMs: number): void {
    if (!this.options.adaptive) return;
    // The past keeps its weight (1 - smoothing) only while it is fresh: a run after a silence
    // replaces it.
    const kept = (1 - this.options.smoothing) * this.freshness(atMs);
    this.observedMs = kept * this.observedMs + (1 - kept) * observedMs;
    this.profiledMs = kept * this.profiledMs + (1 - kept) * profiledMs;
    this.fedAtMs = Math.max(this.fedAtMs, atMs);
  }
}
