/**
 * A request's path through a served task, as explicit stages over one typed context:
 *
 *   decode    the wire input becomes the task's input kind (inputs/)      timing.decodeMs
 *   features  the premodel's cheap features, where the route consults it   timing.featuresMs
 *   select    stage one and the policy choose where to start (select/)     timing.selectMs
 *   run       each model runs (zoo/), in a batch with other requests'      timing.inferenceMs
 *             (batcher.ts) where the budget affords it, its verifier        (+ selectMs)
 *             judges the answer, and the route stops or escalates
 *   respond   the prediction, its selection and reason                    timing.totalMs
 *
 * Each stage times itself on the injected clock. A request that the load leaves no model able to
 * answer within its budget is shed (503) before decoding, to spare the work, and again at selection.
 */
import { InvalidInputError, OverloadedError } from '../errors/index.js';
import type { Input, WireInput } from '../inputs/kind.js';
import { kindOfJsonField } from '../inputs/registry.js';
import type { DecisionRun, DecisionSigner } from '../feedback/token.js';
import type { DriftMonitor } from '../quality/drift.js';
import type { TaskQuality } from '../quality/realized.js';
import { targetOf, type Candidate } from '../select/policy.js';
import { route, routeConsultsPremodel, type RouteResult, type Step } from '../select/route.js';
import type { TaskInputs } from '../inputs/kind.js';
import type { OperatingPointFor } from '../premodel/operating-point.js';
import type { Premodel } from '../premodel/premodel.js';
import type { PolicyDefaults } from '../select/policy.js';
import type { Rung, Zoo, ZooModel } from '../zoo/repository.js';
import { averageLogits, topTwo } from '../zoo/scores.js';
import type { Batcher } from './batcher.js';
import type { Clock } from './clock.js';
import type { LatencyModel, Moment } from './latency.js';
import { MODEL_RUNS, type InferenceRequest, type ModelRun, type Prediction, type StageTiming } from './request.js';

/** What the stages need of the task they serve (a ServedTask). */
export interface StagedTask {
  readonly name: string;
  /** What its decisions name: the task, or `<task>/<head>` for a split route's tails. */
  readonly route: string;
  readonly zoo: Zoo;
  readonly premodel: Premodel;
  readonly inputs: TaskInputs;
  /** Budget of requests that give no maxLatencyMs, in ms (Infinity: none). */
  readonly defaultMaxLatencyMs: number;
  readonly latency: LatencyModel;
  readonly clock: Clock;
  /** The fastest model the premodel routes to: whether a budget can be met at all hangs on it. */
  readonly fastest: ZooModel;
  readonly retryAfterS: number;
  /** Runs of one model asked for in the same turn, as one batch; none: batching is off. */
  readonly batcher: Batcher<ZooModel> | undefined;
  profiledMs(model: ZooModel): number;
  expectedLatencyMs(model: ZooModel, now: Moment): number;
  /** The operating points calibrated for requests of `group` (its encoding group; undefined: none), as label feedback corrects them. */
  operatingPointsFor(group: string | undefined): OperatingPointFor;
  readonly signer: DecisionSigner;
  readonly quality: TaskQuality;
  readonly premodelId: string;
  readonly rungIndex: ReadonlyMap<string, number>;
  readonly drift: DriftMonitor | undefined;
  /** Whether a request whose route skips the features computes them for the drift monitor. */
  sampleFeaturesForDrift(): boolean;
}

/** One request on its way through the stages of `task`. */
export interface RequestContext {
  readonly task: StagedTask;
  readonly request: InferenceRequest;
  /** The latency budget it is planned against, in ms (Infinity: none). */
  readonly budgetMs: number;
  /** The model the request forces, if any. */
  readonly forced: ZooModel | undefined;
  readonly timing: StageTiming;
  input?: Input;
  /** After decoding: the request's group as calibration knows it, its defaults and operating points. */
  group?: string;
  defaults?: PolicyDefaults;
  operatingPointFor?: OperatingPointFor;
  /** Whether its route asks the premodel's forests anything (a plain cascade does not). */
  consultsPremodel?: boolean;
  features?: Float32Array;
  /** Where the request stood when its model was chosen: the candidates' expected latencies are from then. */
  selectedAt?: Moment;
  route?: Generator<Step, RouteResult, number>;
  step?: IteratorResult<Step, RouteResult>;
  /** The last rung's class probabilities; and each model's plain answer, which a test-time augmentation reuses. */
  probabilities?: Float32Array;
  readonly answers: Map<string, Float32Array>;
  /** Each rung run, with its answer: what the decision token records. */
  readonly runs: DecisionRun[];
  /** Each model run's own time: what the per-model inference histogram observes. */
  readonly modelRuns: ModelRun[];
}

