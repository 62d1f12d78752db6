/**
 * npm run bench -- [--quick] [--load-cpus 1] [--workers N] [--connections 16] [--seconds 5] [--rounds 3]
 *                  [--budget-ms 10,2] [--inputs 200] [--fashion-data DIR] [--har-data DIR] [--out bench]
 *                  [--parts overhead,throughput,ramp,first,batching,training] [--service-env KEY=VALUE ...]
 *
 * Benchmarks the service as `npm start` runs it, on loopback, and writes bench/RESULTS.md and
 * bench/results.json, for each task in each form a client sends its inputs in (bench/inputs.ts):
 * where a request's time goes and the service's own share of it, throughput of routed against
 * always the most accurate and always the cheapest model; a load ramp under each latency budget
 * with adaptation on and off; a fresh worker's first request against its later ones, with the
 * warm start on and off; dynamic batching on against off (two services side by side); and
 * premodel training time (into a temporary folder, never premodel/).
 * --quick: short runs and no training, a smoke test of the whole bench in about a minute.
 * --parts: only these measurements (to repeat one, such as the throughput ratio, on its own).
 * --service-env: settings for the service only (NODE_OPTIONS=--max-semi-space-size=4), not the load generator.
 * --load-cpus: the load generator (autocannon, in this process) runs on CPUs of its own, the service
 * on the others, one worker per CPU: sharing them, the generator's work and its sockets' would be
 * counted as the service's, every configuration's throughput pulled towards the generator's and
 * the ratios between them towards 1. Each throughput row says how many CPUs the generator kept busy.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_DEFAULTS } from '../src/config/defaults.js';
import { measureHostIdle } from './bench/host-idle.js';
import { sampleInputForms, type BenchInput } from './bench/inputs.js';
import { renderResults, type BenchResults } from './bench/report.js';
import { parseServiceEnv, splitCpus, startService, type CpuSplit } from './bench/service.js';
import { describeTasks, measureBatching, measureFirstRequest, measureOverhead, measureRamp, measureThroughput, measureTraining } from './bench/suite.js';
import { FASHION_DEFAULT_DIR } from '../src/pipeline/datasets/fashion.js';
import { host } from '../src/pipeline/profile.js';
import { parseCli, runMain, UsageError } from './cli.js';

const PARTS = ['overhead', 'throughput', 'ramp', 'first', 'batching', 'training'] as const;
/** The parts measured on one service with adaptation on (and off, for the ramp). */
const SERVICE_PARTS: readonly string[] = ['overhead', 'throughput', 'ramp'];
/** Connections of the batching part: always the most accurate model under load, alone, and routed. */
const BATCHING_CONNECTIONS = { forced: 64, single: 1, routed: 16 } as const;
/**
 * The first request's idle, and that of the later ones it is matched with: long enough for an idle
 * CPU to halt (a KVM guest's haltpoll polls for 0.2 ms by default), a moment for a client.
 */
