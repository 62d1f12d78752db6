import { expect } from 'chai';
import { LATENCY_DEFAULTS } from '../../src/config/defaults.js';
import { BatchCosts, measureRowShare } from '../../src/serve/batch-cost.js';
import { Batcher, type BatchedRun, type BatcherOptions, type BatchModel, type BatchScheduler } from '../../src/serve/batcher.js';
import type { DataPlane } from '../../src/serve/dataplane.js';
import { LatencyModel } from '../../src/serve/latency.js';
import { MODEL_RUNS, type InferenceRequest, type Prediction } from '../../src/serve/request.js';
import type { ServedTask } from '../../src/serve/task.js';
import { ManualClock } from '../helpers/clock.js';
import { loadPlane, windowArray } from '../http/server.js';

/** Runs scheduled batches only when the test says the turn ended, or the wait passed. */
class ManualScheduler implements BatchScheduler {
  private turn: (() => void)[] = [];
  private timers: { ms: number; run: () => void }[] = [];

  afterTurn(run: () => void): void {
    this.turn.push(run);
  }

  after(ms: number, run: () => void): void {
    this.timers.push({ ms, run });
  }

  /** Ends the turn: every batch that waits for it runs. */
  endTurn(): void {
    for (const run of this.turn.splice(0)) run();
  }

  /** The waits that were asked for, in ms; and lets them pass. */
  elapse(): number[] {
    const waits = this.timers.splice(0);
    for (const t of waits) t.run();
    return waits.map((t) => t.ms);
  }
}

/**
 * A model of two outputs per example, its input's sum and first value, that takes `costMs` plus
 * `rowMs` per example on the clock, and fails any batch with a NaN in it.
 */
class FakeModel implements BatchModel {
  readonly batches: number[] = [];

  constructor(
    readonly id: string,
    private readonly clock: ManualClock,
    private readonly costMs = 1,
    private readonly rowMs = 0.25,
  ) {}

  classify(input: Float32Array, batch: number): Float32Array {
    if (input.some(Number.isNaN)) throw new Error(`${this.id}: NaN in the input`);
    this.batches.push(batch);
    this.clock.advance(this.costMs + this.rowMs * (batch - 1), 0);
    const width = input.length / batch;
    const out = new Float32Array(batch * 2);
    for (let i = 0; i < batch; i++) {
      const row = input.subarray(i * width, (i + 1) * width);
      out[2 * i] = row.reduce((a, b) => a + b, 0);
      out[2 * i + 1] = row[0]!;
    }
    return out;
  }
}

const OPTIONS: BatcherOptions = { maxSize: 8, waitMs: 0, smoothing: 0.5, memoryMs: 250 };

function setUp(options: Partial<BatcherOptions> = {}) {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler();
  const runs: { model: string; size: number; runMs: number }[] = [];
  const costs = new BatchCosts();
  const batcher = new Batcher<FakeModel>({ ...OPTIONS, ...options }, costs, clock, (model, size, runMs) => runs.push({ model: model.id, size, runMs }), scheduler);
  return { clock, scheduler, runs, costs, batcher, model: new FakeModel('m', clock) };
}

const example = (...values: number[]) => Float32Array.from(values);

