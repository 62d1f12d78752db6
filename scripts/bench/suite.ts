/**
 * The measurements of `npm run bench`, each against a live service on loopback and bounded in
 * time: the selection overhead per request, throughput side by side (routed at matched accuracy,
 * always the most accurate model, always the cheapest), a load ramp under a latency budget, and
 * the premodel's training time.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantile } from '../../src/pipeline/profile.js';
import type { TaskDescription } from '../../src/serve/dataplane.js';
import { predictRequests, type BenchInput } from './inputs.js';
import { answerCount, runLoad, type Answers, type LoadRequest } from './load.js';

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
}

export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { n: sorted.length, mean, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

export async function describeTasks(base: string): Promise<TaskDescription[]> {
  const res = await fetch(`${base}/v1/tasks`);
  if (!res.ok) throw new Error(`GET /v1/tasks answered ${res.status}`);
  return ((await res.json()) as { tasks: TaskDescription[] }).tasks;
}

/**
 * The models a comparison pits the premodel against: the most accurate on the test split (the
 * faster of a tie), as the evaluation's best single model, and the fastest.
 */
export function referenceModels(task: TaskDescription): { mostAccurate: string; cheapest: string } {
  const profiled = task.models.filter((m) => m.accuracy !== null && m.latencyMs !== null);
  const mostAccurate = profiled.reduce((a, b) =>
    b.accuracy!.test > a.accuracy!.test || (b.accuracy!.test === a.accuracy!.test && b.latencyMs!.p50 < a.latencyMs!.p50) ? b : a,
  );
  const cheapest = profiled.reduce((a, b) => (b.latencyMs!.p50 < a.latencyMs!.p50 ? b : a));
  return { mostAccurate: mostAccurate.id, cheapest: cheapest.id };
}

/** Most frequent first. */
function counts(map: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
}

export interface OverheadResult {
  task: string;
  /** How the requests carried their inputs (bench/inputs.ts). */
  form: string;
  /** Server stage timings of routed requests sent one at a time, in ms. */
  featuresMs: Summary;
  selectMs: Summary;
  /** Features plus premodel and policy: what choosing the model costs a request. */
  selectionMs: Summary;
  decodeMs: Summary;
  inferenceMs: Summary;
  totalMs: Summary;
  /** The service's own time: server total minus inference (the models' runs and their tensors). */
  ownMs: Summary;
  clientMs: Summary;
}

/** Where a routed request's time goes, one request at a time (no queueing). */
export async function measureOverhead(base: string, task: TaskDescription, form: string, inputs: readonly BenchInput[], requests: number): Promise<OverheadResult> {
  const load = { base, requests: predictRequests(task.task, inputs, 'routed'), connections: 1, durationS: 120 };
  await runLoad({ ...load, amount: Math.ceil(requests / 5) }); // warm-up
  const answers = (await runLoad({ ...load, amount: requests })).byLabel.get('routed')!;
  const t = answers.timings;
  return {
    task: task.task,
    form,
    featuresMs: summarise(t.map((x) => x.featuresMs)),
    selectMs: summarise(t.map((x) => x.selectMs)),
    selectionMs: summarise(t.map((x) => x.featuresMs + x.selectMs)),
    decodeMs: summarise(t.map((x) => x.decodeMs)),
    inferenceMs: summarise(t.map((x) => x.inferenceMs)),
    totalMs: summarise(t.map((x) => x.totalMs)),
    ownMs: summarise(t.map((x) => x.totalMs - x.inferenceMs)),
    clientMs: summarise(answers.clientMs.get(200) ?? []),
  };
}

export interface ThroughputRow {
  config: string;
  requestsPerS: number;
  clientMs: Summary;
  /** Answers other than 200. */
  failed: number;
  /** Answers by the model that gave them. */
  models: Record<string, number>;
  /** The load generator's CPU time over the wall time: CPUs it kept busy (its own, when apart from the service's). */
  generatorCpus: number;
}

export interface ThroughputResult {
  task: string;
  form: string;
  /** The routed requests give no constraint: each is served its encoding group's default target (the most accurate model's, as far as it is vouched for). */
  defaultTargets: Record<string, number>;
  mostAccurate: string;
  cheapest: string;
  connections: number;
  /** Measured seconds per configuration. */
  seconds: number;
  rows: ThroughputRow[];
  routedOverMostAccurate: number;
  routedOverCheapest: number;
}

export interface RunShape {
  connections: number;
  /** Seconds per measured run. */
  seconds: number;
  /** Runs per configuration, interleaved, so that a change of the machine's load hits all alike. */
  rounds: number;
}