export function beginRequest(task: StagedTask, request: InferenceRequest): RequestContext {
  const { constraint } = request;
  return {
    task,
    request,
    budgetMs: constraint.maxLatencyMs ?? task.defaultMaxLatencyMs,
    forced: constraint.model === undefined ? undefined : task.zoo.model(constraint.model),
    timing: { queuedMs: request.waitedMs, decodeMs: 0, featuresMs: 0, selectMs: 0, inferenceMs: 0, totalMs: 0 },
    answers: new Map(),
    runs: [],
    modelRuns: [],
  };
}

/** Where the request stands now: the clock, and the time since its arrival (its wait to be read included). */
function momentOf(ctx: RequestContext): Moment {
  const atMs = ctx.task.clock.now();
  return { atMs, elapsedMs: ctx.request.waitedMs + atMs - ctx.request.readAtMs };
}

/** Refuses (503) a request that no model it may run can answer within its budget at `now`, rather than answer it late. */
function shedIfUnreachable(ctx: RequestContext, now: Moment): void {
  const { task, budgetMs } = ctx;
  const fastest = ctx.forced ?? task.fastest;
  if (!task.latency.unreachable(budgetMs, task.profiledMs(fastest), now)) return;
  throw new OverloadedError(
    `no model can answer within maxLatencyMs ${budgetMs} ms under the current load: the fastest, ${fastest.id}, ` +
      `is expected to answer ${task.expectedLatencyMs(fastest, now).toFixed(3)} ms after the request's arrival, ` +
      `${now.elapsedMs.toFixed(3)} ms of which are already spent waiting to be read and since ` +
      `(it takes ${task.profiledMs(fastest).toFixed(3)} ms on an idle service); retry in ${task.retryAfterS} s`,
    task.retryAfterS,
  );
}

export async function decode(ctx: RequestContext): Promise<void> {
  const clock = ctx.task.clock;
  const started = clock.now();
  shedIfUnreachable(ctx, momentOf(ctx));
  const inputs = ctx.task.inputs;
  const wire = ctx.request.wire;
  if (wire.form === 'json' && wire.field !== inputs.jsonField) throw wrongKind(ctx, wire);
  const input = await inputs.decode(wire, ctx.request.limits);
  await inputs.prepare(input);
  ctx.input = input;
  // What the decoder saw of the request (an image's encoding) picks the calibration that vouches for it.
  const { task } = ctx;
  const group = inputs.groupOf(input);
  if (group !== undefined) ctx.group = group;
  ctx.defaults = { minAccuracy: task.premodel.defaultTarget(group), maxLatencyMs: task.defaultMaxLatencyMs };
  ctx.operatingPointFor = task.operatingPointsFor(group);
  // A point that starts at the cheapest rung and trusts the models' own confidence needs no features.
  ctx.consultsPremodel = routeConsultsPremodel(ctx.request.constraint, ctx.operatingPointFor, ctx.defaults);
  ctx.timing.decodeMs = clock.now() - started;
}

function wrongKind(ctx: RequestContext, wire: Extract<WireInput, { form: 'json' }>): InvalidInputError {
  const sent = kindOfJsonField(wire.field)?.name ?? `input.${wire.field}`;
  return new InvalidInputError(`task "${ctx.task.name}" takes ${ctx.task.inputs.kind}s, not ${sent}s`);
}

/** The premodel's features: for a route that consults it (`consultsPremodel`) only. */
export async function features(ctx: RequestContext): Promise<void> {
  const started = ctx.task.clock.now();
  ctx.features = await ctx.task.inputs.features(ctx.input!);
  ctx.timing.featuresMs = ctx.task.clock.now() - started;
}

/**
 * Stage one's estimates for the rungs `models` with their expected latency at `now`. A model the
 * premodel has no forest for (one a request forces), or any rung when the route does not consult
 * the premodel (no features), counts with its model's measured accuracy on the premodel split. A
 * test-time augmentation costs two runs of its model alone, one where its model has run.
 */
function estimates(ctx: RequestContext, models: readonly string[], now: Moment): Candidate[] {
  const { task, features } = ctx;
  const pCorrect = features === undefined ? NO_ESTIMATES : task.premodel.estimate(features, models);
  return models.map((id) => {
    const { model, view } = task.zoo.rung(id);
    const runMs = task.profiledMs(model);
    const passes = view === undefined ? 1 : 2;
    return {
      model: id,
      pCorrect: pCorrect.get(id) ?? model.entry.accuracy?.premodel ?? 0,
      latencyMs: task.latency.expectedMs(runMs * passes, now),
      runMs: runMs * passes,
      ...(view === undefined ? {} : { reuses: { rung: model.id, ms: runMs } }),
    };
  });
}

