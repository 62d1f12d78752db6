/**
 * Dynamic batching, as Triton's dynamic batcher and Clipper do it: the runs asked of one model
 * while the event loop serves a turn (the requests read in that turn, each through its stages up
 * to its model) run as one batch once the turn ends, or at once when the batch is full.
 *
 * Models otherwise run to completion (zoo/onnx.ts): a request whose model is chosen runs it at
 * once. A batch trades that for throughput: its first member waits for the rest of the turn (the
 * requests read after it, parsed up to their models) and, with `waitMs`, a bounded time more for
 * further members; each then waits for the batch's run, which costs less than its rows' runs one
 * by one (serve/batch-cost.ts). `plan` says what a member joining now is expected to wait and what
 * its batch's run is expected to cost, so that the stages let a request join only where its
 * latency budget affords it, and run it at once, alone, otherwise.
 *
 *   - A batch of one runs the member's own tensor, as a direct run does: no copy.
 *   - Each member gets its own row of the output, the batch's run time and its size.
 *   - A batch whose run fails runs its members one by one, so that an input that breaks the model
 *     fails its own request only, with its own error.
 *   - The latency model learns from each batch once, against what the batch should cost on an
 *     idle service (the observer), not from each member's share.
 *
 * The clock and the scheduler are injected: tests flush turns and move time themselves.
 */
import type { BatchCosts } from './batch-cost.js';
import type { Clock } from './clock.js';

/** What a batch needs of a model: its id and a batched run of class probabilities. */
export interface BatchModel {
  readonly id: string;
  /** Class probabilities of `batch` examples laid out one after the other in `input`. */
  classify(input: Float32Array, batch: number): Float32Array;
}

export interface BatcherOptions {
  /** The most examples one batch runs; a full batch runs at once. */
  maxSize: number;
  /** How long, in ms, a batch waits for more members after its first (0: until the end of the turn only). */
  waitMs: number;
  /** Weight of each batch in the moving means of the wait and of the size, in (0, 1]. */
  smoothing: number;
  /** Time constant, in ms, with which those means fade back to an idle service's while no batch runs. */
  memoryMs: number;
}

/** When batches run: after the turn (setImmediate), or after a wait (setTimeout). */
export interface BatchScheduler {
  afterTurn(run: () => void): void;
  after(ms: number, run: () => void): void;
}

export const systemScheduler: BatchScheduler = Object.freeze({
  // The check phase: after this turn's poll, so after every request that was ready was read.
  afterTurn: (run: () => void) => void setImmediate(run),
  after: (ms: number, run: () => void) => void setTimeout(run, ms),
});

/** One member's share of a batch. */
export interface BatchedRun {
  /** Its row of the batch's output. */
  readonly probabilities: Float32Array;
  /** Examples the batch ran (1: the member ran alone). */
  readonly size: number;
  /** The batch's run, in ms: the model's classify call alone, as a direct run is timed. */
  readonly runMs: number;
  /** From the member's submission to the start of its run, in ms. */
  readonly waitedMs: number;
}

/** Told of every run the batcher makes, once per run: its model, size, time (ms) and end (clock ms). */
export type RunObserver<M> = (model: M, size: number, runMs: number, atMs: number) => void;

/** What a member that joins now is expected to cost, before the latency model's slowdown. */
export interface BatchPlan {
  /** Until its batch runs, in ms: measured already, so not to be scaled by the slowdown. */
  waitMs: number;
  /** Its batch's run on an idle service, in ms. */
  runMs: number;
  /** The size of that batch. */
  size: number;
}

interface Member {
  readonly tensor: Float32Array;
  readonly submittedAt: number;
  resolve(run: BatchedRun): void;
  reject(err: unknown): void;
}

interface OpenBatch<M> {
  readonly model: M;
  readonly members: Member[];
  /** When its first member came (clock ms): with waitMs, it runs waitMs later. */
  readonly openedAt: number;
}

/** A moving mean that fades back to `prior` while nothing feeds it (time constant `memoryMs`). */
class FadingMean {
  private value: number;
  private fedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly prior: number,
    private readonly smoothing: number,
    private readonly memoryMs: number,
  ) {
    this.value = prior;
  }

  at(atMs: number): number {
    return this.prior + (this.value - this.prior) * Math.exp(-Math.max(0, atMs - this.fedAtMs) / this.memoryMs);
  }

  observe(sample: number, atMs: number): void {
    this.value = (1 - this.smoothing) * this.at(atMs) + this.smoothing * sample;
    this.fedAtMs = Math.max(this.fedAtMs, atMs);
  }
}

export class Batcher<M extends BatchModel> {
  /** The batch of each model (by id) still taking members. */
  private readonly open = new Map<string, OpenBatch<M>>();
  /**
   * How long members waited for their batch beyond what the wait they knew of (BATCH_WAIT_MS)
   * left them: the rest of the turn they were read in, or how late the timer ran. An idle
   * service's is 0.
   */
  private readonly lateness: FadingMean;
  /** Each model's batch sizes: an idle service's is 1. */
  private readonly sizes = new Map<string, FadingMean>();