/** Requests per second and latency of routed, most accurate and cheapest, measured in alternation. */
export async function measureThroughput(base: string, task: TaskDescription, form: string, inputs: readonly BenchInput[], shape: RunShape): Promise<ThroughputResult> {
  const { mostAccurate, cheapest } = referenceModels(task);
  const configs: [string, LoadRequest[]][] = [
    ['routed (no constraint: the default target)', predictRequests(task.task, inputs, 'routed')],
    [`always ${mostAccurate} (most accurate)`, predictRequests(task.task, inputs, 'most accurate', { model: mostAccurate })],
    [`always ${cheapest} (cheapest)`, predictRequests(task.task, inputs, 'cheapest', { model: cheapest })],
  ];
  const loads = await interleavedLoad(configs.map(([, requests]) => ({ base, requests })), shape.connections, shape);
  const rows = configs.map(([config], i) => {
    const load = loads[i]!;
    const models = new Map<string, number>();
    for (const answers of load.answers) for (const [model, n] of answers.models) models.set(model, (models.get(model) ?? 0) + n);
    const clientMs = load.answers.flatMap((a) => a.clientMs.get(200) ?? []);
    return { config, requestsPerS: load.ok / load.seconds, clientMs: summarise(clientMs), failed: load.failed, models: counts(models), generatorCpus: load.generatorCpuS / load.seconds };
  });
  return {
    task: task.task,
    form,
    defaultTargets: task.defaultMinAccuracyByGroup ?? { all: task.defaultMinAccuracy },
    mostAccurate,
    cheapest,
    connections: shape.connections,
    seconds: shape.seconds * shape.rounds,
    rows,
    routedOverMostAccurate: rows[0]!.requestsPerS / rows[1]!.requestsPerS,
    routedOverCheapest: rows[0]!.requestsPerS / rows[2]!.requestsPerS,
  };
}

export interface RampStep {
  connections: number;
  answered: number;
  /** Share of answers that were 200, and that were shed (503). */
  okShare: number;
  shedShare: number;
  /** Share of the 200 answers within the budget: by the server's timing.totalMs, and as the client saw them. */
  withinBudgetServer: number;
  withinBudgetClient: number;
  serverMs: Summary;
  /** The server's estimate of how long the 200 answers had waited to be read (timing.queuedMs). */
  queuedMs: Summary;
  /** How fast a shed request got its 503, as the client saw it. */
  shedClientMs: Summary;
  models: Record<string, number>;
}

export interface RampResult {
  task: string;
  adaptive: boolean;
  budgetMs: number;
  steps: RampStep[];
}

/** Rising concurrency, every request with `maxLatencyMs: budgetMs`: what is answered in time, what is shed. */
export async function measureRamp(
  base: string,
  task: TaskDescription,
  inputs: readonly BenchInput[],
  options: { adaptive: boolean; budgetMs: number; connections: readonly number[]; seconds: number },
): Promise<RampResult> {
  const requests = predictRequests(task.task, inputs, 'budget', { maxLatencyMs: options.budgetMs });
  const steps: RampStep[] = [];
  for (const connections of options.connections) {
    const answers = (await runLoad({ base, requests, connections, durationS: options.seconds })).byLabel.get('budget')!;
    const total = answerCount(answers);
    const within = (values: readonly number[]) => values.filter((ms) => ms <= options.budgetMs).length / values.length;
    steps.push({
      connections,
      answered: total,
      okShare: answerCount(answers, 200) / total,
      shedShare: answerCount(answers, 503) / total,
      withinBudgetServer: within(answers.timings.map((t) => t.totalMs)),
      withinBudgetClient: within(answers.clientMs.get(200) ?? []),
      serverMs: summarise(answers.timings.map((t) => t.totalMs)),
      queuedMs: summarise(answers.timings.map((t) => t.queuedMs)),
      shedClientMs: summarise(answers.clientMs.get(503) ?? []),
      models: counts(answers.models),
    });
  }
  return { task: task.task, adaptive: options.adaptive, budgetMs: options.budgetMs, steps };
}

export interface TrainingResult {
  task: string;
  command: string;
  seconds: number;
}

/** Wall time of `npm run train-premodel` for `task`, writing into `outDir` (never premodel/). */
export async function measureTraining(task: string, outDir: string): Promise<TrainingResult> {
  const args = ['--import', 'tsx', 'scripts/train-premodel.ts', '--task', task, '--out', outDir];
  const started = performance.now();
  const output: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => output.push(b));
    child.stderr.on('data', (b: Buffer) => output.push(b));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`training ${task} failed (exit ${code}):\n${Buffer.concat(output).toString().slice(-2000)}`);
  return { task, command: `npm run train-premodel -- --task ${task} --out <temporary folder>`, seconds: (performance.now() - started) / 1000 };
}