const FIRST_REQUEST_IDLE_MS = 20;
const command = {
  name: 'npm run bench --',
  summary: 'Benchmarks the service as npm start runs it, on loopback, and writes RESULTS.md and results.json.',
  options: {
    quick: { type: 'boolean', help: 'short runs and no training: a smoke test of the whole bench' },
    'load-cpus': { type: 'int', default: 1, min: 0, max: 256, help: "CPUs kept for the load generator, the service on the others (0: both share every CPU)" },
    workers: { type: 'int', min: 1, max: 256, help: "service worker processes (default: one per service CPU)" },
    connections: { type: 'int', default: 16, min: 1, max: 10_000, help: 'connections of the throughput runs' },
    seconds: { type: 'number', min: 0, exclusiveMin: true, help: 'seconds per load run (default 5, 2 with --quick)' },
    rounds: { type: 'int', min: 1, max: 100, help: 'rounds of the throughput comparison (default 3, 1 with --quick)' },
    'budget-ms': { type: 'strings', default: ['10', '2'], placeholder: 'MS,...', help: 'latency budgets of the load ramp, in ms' },
    inputs: { type: 'int', default: 200, min: 1, max: 100_000, help: 'test-split inputs sampled per task' },
    'fashion-data': { type: 'string', default: FASHION_DEFAULT_DIR, placeholder: 'DIR', help: "fashion's data set" },
    'har-data': { type: 'string', default: '../shared/data/hapt', placeholder: 'DIR', help: "har's data set" },
    out: { type: 'string', default: 'bench', placeholder: 'DIR', help: 'where RESULTS.md and results.json go' },
    parts: { type: 'strings', default: [...PARTS], placeholder: 'PART,...', help: `measurements to run, of ${PARTS.join(', ')}` },
    'service-env': { type: 'strings', placeholder: 'KEY=VALUE', help: 'an environment variable for the service only (not the load generator)' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const parts = new Set(values.parts);
  for (const part of parts) {
    if (!(PARTS as readonly string[]).includes(part)) throw new UsageError(`--parts: unknown part "${part}"; the parts are ${PARTS.join(', ')}`);
  }
  const quick = values.quick;
  const seconds = values.seconds ?? (quick ? 2 : 5);
  const rounds = values.rounds ?? (quick ? 1 : 3);
  const connections = values.connections;
  const rampBudgetsMs = values['budget-ms'].map(Number);
  if (rampBudgetsMs.some((ms) => !(ms > 0))) throw new UsageError(`--budget-ms: latency budgets in ms, comma-separated, not "${values['budget-ms'].join(',')}"`);
  const rampConnections = quick ? [1, 16] : [1, 4, 16, 64];
  let cpus: CpuSplit | undefined;
  try {
    cpus = splitCpus(values['load-cpus']);
  } catch (err) {
    throw new UsageError(`--load-cpus: ${(err as Error).message}`);
  }
  const workers = values.workers ?? cpus?.service.length ?? SERVICE_DEFAULTS.workers;
  const serviceEnv = { WORKERS: String(workers), ...parseServiceEnv(values['service-env']) };
  const start = (env: Record<string, string>) => startService({ ...serviceEnv, ...env }, cpus === undefined ? {} : { cpus: cpus.service });
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const inputCount = values.inputs;
  const forms: Record<string, Map<string, BenchInput[]>> = {
    fashion: await sampleInputForms('fashion', inputCount, values['fashion-data']),
    har: await sampleInputForms('har', inputCount, values['har-data']),
  };
  // The ramp and the first request send each task's inputs in its first form.
  const firstForm = (task: string): [string, BenchInput[]] => [...forms[task]!][0]!;

  const results: BenchResults = {
    generated: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    host: host(),
    quick,
    service: { workers, ...(cpus === undefined ? {} : { cpus }), intraOpThreads: SERVICE_DEFAULTS.intraOpThreads, maxInFlight: SERVICE_DEFAULTS.maxInFlight },
    inputs: Object.fromEntries(
      Object.entries(forms).map(([task, byForm]) => [task, `${[...byForm.values()][0]!.length} test-split inputs, as ${[...byForm.keys()].join('; ')}`]),
    ),
    overhead: [],
    throughput: [],
    ramp: [],
    first: [],
  };

  for (const adaptive of !SERVICE_PARTS.some((p) => parts.has(p)) ? [] : parts.has('ramp') ? [true, false] : [true]) {
    const service = await start({ ADAPTIVE_LATENCY: adaptive ? '1' : '0' });
    try {
      const tasks = (await describeTasks(service.base)).filter((t) => forms[t.task] !== undefined);
      for (const task of tasks) {
        for (const [form, inputs] of adaptive ? forms[task.task]! : []) {
          if (parts.has('overhead')) {
            log(`${task.task}, ${form}: where a request's time goes`);
            results.overhead.push(await measureOverhead(service.base, task, form, inputs, quick ? 300 : 2000));
          }
          if (parts.has('throughput')) {
            log(`${task.task}, ${form}: throughput, routed against the most accurate and the cheapest model`);
            results.throughput.push(await measureThroughput(service.base, task, form, inputs, { connections, seconds, rounds }));
          }
        }
        const [, taskInputs] = firstForm(task.task);
        if (parts.has('ramp')) {
          for (const budgetMs of rampBudgetsMs) {
            log(`${task.task}: load ramp under ${budgetMs} ms, adaptation ${adaptive ? 'on' : 'off'}`);
            results.ramp.push(await measureRamp(service.base, task, taskInputs, { adaptive, budgetMs, connections: rampConnections, seconds }));
          }
        }
      }
    } finally {
      await service.stop();
    }
  }

  if (parts.has('first')) {
    for (const task of Object.keys(forms)) {
      const [form, inputs] = firstForm(task);
      log(`${task}: a fresh worker's first request, warm start on and off`);
      results.first.push(...(await measureFirstRequest(task, form, inputs[0]!, { starts: quick ? 1 : 3, requests: 20, idleMs: FIRST_REQUEST_IDLE_MS, start })));
    }
    log('the machine: the same memory-bound work back to back and after the same idle, no service code');
    results.hostIdle = await measureHostIdle({ idleMs: FIRST_REQUEST_IDLE_MS, rounds: quick ? 10 : 60, ...(cpus === undefined ? {} : { cpus: cpus.service }) });
  }

  if (parts.has('batching')) {
    // Side by side: both services up at once, each idle while the other is measured.
    const on = await start({ BATCHING: '1' });
    try {
      const off = await start({ BATCHING: '0' });
      try {
        results.batching = [];
        const tasks = (await describeTasks(on.base)).filter((t) => forms[t.task] !== undefined);
        for (const task of tasks) {
          log(`${task.task}: dynamic batching on against off`);
          results.batching.push(
            await measureBatching({ on: on.base, off: off.base }, task, firstForm(task.task)[1], {
              forcedConnections: BATCHING_CONNECTIONS.forced,
              singleConnections: BATCHING_CONNECTIONS.single,
              routedConnections: BATCHING_CONNECTIONS.routed,
              seconds,
              rounds,
            }),
          );
        }
      } finally {
        await off.stop();
      }
    } finally {
      await on.stop();
    }
  }

  if (!quick && parts.has('training')) {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-bench-'));
    try {
      results.training = [];
      for (const task of Object.keys(forms)) {
        log(`${task}: premodel training`);
        results.training.push(await measureTraining(task, scratch));
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  await mkdir(values.out, { recursive: true });
  await writeFile(path.join(values.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(values.out, 'RESULTS.md'), renderResults(results));
  log(`wrote ${path.join(values.out, 'RESULTS.md')} and results.json`);
  for (const o of results.overhead) log(`${o.task}, ${o.form}: own time p50 ${o.ownMs.p50.toFixed(3)} ms of ${o.totalMs.p50.toFixed(3)} ms`);
  for (const t of results.throughput) {
    log(`${t.task}, ${t.form}: routed / most accurate ${t.routedOverMostAccurate.toFixed(2)}x, routed / cheapest ${t.routedOverCheapest.toFixed(2)}x`);
  }
  for (const f of results.first) {
    log(`${f.task}: warm start ${f.warmStart ? 'on' : 'off'}, first request ${f.ratio.toFixed(2)}x the later ones, ${f.ratioAfterIdle.toFixed(2)}x those after the same ${f.idleMs} ms idle`);
  }
  if (results.hostIdle !== undefined) log(`the machine: work after a ${results.hostIdle.idleMs} ms idle ${results.hostIdle.ratio.toFixed(2)}x the same work back to back`);
  for (const b of results.batching ?? []) {
    log(`${b.task}: batching on / off, always ${b.mostAccurate} at ${BATCHING_CONNECTIONS.forced} connections ${b.gainForced.toFixed(2)}x, ` +
      `p50 at ${BATCHING_CONNECTIONS.single} connection ${b.p50CostMs >= 0 ? '+' : ''}${b.p50CostMs.toFixed(3)} ms, routed at ${BATCHING_CONNECTIONS.routed} connections ${b.gainRouted.toFixed(2)}x`);
  }
});
