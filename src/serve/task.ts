/**
 * One task, ready to serve: its zoo's sessions, its premodel, and the request pipeline as
 * explicit, timed stages: decode, features, select (premodel + policy), run, respond. The
 * premodel's routing is the generator in select/route.ts, driven here by real model runs.
 */
import { InvalidInputError, OverloadedError } from '../errors/index.js';
import { extractFeatures, featureViewOf, type FeatureView } from '../features/extract.js';
import { ImageInput } from '../inputs/image.js';
import { modelTensor, type ModelInput } from '../inputs/index.js';
import { topTwo } from '../pipeline/outcomes.js';
import type { Premodel } from '../premodel/premodel.js';
import type { Candidate, Constraint, PolicyDefaults } from '../select/policy.js';
import { route, routeConsultsPremodel, type OperatingPointFor } from '../select/route.js';
import type { Zoo, ZooModel } from '../zoo/repository.js';
import type { LatencyModel, Moment } from './latency.js';

export interface StageTiming {
  /** Estimated wait before the worker read the request (serve/read-wait.ts); not part of totalMs. */
  queuedMs: number;
  decodeMs: number;
  featuresMs: number;
  selectMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface Prediction {
  task: string;
  model: string;
  label: string;
  classIndex: number;
  scores: number[];
  selection: {
    constraintMet: boolean;
    predictedAccuracy: number;
    predictedLatencyMs: number;
    candidates: { model: string; pCorrect: number; latencyMs: number }[];
    /** Models run for this answer, in order (more than one when the route escalated). */
    ran: string[];
    reason: string;
  };
  timing: StageTiming;
}

export class ServedTask {
  readonly view: FeatureView;
  /** The fastest model the premodel routes to: whether a budget can be met at all hangs on it. */
  private readonly fastest: ZooModel;
  private readonly operatingPointFor: OperatingPointFor;

  constructor(
    readonly zoo: Zoo,
    readonly premodel: Premodel,
    private readonly defaults: PolicyDefaults,
    /** The process's live latency model, shared by every task it serves. */
    readonly latency: LatencyModel,
    /** Retry-After of a request shed because no model can meet its budget now, in seconds. */
    private readonly retryAfterS: number,
  ) {
    this.view = featureViewOf(zoo.manifest);
    this.fastest = premodel.models.map((id) => zoo.model(id)).reduce((a, b) => (profiledMs(b) < profiledMs(a) ? b : a));
    this.operatingPointFor = (target) => premodel.operatingPoint(target);
  }

  get name(): string {
    return this.zoo.task;
  }

  /** Expected latency, arrival to answer, of a request at `now` if `model` answered it, in ms. */
  expectedLatencyMs(model: ZooModel, now: Moment): number {
    return this.latency.expectedMs(profiledMs(model), now);
  }

  /**
   * Stage one's estimates for `models` with their expected latency now. A model the premodel has no
   * forest for (one a request forces), or any model when the route does not consult the premodel
   * (no `features`), counts with its measured accuracy on the premodel split.
   */
  private estimates(models: readonly string[], features: ArrayLike<number> | undefined, now: Moment): Candidate[] {
    const pCorrect = features === undefined ? NO_ESTIMATES : this.premodel.estimate(features, models);
    return models.map((id) => {
      const model = this.zoo.model(id);
      return {
        model: id,
        pCorrect: pCorrect.get(id) ?? model.entry.accuracy?.premodel ?? 0,
        latencyMs: this.expectedLatencyMs(model, now),
        runMs: profiledMs(model),
      };
    });
  }

  /** Where a request read at `started`, after waiting `waitedMs` to be read, stands now. */
  private moment(started: number, waitedMs: number): Moment {
    const atMs = performance.now();
    return { atMs, elapsedMs: waitedMs + atMs - started };
  }

  /**
   * Refuses (503) a request that no model it may run can answer within its budget at `now`,
   * rather than answer it late: checked before decoding, to spare the work, and at selection.
   */
  private shedIfUnreachable(budget: number, forced: ZooModel | undefined, now: Moment): void {
    const fastest = forced ?? this.fastest;
    if (!this.latency.unreachable(budget, profiledMs(fastest), now)) return;
    throw new OverloadedError(
      `no model can answer within maxLatencyMs ${budget} ms under the current load: the fastest, ${fastest.id}, ` +
        `is expected to answer ${this.expectedLatencyMs(fastest, now).toFixed(3)} ms after the request's arrival, ` +
        `${now.elapsedMs.toFixed(3)} ms of which are already spent waiting to be read and since ` +
        `(it takes ${profiledMs(fastest).toFixed(3)} ms on an idle service); retry in ${this.retryAfterS} s`,
      this.retryAfterS,
    );
  }