  constructor(
    readonly options: Readonly<BatcherOptions>,
    private readonly costs: BatchCosts,
    private readonly clock: Clock,
    private readonly observe: RunObserver<M>,
    private readonly scheduler: BatchScheduler = systemScheduler,
  ) {
    if (!(Number.isSafeInteger(options.maxSize) && options.maxSize >= 1)) throw new RangeError(`maxSize must be an integer >= 1, not ${options.maxSize}`);
    if (!(options.waitMs >= 0 && Number.isFinite(options.waitMs))) throw new RangeError(`waitMs must be a finite number >= 0, not ${options.waitMs}`);
    if (!(options.smoothing > 0 && options.smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], not ${options.smoothing}`);
    if (!(options.memoryMs > 0)) throw new RangeError(`memoryMs must be > 0, not ${options.memoryMs}`);
    this.lateness = new FadingMean(0, options.smoothing, options.memoryMs);
  }

  /** Members of `model`'s open batch. */
  pending(model: M): number {
    return this.open.get(model.id)?.members.length ?? 0;
  }

  /**
   * What a member of `model` (p50 `profiledMs` at batch 1) that joined at `atMs` is expected to
   * wait and its batch to cost. The wait: none where it fills the batch; otherwise what is left of
   * the batch's bounded wait (all of it for a member that opens one) and the lateness recent
   * members saw beyond it. The batch: as large as recent ones of the model were, and at least as
   * large as it is already.
   */
  plan(model: M, profiledMs: number, atMs: number): BatchPlan {
    const open = this.open.get(model.id);
    const pending = open?.members.length ?? 0;
    const { maxSize, waitMs } = this.options;
    const cost = (size: number) => profiledMs * this.costs.factor(model.id, size);
    if (pending + 1 >= maxSize) return { waitMs: 0, runMs: cost(maxSize), size: maxSize };
    const recent = this.sizes.get(model.id)?.at(atMs) ?? 1;
    const size = Math.min(maxSize, Math.max(pending + 1, Math.round(recent)));
    const left = open === undefined ? waitMs : Math.max(0, open.openedAt + waitMs - atMs);
    return { waitMs: left + this.lateness.at(atMs), runMs: cost(size), size };
  }

  /** Runs `tensor` (one example) on `model` in the batch open for it, opening one if none is. */
  submit(model: M, tensor: Float32Array): Promise<BatchedRun> {
    let batch = this.open.get(model.id);
    if (batch === undefined) {
      const opened: OpenBatch<M> = { model, members: [], openedAt: this.clock.now() };
      this.open.set(model.id, opened);
      batch = opened;
      if (this.options.waitMs > 0) this.scheduler.after(this.options.waitMs, () => this.flush(opened));
      else this.scheduler.afterTurn(() => this.flush(opened));
    }
    const members = batch.members;
    const answer = new Promise<BatchedRun>((resolve, reject) => members.push({ tensor, submittedAt: this.clock.now(), resolve, reject }));
    if (members.length >= this.options.maxSize) this.flush(batch);
    return answer;
  }

  /** Runs `batch` unless it ran already (it filled up before its turn ended). */
  private flush(batch: OpenBatch<M>): void {
    const { model, members, openedAt } = batch;
    if (this.open.get(model.id) !== batch) return;
    this.open.delete(model.id);
    const started = this.clock.now();
    for (const m of members) {
      const known = Math.max(0, openedAt + this.options.waitMs - m.submittedAt);
      this.lateness.observe(Math.max(0, started - m.submittedAt - known), started);
    }
    this.sizeOf(model).observe(members.length, started);
    const width = members[0]!.tensor.length;
    if (members.length === 1 || members.some((m) => m.tensor.length !== width)) {
      for (const m of members) this.runAlone(model, m);
      return;
    }
    const input = new Float32Array(width * members.length);
    members.forEach((m, i) => input.set(m.tensor, i * width));
    let output: Float32Array;
    try {
      output = model.classify(input, members.length);
    } catch {
      // One input may be what breaks the run: each member runs alone and gets its own answer or error.
      for (const m of members) this.runAlone(model, m);
      return;
    }
    const ran = this.clock.now();
    const runMs = ran - started;
    this.observe(model, members.length, runMs, ran);
    const row = output.length / members.length;
    members.forEach((m, i) => m.resolve({ probabilities: output.slice(i * row, (i + 1) * row), size: members.length, runMs, waitedMs: started - m.submittedAt }));
  }

  private runAlone(model: M, member: Member): void {
    const started = this.clock.now();
    let output: Float32Array;
    try {
      output = model.classify(member.tensor, 1);
    } catch (err) {
      member.reject(err);
      return;
    }
    const ran = this.clock.now();
    this.observe(model, 1, ran - started, ran);
    member.resolve({ probabilities: output, size: 1, runMs: ran - started, waitedMs: started - member.submittedAt });
  }

  private sizeOf(model: M): FadingMean {
    let sizes = this.sizes.get(model.id);
    if (sizes === undefined) this.sizes.set(model.id, (sizes = new FadingMean(1, this.options.smoothing, this.options.memoryMs)));
    return sizes;
  }
}
