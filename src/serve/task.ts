/**
 * One task, ready to serve: its zoo's sessions, its premodel, its input kind bound to the zoo, and
 * `predict`, which runs a request through the stages of serve/stages.ts. A task may have split
 * routes (heads): each head's tails are served as a task of their own, under the same name, by
 * the same stages; `head(id)` is the one a request naming that head is answered by.
 */
import type { DecisionSigner } from '../feedback/token.js';
import type { TaskInputs } from '../inputs/kind.js';
import { taskInputs } from '../inputs/registry.js';
import type { OperatingPointFor } from '../premodel/operating-point.js';
import type { Premodel } from '../premodel/premodel.js';
import { BATCHING_DEFAULTS, FEEDBACK_DEFAULTS } from '../config/defaults.js';
import { NotFoundError, UnavailableError } from '../errors/index.js';
import { DriftMonitor } from '../quality/drift.js';
import { TaskQuality, type CorrectionOptions } from '../quality/realized.js';
import type { Constraint } from '../select/policy.js';
import type { HeadEntry } from '../zoo/manifest.js';
import type { Zoo, ZooModel } from '../zoo/repository.js';
import { BatchCosts, measureRowShare } from './batch-cost.js';
import { Batcher, systemScheduler, type BatcherOptions, type BatchScheduler } from './batcher.js';
import { systemClock, type Clock } from './clock.js';
import type { LatencyModel, Moment } from './latency.js';
import type { InferenceRequest, Prediction } from './request.js';
import { beginRequest, decode, features, respond, run, select, type StagedTask } from './stages.js';

export interface ServedTaskOptions {
  /** Budget of requests that give no maxLatencyMs, in ms (Infinity: none). */
  defaultMaxLatencyMs: number;
  /** The process's live latency model, shared by every task it serves. */
  latency: LatencyModel;
  /** Retry-After of a request shed because no model can meet its budget now, in seconds. */
  retryAfterS: number;
  /** Signs each prediction's decision into its requestId, for label feedback. */
  signer: DecisionSigner;
  /** How label feedback corrects the operating points. */
  correction: Readonly<CorrectionOptions>;
  /** Dynamic batching (serve/batcher.ts); default BATCHING_DEFAULTS. */
  batching?: Readonly<BatchingOptions>;
  clock?: Clock;
  /** When batches run; default: as the turn ends (setImmediate), or after BATCH_WAIT_MS (setTimeout). */
  batchScheduler?: BatchScheduler;
  /** The task's split routes. */
  heads?: readonly ServedHead[];
  /** The head whose tails this task serves (a split route of the task of the same name). */
  head?: string;
}

/** A split route of a task: the head a device downloads and runs, and the tails that finish its requests. */
export interface ServedHead {
  readonly id: string;
  readonly entry: HeadEntry;
  /** head.onnx as loaded and verified against its sha256. */
  readonly bytes: Uint8Array;
  /** The zoo of its tails (kind bottleneck). */
  readonly zoo: Zoo;
  /** Its tails, routed by the head's premodel; undefined while it has none (its requests are refused). */
  readonly tails: ServedTask | undefined;
  /** Why its requests are refused, when it has no tails served. */
  readonly unavailable?: string;
}

/** Dynamic batching as the service is configured: on or off, and the batcher's options. */
export type BatchingOptions = { enabled: boolean } & Pick<BatcherOptions, 'maxSize' | 'waitMs'> & Partial<BatcherOptions>;

export class ServedTask implements StagedTask {
  readonly inputs: TaskInputs;
  /** The fastest model the premodel routes to: whether a budget can be met at all hangs on it. */
  readonly fastest: ZooModel;
  readonly defaultMaxLatencyMs: number;
  /** Per encoding group (and '' for none): the operating points calibration found for it. */
  private readonly pointsByGroup = new Map<string, OperatingPointFor>();
  readonly latency: LatencyModel;
  readonly retryAfterS: number;
  readonly clock: Clock;
  /** Runs of one model asked for in the same turn, as one batch; none: BATCHING=0. */
  readonly batcher: Batcher<ZooModel> | undefined;
  /** What a batch of each model costs against a single run, measured by warmUp. */
  readonly batchCosts = new BatchCosts();
  readonly signer: DecisionSigner;
  /** What label feedback shows of this task's promise, and its online correction (reset with the plane: a reload). */
  readonly quality: TaskQuality;
  /** The routing premodel as decision tokens name it: the first 8 hex digits of its dataHash. */
  readonly premodelId: string;
  /** Each rung's position in the zoo, as decision tokens record the models run. */
  readonly rungIndex: ReadonlyMap<string, number>;
  /** How far what clients send has moved from the premodel split; none for a premodel without a reference. */
  drift: DriftMonitor | undefined;
  private driftCountdown = FEEDBACK_DEFAULTS.driftFeatureSample;
  /** The groups drifted at the last look (`newlyDrifted`). */
  private drifted = new Set<string>();