describe('serve/batcher: dynamic batching', () => {
  it('runs what one turn asks of a model as one batch, each member getting its own row', async () => {
    const { scheduler, runs, batcher, model, clock } = setUp();
    const answers = [example(1, 2, 3), example(4, 5, 6), example(7, 8, 9)].map((x) => batcher.submit(model, x));
    expect(model.batches).to.deep.equal([]);
    expect(batcher.pending(model)).to.equal(3);
    clock.advance(0.5, 0); // the rest of the turn
    scheduler.endTurn();
    const got = await Promise.all(answers);
    expect(model.batches).to.deep.equal([3]);
    expect(got.map((r) => Array.from(r.probabilities))).to.deep.equal([[6, 1], [15, 4], [24, 7]]);
    // Each member records the batch's run and its size; the observer hears of the run once.
    for (const r of got) expect(r).to.deep.include({ size: 3, runMs: 1.5, waitedMs: 0.5 });
    expect(runs).to.deep.equal([{ model: 'm', size: 3, runMs: 1.5 }]);
  });

  it('keeps one batch per model', async () => {
    const { scheduler, batcher, model, clock } = setUp();
    const other = new FakeModel('other', clock);
    const answers = [batcher.submit(model, example(1)), batcher.submit(other, example(2)), batcher.submit(model, example(3))];
    scheduler.endTurn();
    expect((await Promise.all(answers)).map((r) => [r.probabilities[0], r.size])).to.deep.equal([[1, 2], [2, 1], [3, 2]]);
    expect([model.batches, other.batches]).to.deep.equal([[2], [1]]);
  });

  it('a batch of one runs the member\'s own tensor, as a direct run does', async () => {
    const { scheduler, clock } = setUp();
    const seen: Float32Array[] = [];
    const model: BatchModel = { id: 'spy', classify: (input) => (seen.push(input), Float32Array.of(0.25, 0.75)) };
    const tensor = example(1, 2);
    const answer = new Batcher<BatchModel>(OPTIONS, new BatchCosts(), clock, () => undefined, scheduler).submit(model, tensor);
    scheduler.endTurn();
    expect((await answer).size).to.equal(1);
    expect(seen[0]).to.equal(tensor);
  });

  it('runs a full batch at once, and the next members in a batch of their own', async () => {
    const { scheduler, batcher, model } = setUp({ maxSize: 3 });
    const answers = Array.from({ length: 7 }, (_, i) => batcher.submit(model, example(i)));
    expect(model.batches).to.deep.equal([3, 3]);
    scheduler.endTurn();
    const got = await Promise.all(answers);
    expect(model.batches).to.deep.equal([3, 3, 1]);
    expect(got.map((r) => r.probabilities[0])).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    expect(got.map((r) => r.size)).to.deep.equal([3, 3, 3, 3, 3, 3, 1]);
  });

  it('waits BATCH_WAIT_MS after the first member, not the end of the turn, when a wait is set', async () => {
    const { scheduler, batcher, model } = setUp({ waitMs: 2 });
    const answers = [batcher.submit(model, example(1)), batcher.submit(model, example(2))];
    scheduler.endTurn();
    expect(model.batches).to.deep.equal([]);
    expect(scheduler.elapse()).to.deep.equal([2]);
    expect((await Promise.all(answers)).map((r) => r.size)).to.deep.equal([2, 2]);
  });

  it('a batch that fails runs its members alone: only the input that breaks the model fails, with its own error', async () => {
    const { scheduler, runs, batcher, model } = setUp();
    const answers = [example(1), example(Number.NaN), example(3)].map((x) =>
      batcher.submit(model, x).then(
        (r: BatchedRun) => ({ value: r.probabilities[0], size: r.size }),
        (err: Error) => ({ error: err.message }),
      ),
    );
    scheduler.endTurn();
    expect(await Promise.all(answers)).to.deep.equal([{ value: 1, size: 1 }, { error: 'm: NaN in the input' }, { value: 3, size: 1 }]);
    expect(runs.map((r) => r.size)).to.deep.equal([1, 1]);
  });

  it('a model that fails every run fails every member of its batch with its error, and no other batch', async () => {
    const { scheduler, model, clock } = setUp();
    const broken: BatchModel = {
      id: 'broken',
      classify: () => {
        throw new Error('session disposed');
      },
    };
    const mixed = new Batcher<BatchModel>(OPTIONS, new BatchCosts(), clock, () => undefined, scheduler);
    const failing = [mixed.submit(broken, example(1)), mixed.submit(broken, example(2))].map((p) => p.then(() => 'ok', (err: Error) => err.message));
    const fine = mixed.submit(model, example(5));
    scheduler.endTurn();
    expect(await Promise.all(failing)).to.deep.equal(['session disposed', 'session disposed']);
    expect((await fine).probabilities[0]).to.equal(5);
  });

  it('plans the bounded wait left, the lateness recent members saw, and a batch as large as recent ones at its measured cost; idle again, an idle service\'s', async () => {
    const { scheduler, batcher, model, costs, clock } = setUp({ waitMs: 3, maxSize: 5, smoothing: 1 });
    costs.set('m', 0.25);
    // Idle: a member that opens a batch waits the bound, alone.
    expect(batcher.plan(model, 2, clock.now())).to.deep.equal({ waitMs: 3, runMs: 2, size: 1 });
    // One that joins two members 1 ms later is left 2 ms of the wait, in a batch of three.
    const members = [batcher.submit(model, example(1)), batcher.submit(model, example(2))];
    clock.advance(1, 0);
    expect(batcher.plan(model, 2, clock.now())).to.deep.equal({ waitMs: 2, runMs: 2 * (1 + 0.25 * 2), size: 3 });
    members.push(batcher.submit(model, example(3)), batcher.submit(model, example(4)));
    // The one that would fill the batch waits for nothing.
    expect(batcher.plan(model, 2, clock.now())).to.deep.include({ waitMs: 0, size: 5 });
    // The timer runs 1 ms late (a busy turn): every member waited 1 ms more than the wait it knew of.
    clock.advance(3, 0);
    scheduler.elapse();
    await Promise.all(members);
    expect(model.batches).to.deep.equal([4]);
    // The next member is planned that lateness on top of the bound, in a batch as large as the last.
    const plan = batcher.plan(model, 2, clock.now());
    expect(plan.size).to.equal(4);
    expect(plan.waitMs).to.be.closeTo(3 + 1, 0.01);
    clock.advance(10_000);
    expect(batcher.plan(model, 2, clock.now())).to.deep.equal({ waitMs: 3, runMs: 2, size: 1 });
  });

  it('refuses options out of range, naming the limit', () => {
    const { clock, costs } = setUp();
    expect(() => new Batcher({ ...OPTIONS, maxSize: 0 }, costs, clock, () => undefined)).to.throw(RangeError, /maxSize must be an integer >= 1/);
    expect(() => new Batcher({ ...OPTIONS, waitMs: -1 }, costs, clock, () => undefined)).to.throw(RangeError, /waitMs/);
  });
});