/** What a route that does not consult the premodel gets from stage one: nothing. */
const NO_ESTIMATES: ReadonlyMap<string, number> = new Map();

export function select(ctx: RequestContext): void {
  const { task } = ctx;
  const started = task.clock.now();
  const now = momentOf(ctx);
  shedIfUnreachable(ctx, now);
  ctx.selectedAt = now;
  const group = ctx.group;
  ctx.route = route(task.premodel.models, (models) => estimates(ctx, models, now), ctx.request.constraint, ctx.operatingPointFor!, ctx.defaults!, (model) =>
    task.premodel.vouchedAlone(model, group),
  );
  ctx.step = ctx.route.next();
  ctx.timing.selectMs += task.clock.now() - started;
}

/**
 * One run of `model` on the request's input (or on a view of it), timed into the latency model:
 * in the model's batch (serve/batcher.ts) where the request's budget affords the wait, otherwise
 * at once, alone.
 */
async function runModel(ctx: RequestContext, model: ZooModel, view?: string): Promise<Float32Array> {
  const { task } = ctx;
  const tensor = await task.inputs.modelTensor(ctx.input!, model.entry.input.preprocessing, view);
  if (task.batcher !== undefined && affordsBatch(ctx, task.batcher, model)) {
    // The batcher times the batch's run and feeds it to the latency model, once per batch.
    const run = await task.batcher.submit(model, tensor);
    ctx.modelRuns.push({ model: model.id, ms: run.runMs, batch: run.size });
    return run.probabilities;
  }
  const running = task.clock.now();
  const probabilities = model.classify(tensor);
  const ran = task.clock.now();
  // What profiling timed: classify alone, not the conversion to the model's input.
  task.latency.observeRun(task.profiledMs(model), ran - running, ran);
  ctx.modelRuns.push({ model: model.id, ms: ran - running, batch: 1 });
  return probabilities;
}

/**
 * Whether the request can wait for `model`'s batch: a request without a budget always can; one
 * with a budget where the wait for the batch and the batch's run, as recent batches went and under
 * the current slowdown and margin, still answer it within its budget.
 */
function affordsBatch(ctx: RequestContext, batcher: Batcher<ZooModel>, model: ZooModel): boolean {
  if (!Number.isFinite(ctx.budgetMs)) return true;
  const { task } = ctx;
  const now = momentOf(ctx);
  const plan = batcher.plan(model, task.profiledMs(model), now.atMs);
  return task.latency.expectedMs(plan.runMs, now, plan.waitMs) <= ctx.budgetMs;
}

/**
 * A rung's answer: its model's (run once per request), averaged with the model's on the rung's
 * view. Where neither has run, both are asked for at once: batched, they run as one batch of two.
 */
async function runRung(ctx: RequestContext, rung: Rung): Promise<Float32Array> {
  const { model, view } = rung;
  let plain = ctx.answers.get(model.id);
  if (plain === undefined && view !== undefined && ctx.task.batcher !== undefined) {
    const [own, viewed] = await Promise.all([runModel(ctx, model), runModel(ctx, model, view)]);
    ctx.answers.set(model.id, own);
    return averageLogits(own, viewed);
  }
  if (plain === undefined) ctx.answers.set(model.id, (plain = await runModel(ctx, model)));
  return view === undefined ? plain : averageLogits(plain, await runModel(ctx, model, view));
}

/** Runs the rungs the route asks for, each answer judged by its verifier, until the route stops. */
export async function run(ctx: RequestContext): Promise<void> {
  const { task, forced, features } = ctx;
  const clock = task.clock;
  while (ctx.step !== undefined && !ctx.step.done) {
    const step = ctx.step.value;
    const started = clock.now();
    const probabilities = await runRung(ctx, task.zoo.rung(step.model));
    const ran = clock.now();
    const top = topTwo(probabilities);
    // A forced model runs once whatever its verifier says.
    const confirmed =
      forced !== undefined ? 1
      : step.verifier === 'confidence' || features === undefined ? top.confidence
      : task.premodel.confirm(step.model, features, top.confidence, top.margin);
    ctx.probabilities = probabilities;
    ctx.runs.push({ rung: task.rungIndex.get(step.model)!, classIndex: top.index, confidence: top.confidence });
    ctx.step = ctx.route!.next(confirmed);
    ctx.timing.inferenceMs += ran - started;
    ctx.timing.selectMs += clock.now() - ran;
  }
}