  /** The task's split routes, by head id (none for most tasks, and for a head's own tails). */
  readonly heads: ReadonlyMap<string, ServedHead>;
  /** The head whose tails this serves, for a split route; undefined for a task's own zoo. */
  readonly headId: string | undefined;
  /** What decisions (requestIds) name the route that answered: the task, or `<task>/<head>` for a split route. */
  readonly route: string;

  constructor(
    readonly zoo: Zoo,
    readonly premodel: Premodel,
    options: ServedTaskOptions,
  ) {
    this.inputs = taskInputs(zoo.manifest);
    this.heads = new Map((options.heads ?? []).map((h) => [h.id, h]));
    this.headId = options.head;
    this.route = options.head === undefined ? zoo.task : `${zoo.task}/${options.head}`;
    this.defaultMaxLatencyMs = options.defaultMaxLatencyMs;
    this.latency = options.latency;
    this.retryAfterS = options.retryAfterS;
    this.clock = options.clock ?? systemClock;
    const batching = options.batching ?? BATCHING_DEFAULTS;
    // The latency model learns from each batch once, against what it would take on an idle service.
    this.batcher = batching.enabled
      ? new Batcher<ZooModel>(
          { smoothing: BATCHING_DEFAULTS.smoothing, memoryMs: BATCHING_DEFAULTS.memoryMs, ...batching },
          this.batchCosts,
          this.clock,
          (model, size, runMs, atMs) => this.latency.observeRun(this.profiledMs(model) * this.batchCosts.factor(model.id, size), runMs, atMs),
          options.batchScheduler ?? systemScheduler,
        )
      : undefined;
    this.signer = options.signer;
    this.quality = new TaskQuality(options.correction);
    this.premodelId = premodel.file.dataHash.slice(0, 8);
    this.rungIndex = new Map(zoo.rungs.map((r, i) => [r.id, i]));
    this.drift = this.freshDriftMonitor();
    this.fastest = premodel.models
      .map((id) => zoo.rung(id))
      .filter((r) => r.view === undefined)
      .map((r) => r.model)
      .reduce((a, b) => (this.profiledMs(b) < this.profiledMs(a) ? b : a));
  }

  operatingPointsFor(group: string | undefined): OperatingPointFor {
    const key = group ?? '';
    let points = this.pointsByGroup.get(key);
    if (points === undefined) {
      // Label feedback may raise a target's band: the point is chosen for the raised target, and
      // vouches for the request's own target where its bound reaches that.
      points = (target) => this.premodel.operatingPoint(this.quality.effectiveTarget(target, group), group);
      this.pointsByGroup.set(key, points);
    }
    return points;
  }

  get name(): string {
    return this.zoo.task;
  }

  /**
   * The tails that answer a request naming head `id`: NotFoundError listing the task's heads (or
   * saying it has none), UnavailableError for a head without a premodel yet.
   */
  head(id: string): ServedTask {
    const head = this.headRoute(id);
    if (head.tails === undefined) throw new UnavailableError(head.unavailable ?? `head "${id}" of task "${this.name}" is not served`);
    return head.tails;
  }

  /** The split route of head `id`, served or not: NotFoundError listing the task's heads (or saying it has none). */
  headRoute(id: string): ServedHead {
    const head = this.heads.get(id);
    if (head !== undefined) return head;
    throw new NotFoundError(
      this.heads.size === 0
        ? `task "${this.name}" has no heads (split computing): send it ${this.inputs.kind}s (input.${this.inputs.jsonField})`
        : `task "${this.name}" has no head "${id}"; its heads are: ${[...this.heads.keys()].join(', ')}`,
    );
  }

  /** Every route of this task that signs decisions, by the name its decisions carry: itself and each served head's tails. */
  get routes(): ReadonlyMap<string, ServedTask> {
    const tails = [...this.heads.values()].flatMap((h) => (h.tails === undefined ? [] : [h.tails]));
    return new Map([this, ...tails].map((t) => [t.route, t]));
  }