describe('serve/batch-cost', () => {
  it('measures what one more row adds to a run, as a share of a batch-1 run', () => {
    const clock = new ManualClock();
    expect(measureRowShare(new FakeModel('m', clock, 2, 0.5), 4, clock, 8, 5)).to.be.closeTo(0.25, 1e-12);
    expect(measureRowShare(new FakeModel('m', clock, 2, 4), 4, clock, 8, 5)).to.equal(1);
  });

  it('assumes no gain where nothing was measured: a clock that does not move', () => {
    const clock = new ManualClock();
    const still: BatchModel = { id: 'still', classify: (_, n) => new Float32Array(2 * n) };
    expect(measureRowShare(still, 4, clock, 8, 5)).to.equal(undefined);
    expect(new BatchCosts().factor('still', 5)).to.equal(5);
  });
});

/** A request forcing `model` (or routed, without one) on a window of `activity`, scaled by `scale`. */
function windowRequest(task: ServedTask, clock: ManualClock, scale: number, constraint: InferenceRequest['constraint']): InferenceRequest {
  const { length, channels } = task.inputs.description as { length: number; channels: number };
  const value = windowArray(length, channels, scale > 1 ? 'walking' : 'still').map((row) => row.map((v) => v * scale));
  return { wire: { form: 'json', field: 'window', value }, limits: { maxPixels: 1 << 24 }, constraint, readAtMs: clock.now(), waitedMs: 0 };
}