export function respond(ctx: RequestContext): Prediction {
  const { task, request, timing } = ctx;
  const result = (ctx.step as IteratorReturnResult<RouteResult>).value;
  const probabilities = ctx.probabilities!;
  const top = topTwo(probabilities);
  const done = task.clock.now();
  // Late on the clock the budget was planned on: from the request's arrival, its wait to be read included.
  if (Number.isFinite(ctx.budgetMs)) task.latency.observeAnswer(request.waitedMs + done - request.readAtMs > ctx.budgetMs, done);
  const answered = task.zoo.rung(result.model);
  const answeredMs = task.profiledMs(answered.model) * (answered.view === undefined ? 1 : 2);
  timing.totalMs = done - request.readAtMs;
  const calibrated = ctx.group === undefined ? '' : `; calibrated on ${ctx.group} images`;
  const feedback = feedbackOn(ctx, result);
  observeDrift(ctx, result);
  return {
    requestId: feedback.requestId,
    task: task.name,
    model: result.model,
    label: task.zoo.manifest.classes[top.index]!,
    classIndex: top.index,
    scores: Array.from(probabilities, (p) => Math.round(p * 1e6) / 1e6),
    selection: {
      constraintMet: result.constraintMet && !feedback.missed,
      predictedAccuracy: result.predictedAccuracy,
      predictedLatencyMs: result.predictedLatencyMs,
      candidates: result.candidates.map((c) => ({ model: c.model, pCorrect: Math.round(c.pCorrect * 1e4) / 1e4, latencyMs: c.latencyMs })),
      ran: result.ran,
      reason: task.latency.options.adaptive
        ? `${result.reason}${calibrated}${feedback.reason}; ${answered.id} expected ${task.latency.expectedMs(answeredMs, ctx.selectedAt!).toFixed(3)} ms now ` +
          `(profiled ${answeredMs.toFixed(3)} ms)`
        : `${result.reason}${calibrated}${feedback.reason}`,
    },
    timing,
    [MODEL_RUNS]: ctx.modelRuns,
  };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** A model id no zoo has: the drift monitor ignores the confidence it comes with. */
const NO_MODEL = '';

/**
 * Shows the request to the drift monitor: its features where the route computed them, and its
 * first model's confidence. A request whose route skipped the features computes them for the
 * monitor now and then, after its answer has gone (on a later turn of the event loop), so that its
 * own time does not pay for it.
 */
function observeDrift(ctx: RequestContext, result: RouteResult): void {
  const { task, group } = ctx;
  const first = ctx.runs[0];
  if (task.drift === undefined || first === undefined) return;
  const drift = task.drift;
  // The first model's confidence compares with the split's only where that model ran on every
  // input alike: a cascade's cheapest rung. Where stage one chose it, it ran on the inputs it suits.
  const unchosen = result.point !== undefined && task.premodel.file.calibration[result.point]!.start === 'cheapest';
  const model = unchosen ? task.zoo.rungs[first.rung]!.id : NO_MODEL;
  if (ctx.features !== undefined || !task.sampleFeaturesForDrift()) {
    drift.observe(group, ctx.features, model, first.confidence);
    return;
  }
  const input = ctx.input!;
  setImmediate(() => {
    Promise.resolve(input)
      .then((i) => task.inputs.features(i))
      .then(
        (features) => drift.observe(group, features, model, first.confidence),
        () => undefined, // the answer is given; a monitor's sample may be lost
      );
  });
}

/**
 * What label feedback adds to an answer: its requestId (the signed decision), and, where labels
 * of its target band have moved its operating point or show the band missed, the reason's words
 * (and a missed band is not vouched for).
 */
function feedbackOn(ctx: RequestContext, result: RouteResult): { requestId: string; missed: boolean; reason: string } {
  const { task, request, group } = ctx;
  const target = request.constraint.model === undefined ? targetOf(request.constraint, ctx.defaults!) : undefined;
  const effectiveTarget = target === undefined ? undefined : task.quality.effectiveTarget(target, group);
  const requestId = task.signer.sign({
    task: task.route,
    premodel: task.premodelId,
    issuedAtS: Math.floor(Date.now() / 1000),
    group,
    target,
    effectiveTarget,
    point: result.point,
    runs: ctx.runs,
  });
  if (target === undefined) return { requestId, missed: false, reason: '' };
  const missed = task.quality.missed(target, group);
  const raised = effectiveTarget! > target ? `; label feedback raised the target to ${pct(effectiveTarget!)}` : '';
  const short = missed ? `; recent labels show ${pct(target)} missed on such requests: not vouched for` : '';
  return { requestId, missed, reason: raised + short };
}