  /** Closes the sessions of its zoo and of its heads' tails. */
  dispose(): void {
    this.zoo.dispose();
    for (const head of this.heads.values()) head.zoo.dispose();
  }

  get classes(): readonly string[] {
    return this.zoo.manifest.classes;
  }

  private freshDriftMonitor(): DriftMonitor | undefined {
    const reference = this.premodel.drift;
    return reference === undefined ? undefined : new DriftMonitor(reference, this.premodel.file.featureNames);
  }

  /** Forgets what the drift monitor saw: warm-up requests are no client's. */
  resetDrift(): void {
    this.drift = this.freshDriftMonitor();
  }

  /** Whether a request whose route skipped the features computes them for the drift monitor: one in FEEDBACK_DEFAULTS.driftFeatureSample. */
  sampleFeaturesForDrift(): boolean {
    if (this.drift === undefined || --this.driftCountdown > 0) return false;
    this.driftCountdown = FEEDBACK_DEFAULTS.driftFeatureSample;
    return true;
  }

  /** The input groups that have drifted since the last call (each reported once, until it recovers and drifts again). */
  newlyDrifted(): { group: string; featurePsi: number | undefined; feature: string | undefined; confidencePsi: number | undefined }[] {
    if (this.drift === undefined) return [];
    const now = Object.entries(this.drift.snapshot().groups).filter(([, g]) => g.drifted);
    const fresh = now.filter(([group]) => !this.drifted.has(group));
    this.drifted = new Set(now.map(([group]) => group));
    return fresh.map(([group, g]) => ({ group, featurePsi: g.featurePsi?.psi, feature: g.featurePsi?.feature, confidencePsi: g.confidencePsi }));
  }

  /** A model's profiled p50, in ms: what it costs on an idle service, and its rank among the zoo's. */
  profiledMs(model: ZooModel): number {
    return model.entry.latency?.p50Ms ?? Number.POSITIVE_INFINITY;
  }

  /** Expected latency, arrival to answer, of a request at `now` if `model` answered it, in ms. */
  expectedLatencyMs(model: ZooModel, now: Moment): number {
    return this.latency.expectedMs(this.profiledMs(model), now);
  }

  /** Answers `request`: decode, features, select, run and verify, respond. */
  async predict(request: InferenceRequest): Promise<Prediction> {
    const ctx = beginRequest(this, request);
    await decode(ctx);
    // A route that asks the premodel nothing skips the stage, and its await.
    if (ctx.consultsPremodel) await features(ctx);
    select(ctx);
    await run(ctx);
    return respond(ctx);
  }

  /**
   * Runs every model, and the routed pipeline, a few times on the kind's warm-up inputs, so that the first
   * requests do not pay for what is initialised on first use (onnxruntime's first runs, code the
   * engine compiles when it is first called): a fresh service shed its first budgeted requests.
   */
  async warmUp(rounds = 2): Promise<void> {
    const wires = await this.inputs.warmUpInputs();
    const request = (constraint: Constraint, wire = wires[0]!): InferenceRequest => ({
      wire,
      limits: { maxPixels: Number.MAX_SAFE_INTEGER },
      constraint,
      readAtMs: this.clock.now(),
      waitedMs: 0,
    });
    for (let round = 0; round < rounds; round++) {
      for (const model of this.zoo.models) await this.predict(request({ model: model.id }));
      // The routed path: the default target, the cheapest point, and the most accurate one (the
      // rungs that reuse a run, test-time augmentations, sit at the top of the ladders), in every form.
      for (const wire of wires) for (const constraint of [{}, { minAccuracy: 0 }, { minAccuracy: 1 }]) await this.predict(request(constraint, wire));
    }
    if (this.batcher !== undefined) this.measureBatchCosts();
    this.resetDrift();
    for (const head of this.heads.values()) await head.tails?.warmUp(rounds);
  }

  /** Each model's cost of a batch against a single run (serve/batch-cost.ts), on a blank (zero) tensor. */
  measureBatchCosts(): void {
    const { profileSize, profileRuns } = BATCHING_DEFAULTS;
    for (const model of this.zoo.models) {
      const exampleSize = model.entry.input.shape.reduce((a, b) => a * b, 1);
      const share = measureRowShare(model, exampleSize, this.clock, Math.min(profileSize, this.batcher?.options.maxSize ?? profileSize), profileRuns);
      if (share !== undefined) this.batchCosts.set(model.id, share);
    }
  }
}