describe('serve/stages: dynamic batching on the request path (tiny zoo)', () => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler();
  let on: DataPlane;
  let off: DataPlane;
  before(async () => {
    // Warm-up runs its requests one by one: each waits for its turn to end, as a request alone does.
    const warming = setInterval(() => scheduler.endTurn(), 1);
    try {
      on = await loadPlane(undefined, { clock, batchScheduler: scheduler, batching: { enabled: true, maxSize: 4, waitMs: 0 } });
      off = await loadPlane(undefined, { clock, batching: { enabled: false, maxSize: 4, waitMs: 0 } });
    } finally {
      clearInterval(warming);
    }
  });
  after(() => {
    on.dispose();
    off.dispose();
  });

  const windowTask = (plane: DataPlane) => plane.tasks.find((t) => t.inputs.kind === 'window')!;

  /** Predicts `requests` side by side, as one turn reads them, then ends the turn. */
  async function sideBySide(task: ServedTask, requests: InferenceRequest[]): Promise<Prediction[]> {
    const answers = Promise.all(requests.map((r) => task.predict(r)));
    // The stages reach the model after a few microtasks: end the turn once they all wait.
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      scheduler.endTurn();
    }
    return answers;
  }

  it('requests forcing one model in one turn run as one batch, each answered as it would be alone', async () => {
    const task = windowTask(on);
    const model = task.zoo.models.at(-1)!.id;
    const requests = [0.5, 1, 2].map((scale) => windowRequest(task, clock, scale, { model }));
    const batched = await sideBySide(task, requests);
    const alone = await Promise.all(requests.map((r) => windowTask(off).predict(r)));
    expect(batched.map((p) => p[MODEL_RUNS].map((r) => r.batch))).to.deep.equal([[3], [3], [3]]);
    expect(alone.map((p) => p[MODEL_RUNS].map((r) => r.batch))).to.deep.equal([[1], [1], [1]]);
    for (const [i, p] of batched.entries()) {
      expect(p.model).to.equal(model);
      p.scores.forEach((s, k) => expect(s, `request ${i}, class ${k}`).to.be.closeTo(alone[i]!.scores[k]!, 1e-5));
    }
    // Every member records the batch's one run.
    expect(new Set(batched.map((p) => p[MODEL_RUNS][0]!.ms)).size).to.equal(1);
  });

  it('the latency model learns from each batch once, against its model\'s p50 times the batch\'s measured cost', async () => {
    const task = windowTask(on);
    const model = task.zoo.models[1]!;
    task.batchCosts.set(model.id, 0.5);
    const seen: [number, number][] = [];
    const observeRun = task.latency.observeRun.bind(task.latency);
    task.latency.observeRun = (profiledMs, observedMs, atMs) => {
      seen.push([profiledMs, observedMs]);
      observeRun(profiledMs, observedMs, atMs);
    };
    try {
      const batched = await sideBySide(task, [1, 2, 3].map((s) => windowRequest(task, clock, s / 2, { model: model.id })));
      expect(seen).to.deep.equal([[task.profiledMs(model) * (1 + 0.5 * 2), batched[0]![MODEL_RUNS][0]!.ms]]);
    } finally {
      task.latency.observeRun = observeRun;
    }
  });

  it('BATCH_MAX_SIZE splits a turn\'s requests into batches', async () => {
    const task = windowTask(on);
    const model = task.zoo.models[0]!.id;
    const batched = await sideBySide(task, [1, 2, 3, 4, 5, 6].map((s) => windowRequest(task, clock, s / 2, { model })));
    expect(batched.map((p) => p[MODEL_RUNS][0]!.batch)).to.deep.equal([4, 4, 4, 4, 2, 2]);
  });

  it('a request whose budget cannot afford the bounded wait runs at once, alone; one whose budget can, waits for its batch', async () => {
    const wait = new ManualScheduler();
    const latency = new LatencyModel(LATENCY_DEFAULTS);
    // Warm-up's requests wait for their batches too: the wait passes now and then while it loads.
    const warming = setInterval(() => wait.elapse(), 1);
    let plane: DataPlane;
    try {
      plane = await loadPlane(undefined, { clock, latency, batchScheduler: wait, batching: { enabled: true, maxSize: 4, waitMs: 5 } });
    } finally {
      clearInterval(warming);
    }
    const task = windowTask(plane);
    try {
      const model = task.zoo.models[0]!;
      const p50 = task.profiledMs(model);
      // The budget covers the run but not the 5 ms wait: answered without any wait passing.
      const tight = await task.predict(windowRequest(task, clock, 1, { model: model.id, maxLatencyMs: 4 }));
      expect(tight[MODEL_RUNS].map((r) => r.batch)).to.deep.equal([1]);
      expect(wait.elapse()).to.deep.equal([]);
      expect(p50).to.be.below(4);
      // A budget that covers the wait joins the batch, which runs once the wait passes.
      const roomy = task.predict(windowRequest(task, clock, 1, { model: model.id, maxLatencyMs: 50 }));
      let waits: number[] = [];
      for (let i = 0; i < 20 && waits.length === 0; i++) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        waits = wait.elapse();
      }
      expect(waits).to.deep.equal([5]);
      expect((await roomy)[MODEL_RUNS].map((r) => r.batch)).to.deep.equal([1]);
    } finally {
      plane.dispose();
    }
  });
});