export interface FirstRequestResult {
  task: string;
  form: string;
  warmStart: boolean;
  starts: number;
  /** How long the worker idled before its first predict, and before each of the idle-matched ones, in ms. */
  idleMs: number;
  /** The server's own time (timing.totalMs) of a fresh worker's first predict, median over the starts, in ms. */
  firstMs: number;
  /** The median of the predicts sent back to back after it, median over the starts, in ms. */
  laterMs: number;
  ratio: number;
  /** The median of as many predicts after those, each sent after the same idle as the first, median over the starts, in ms. */
  laterAfterIdleMs: number;
  /** firstMs over laterAfterIdleMs: what the first request costs beyond any request after the same idle. */
  ratioAfterIdle: number;
}

const median = (values: readonly number[]) => quantile([...values].sort((a, b) => a - b), 0.5);

/**
 * A fresh worker's first predict, sent `idleMs` after it listens (it listens once ready: /readyz
 * answers 200), against the median of the `requests` after it sent back to back, and against as
 * many more each sent after the same idle: on a virtual machine an idle CPU halts and comes back
 * with its caches cold, so that any request after an idle pays for it, the hundredth as the first.
 * Over `starts` fresh starts each with the warm start on and off (WARM_START), interleaved so that
 * the machine's state weighs on both alike.
 */
export async function measureFirstRequest(
  task: string,
  form: string,
  input: BenchInput,
  options: { starts: number; requests: number; idleMs: number; start: (env: Record<string, string>) => Promise<{ base: string; stop(): Promise<unknown> }> },
): Promise<FirstRequestResult[]> {
  const [request] = predictRequests(task, [input], 'first');
  const times = new Map<boolean, { first: number[]; later: number[]; afterIdle: number[] }>([
    [true, { first: [], later: [], afterIdle: [] }],
    [false, { first: [], later: [], afterIdle: [] }],
  ]);
  for (let start = 0; start < options.starts; start++) {
    for (const [warm, series] of times) {
      const service = await options.start({ WORKERS: '1', WARM_START: warm ? '1' : '0', FEEDBACK_DIR: '' });
      const served = async (idleMs: number) => {
        if (idleMs > 0) await sleep(idleMs);
        const res = await fetch(`${service.base}${request!.path}`, { method: 'POST', headers: request!.headers, body: request!.body as BodyInit });
        return ((await res.json()) as { timing: { totalMs: number } }).timing.totalMs;
      };
      const later: number[] = [];
      const afterIdle: number[] = [];
      try {
        series.first.push(await served(options.idleMs));
        for (let i = 1; i < options.requests; i++) later.push(await served(0));
        for (let i = 1; i < options.requests; i++) afterIdle.push(await served(options.idleMs));
      } finally {
        await service.stop();
      }
      series.later.push(median(later));
      series.afterIdle.push(median(afterIdle));
    }
  }
  return [...times].map(([warmStart, series]) => {
    const firstMs = median(series.first);
    const laterMs = median(series.later);
    const laterAfterIdleMs = median(series.afterIdle);
    const { starts, idleMs } = options;
    return { task, form, warmStart, starts, idleMs, firstMs, laterMs, ratio: firstMs / laterMs, laterAfterIdleMs, ratioAfterIdle: firstMs / laterAfterIdleMs };
  });
}

export interface BatchingRow {
  /** What was sent: always the most accurate model, or routed. */
  config: string;
  batching: boolean;
  connections: number;
  requestsPerS: number;
  clientMs: Summary;
  /** The server's own time of each answer (timing.totalMs), and of its model runs (timing.inferenceMs: the wait for a batch included). */
  serverMs: Summary;
  inferenceMs: Summary;
  failed: number;
  /** Answers by HTTP status, and requests that got none ("none": a timeout, a reset). */
  statuses: Record<string, number>;
}

export interface BatchingResult {
  task: string;
  mostAccurate: string;
  /** Measured seconds per row. */
  seconds: number;
  rows: BatchingRow[];
  /** Requests per second with batching on over off: always the most accurate model at the most connections. */
  gainForced: number;
  /** Client p50 with batching on minus off, in ms: always the most accurate model, one connection. */
  p50CostMs: number;
  /** Requests per second on over off, routed. */
  gainRouted: number;
}

export interface BatchingShape {
  /** Connections of the forced throughput run, of the latency run, and of the routed run. */
  forcedConnections: number;
  singleConnections: number;
  routedConnections: number;
  seconds: number;
  rounds: number;
}

