/**
 * A request's path through a served task, as explicit stages over one typed context:
 *
 *   decode    the wire input becomes the task's input kind (inputs/)      timing.decodeMs
 *   features  the premodel's cheap features, where the route consults it   timing.featuresMs
 *   select    stage one and the policy choose where to start (select/)     timing.selectMs
 *   run       each model runs (zoo/), its verifier judges the answer, and  timing.inferenceMs
 *             the route stops or escalates                                  (+ selectMs)
 *   respond   the prediction, its selection and reason                    timing.totalMs
 *
 * Each stage times itself on the injected clock. A request that the load leaves no model able to
 * answer within its budget is shed (503) before decoding, to spare the work, and again at selection.
 */
import { InvalidInputError, OverloadedError } from '../errors/index.js';
import type { Input, WireInput } from '../inputs/kind.js';
import { kindOfJsonField } from '../inputs/registry.js';
import type { Candidate } from '../select/policy.js';
import { route, routeConsultsPremodel, type RouteResult, type Step } from '../select/route.js';
import type { TaskInputs } from '../inputs/kind.js';
import type { OperatingPointFor } from '../premodel/operating-point.js';
import type { Premodel } from '../premodel/premodel.js';
import type { PolicyDefaults } from '../select/policy.js';
import type { Zoo, ZooModel } from '../zoo/repository.js';
import { topTwo } from '../zoo/scores.js';
import type { Clock } from './clock.js';
import type { LatencyModel, Moment } from './latency.js';
import type { InferenceRequest, Prediction, StageTiming } from './request.js';

/** What the stages need of the task they serve (a ServedTask). */
export interface StagedTask {
  readonly name: string;
  readonly zoo: Zoo;
  readonly premodel: Premodel;
  readonly inputs: TaskInputs;
  readonly defaults: PolicyDefaults;
  readonly operatingPointFor: OperatingPointFor;
  readonly latency: LatencyModel;
  readonly clock: Clock;
  /** The fastest model the premodel routes to: whether a budget can be met at all hangs on it. */
  readonly fastest: ZooModel;
  readonly retryAfterS: number;
  profiledMs(model: ZooModel): number;
  expectedLatencyMs(model: ZooModel, now: Moment): number;
}

/** One request on its way through the stages of `task`. */
export interface RequestContext {
  readonly task: StagedTask;
  readonly request: InferenceRequest;
  /** The latency budget it is planned against, in ms (Infinity: none). */
  readonly budgetMs: number;
  /** The model the request forces, if any. */
  readonly forced: ZooModel | undefined;
  /** Whether its route asks the premodel's forests anything (a plain cascade does not). */
  readonly consultsPremodel: boolean;
  readonly timing: StageTiming;
  input?: Input;
  features?: Float32Array;
  /** Where the request stood when its model was chosen: the candidates' expected latencies are from then. */
  selectedAt?: Moment;
  route?: Generator<Step, RouteResult, number>;
  step?: IteratorResult<Step, RouteResult>;
  /** The last model's class probabilities. */
  probabilities?: Float32Array;
}

export function beginRequest(task: StagedTask, request: InferenceRequest): RequestContext {
  const { constraint } = request;
  return {
    task,
    request,
    budgetMs: constraint.maxLatencyMs ?? task.defaults.maxLatencyMs,
    forced: constraint.model === undefined ? undefined : task.zoo.model(constraint.model),
    // A point that starts at the cheapest rung and trusts the models' own confidence needs no features.
    consultsPremodel: routeConsultsPremodel(constraint, task.operatingPointFor, task.defaults),
    timing: { queuedMs: request.waitedMs, decodeMs: 0, featuresMs: 0, selectMs: 0, inferenceMs: 0, totalMs: 0 },
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
  ctx.timing.decodeMs = clock.now() - started;
}

function wrongKind(ctx: RequestContext, wire: Extract<WireInput, { form: 'json' }>): InvalidInputError {
  const sent = kindOfJsonField(wire.field)?.name ?? `input.${wire.field}`;
  return new InvalidInputError(`task "${ctx.task.name}" takes ${ctx.task.inputs.kind}s, not ${sent}s`);
}

export async function features(ctx: RequestContext): Promise<void> {
  if (!ctx.consultsPremodel) return;
  const started = ctx.task.clock.now();
  ctx.features = await ctx.task.inputs.features(ctx.input!);
  ctx.timing.featuresMs = ctx.task.clock.now() - started;
}

/**
 * Stage one's estimates for `models` with their expected latency at `now`. A model the premodel has
 * no forest for (one a request forces), or any model when the route does not consult the premodel
 * (no features), counts with its measured accuracy on the premodel split.
 */
function estimates(ctx: RequestContext, models: readonly string[], now: Moment): Candidate[] {
  const { task, features } = ctx;
  const pCorrect = features === undefined ? NO_ESTIMATES : task.premodel.estimate(features, models);
  return models.map((id) => {
    const model = task.zoo.model(id);
    return {
      model: id,
      pCorrect: pCorrect.get(id) ?? model.entry.accuracy?.premodel ?? 0,
      latencyMs: task.expectedLatencyMs(model, now),
      runMs: task.profiledMs(model),
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
  ctx.route = route(task.premodel.models, (models) => estimates(ctx, models, now), ctx.request.constraint, task.operatingPointFor, task.defaults);
  ctx.step = ctx.route.next();
  ctx.timing.selectMs += task.clock.now() - started;
}

/** Runs the models the route asks for, each answer judged by its verifier, until the route stops. */
export async function run(ctx: RequestContext): Promise<void> {
  const { task, forced, features } = ctx;
  const clock = task.clock;
  while (ctx.step !== undefined && !ctx.step.done) {
    const step = ctx.step.value;
    const model = task.zoo.model(step.model);
    const started = clock.now();
    const tensor = await task.inputs.modelTensor(ctx.input!, model.entry.input.preprocessing);
    const running = clock.now();
    const probabilities = model.classify(tensor);
    const ran = clock.now();
    // What profiling timed: classify alone, not the conversion to the model's input.
    task.latency.observeRun(task.profiledMs(model), ran - running, ran);
    const top = topTwo(probabilities);
    // A forced model runs once whatever its verifier says.
    const confirmed =
      forced !== undefined ? 1
      : step.verifier === 'confidence' || features === undefined ? top.confidence
      : task.premodel.confirm(model.id, features, top.confidence, top.margin);
    ctx.probabilities = probabilities;
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
  const answered = task.zoo.model(result.model);
  timing.totalMs = done - request.readAtMs;
  return {
    task: task.name,
    model: result.model,
    label: task.zoo.manifest.classes[top.index]!,
    classIndex: top.index,
    scores: Array.from(probabilities, (p) => Math.round(p * 1e6) / 1e6),
    selection: {
      constraintMet: result.constraintMet,
      predictedAccuracy: result.predictedAccuracy,
      predictedLatencyMs: result.predictedLatencyMs,
      candidates: result.candidates.map((c) => ({ model: c.model, pCorrect: Math.round(c.pCorrect * 1e4) / 1e4, latencyMs: c.latencyMs })),
      ran: result.ran,
      reason: task.latency.options.adaptive
        ? `${result.reason}; ${answered.id} expected ${task.expectedLatencyMs(answered, ctx.selectedAt!).toFixed(3)} ms now ` +
          `(profiled ${task.profiledMs(answered).toFixed(3)} ms)`
        : result.reason,
    },
    timing,
  };
}