  /**
   * Runs every model, and the routed pipeline, a few times on a blank input, so that the first
   * requests do not pay for what is initialised on first use (onnxruntime's first runs, code the
   * engine compiles when it is first called): a fresh service shed its first budgeted requests.
   */
  async warmUp(rounds = 2): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      for (const id of this.premodel.models) await this.predict(this.blankInput(), { model: id });
      await this.predict(this.blankInput(), {});
    }
  }

  /** An input of the task's kind and size with nothing in it. */
  private blankInput(): ModelInput {
    const view = this.view;
    if (view.kind === 'window') return { kind: 'window', window: new Float32Array(view.length * view.channels) };
    const { width, height } = view.plane;
    return { kind: 'image', image: ImageInput.fromRaw({ pixels: new Uint8Array(width * height), width, height, channels: 1 }) };
  }

  /**
   * Answers `input`. `started` is when the request was read (performance.now()): `timing.totalMs`
   * counts from there. Its budget is planned from `waitedMs` earlier, the estimated wait before it
   * was read, so that a busy worker sheds, or serves cheaper, what its queue has made late.
   */
  async predict(input: ModelInput, constraint: Constraint, started = performance.now(), waitedMs = 0): Promise<Prediction> {
    const t0 = performance.now();
    if (input.kind !== this.view.kind) {
      throw new InvalidInputError(`task "${this.name}" takes ${this.view.kind}s, not ${input.kind}s`);
    }
    const forced = constraint.model === undefined ? undefined : this.zoo.model(constraint.model);
    const budget = constraint.maxLatencyMs ?? this.defaults.maxLatencyMs;
    // A point that starts at the cheapest rung and trusts the models' own confidence needs no features.
    const consulted = routeConsultsPremodel(constraint, this.operatingPointFor, this.defaults);
    const arrived = this.moment(started, waitedMs);
    this.shedIfUnreachable(budget, forced, arrived);
    // An image decodes on its first conversion: ask for the feature plane here so that decoding is
    // timed as its own stage (the features, and models of the same preprocessing, reuse it).
    if (input.kind === 'image' && this.view.kind === 'image') await input.image.tensor(this.view.plane);
    const t1 = performance.now();
    const features = consulted ? await extractFeatures(input, this.view) : undefined;
    const t2 = performance.now();
    const selectedAt = this.moment(started, waitedMs);
    this.shedIfUnreachable(budget, forced, selectedAt);
    const steps = route(
      this.premodel.models,
      (models) => this.estimates(models, features, selectedAt),
      constraint,
      this.operatingPointFor,
      this.defaults,
    );
    let step = steps.next();
    let selectMs = performance.now() - t2;
    let inferenceMs = 0;
    let probabilities: Float32Array = new Float32Array(0);
    while (!step.done) {
      const model = this.zoo.model(step.value.model);
      const r0 = performance.now();
      const tensor = await modelTensor(input, model.entry);
      const running = performance.now();
      probabilities = model.classify(tensor);
      const r1 = performance.now();
      // What profiling timed: classify alone, not the conversion to the model's input.
      this.latency.observeRun(profiledMs(model), r1 - running, r1);
      const top = topTwo(probabilities);
      // A forced model runs once whatever its verifier says: skip it.
      const confirmed =
        forced !== undefined ? 1
        : step.value.verifier === 'confidence' || features === undefined ? top.confidence
        : this.premodel.confirm(model.id, features, top.confidence, top.margin);
      step = steps.next(confirmed);
      inferenceMs += r1 - r0;
      selectMs += performance.now() - r1;
    }
    const result = step.value;
    const top = topTwo(probabilities);
    const done = performance.now();
    // Late on the clock the budget was planned on: from the request's arrival, its wait to be read included.
    if (Number.isFinite(budget)) this.latency.observeAnswer(waitedMs + done - started > budget, done);
    const answered = this.zoo.model(result.model);
    return {
      task: this.name,
      model: result.model,
      label: this.zoo.manifest.classes[top.index]!,
      classIndex: top.index,
      scores: Array.from(probabilities, (p) => Math.round(p * 1e6) / 1e6),
      selection: {
        constraintMet: result.constraintMet,
        predictedAccuracy: result.predictedAccuracy,
        predictedLatencyMs: result.predictedLatencyMs,
        candidates: result.candidates.map((c) => ({ model: c.model, pCorrect: Math.round(c.pCorrect * 1e4) / 1e4, latencyMs: c.latencyMs })),
        ran: result.ran,
        reason: this.latency.options.adaptive
          ? `${result.reason}; ${answered.id} expected ${this.expectedLatencyMs(answered, selectedAt).toFixed(3)} ms now ` +
            `(profiled ${profiledMs(answered).toFixed(3)} ms)`
          : result.reason,
      },
      timing: { queuedMs: waitedMs, decodeMs: t1 - t0, featuresMs: features === undefined ? 0 : t2 - t1, selectMs, inferenceMs, totalMs: done - started },
    };
  }
}

/** What a route that does not consult the premodel gets from stage one: nothing. */
const NO_ESTIMATES: ReadonlyMap<string, number> = new Map();

/** A model's profiled p50, in ms: what it costs on an idle service, and its rank among the zoo's. */
function profiledMs(model: ZooModel): number {
  return model.entry.latency?.p50Ms ?? Number.POSITIVE_INFINITY;
}