/** One configuration of interleavedLoad: requests to a service. */
export interface LoadTarget {
  base: string;
  requests: readonly LoadRequest[];
}

/** What one configuration's runs got: 200s, the rest (errors included), seconds, the generator's CPU seconds, and each run's answers. */
export interface InterleavedLoad {
  ok: number;
  failed: number;
  seconds: number;
  /** Requests that got no answer: connection errors, timeouts. */
  errors: number;
  generatorCpuS: number;
  answers: Answers[];
}

/**
 * Each configuration (requests to a service: different requests, or services alike but for what
 * is compared) in turn, each warmed up for a second first, in `rounds` interleaved rounds of
 * `seconds` (the order reversed every other round), so that the machine's load drifting hits
 * them all alike.
 */
export async function interleavedLoad(targets: readonly LoadTarget[], connections: number, shape: { seconds: number; rounds: number }): Promise<InterleavedLoad[]> {
  for (const { base, requests } of targets) await runLoad({ base, requests, connections, durationS: 1 });
  const loads: InterleavedLoad[] = targets.map(() => ({ ok: 0, failed: 0, seconds: 0, errors: 0, generatorCpuS: 0, answers: [] }));
  const order = targets.map((_, i) => i);
  for (let round = 0; round < shape.rounds; round++) {
    for (const i of round % 2 === 0 ? order : [...order].reverse()) {
      const run = await runLoad({ ...targets[i]!, connections, durationS: shape.seconds });
      const answers = [...run.byLabel.values()][0]!;
      const load = loads[i]!;
      const ok = answerCount(answers, 200);
      load.ok += ok;
      load.failed += answerCount(answers) - ok + run.errors;
      load.seconds += run.durationS;
      load.errors += run.errors;
      load.generatorCpuS += run.generatorCpuS;
      load.answers.push(answers);
    }
  }
  return loads;
}

/**
 * Dynamic batching on against off, side by side: two services alike but for BATCHING, the same
 * requests to each in turn, in interleaved rounds (on first in even rounds, off first in odd
 * ones), so that the machine's load drifting hits both alike. Always the most accurate model at
 * many connections (what batching is for), the same at one connection (what a batch of one costs),
 * and routed requests.
 */
export async function measureBatching(bases: { on: string; off: string }, task: TaskDescription, inputs: readonly BenchInput[], shape: BatchingShape): Promise<BatchingResult> {
  const { mostAccurate } = referenceModels(task);
  const forced = predictRequests(task.task, inputs, 'forced', { model: mostAccurate });
  const routed = predictRequests(task.task, inputs, 'routed');
  const configs: { config: string; connections: number; requests: LoadRequest[] }[] = [
    { config: `always ${mostAccurate}`, connections: shape.forcedConnections, requests: forced },
    { config: `always ${mostAccurate}`, connections: shape.singleConnections, requests: forced },
    { config: 'routed (no constraint)', connections: shape.routedConnections, requests: routed },
  ];
  const sides = [true, false] as const;
  const loads: InterleavedLoad[][] = [];
  for (const c of configs) loads.push(await interleavedLoad([bases.on, bases.off].map((base) => ({ base, requests: c.requests })), c.connections, shape));
  const rows = configs.flatMap((c, i) =>
    sides.map((on, side) => {
      const load = loads[i]![side]!;
      const timings = load.answers.flatMap((a) => a.timings);
      const statuses = new Map<string, number>();
      for (const answers of load.answers) for (const [status, latencies] of answers.clientMs) statuses.set(String(status), (statuses.get(String(status)) ?? 0) + latencies.length);
      if (load.errors > 0) statuses.set('none', load.errors);
      return {
        config: c.config,
        batching: on,
        connections: c.connections,
        requestsPerS: load.ok / load.seconds,
        clientMs: summarise(load.answers.flatMap((a) => a.clientMs.get(200) ?? [])),
        serverMs: summarise(timings.map((t) => t.totalMs)),
        inferenceMs: summarise(timings.map((t) => t.inferenceMs)),
        failed: load.failed,
        statuses: counts(statuses),
      };
    }),
  );
  const [forcedOn, forcedOff, singleOn, singleOff, routedOn, routedOff] = rows as [BatchingRow, BatchingRow, BatchingRow, BatchingRow, BatchingRow, BatchingRow];
  return {
    task: task.task,
    mostAccurate,
    seconds: shape.seconds * shape.rounds,
    rows,
    gainForced: forcedOn.requestsPerS / forcedOff.requestsPerS,
    p50CostMs: singleOn.clientMs.p50 - singleOff.clientMs.p50,
    gainRouted: routedOn.requestsPerS / routedOff.requestsPerS,
  };
}
