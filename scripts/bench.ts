/**
 * npm run bench -- [--quick] [--workers N] [--connections 16] [--seconds 5] [--rounds 3]
 *                  [--budget-ms 10,2] [--inputs 200] [--fashion-data DIR] [--har-data DIR] [--out bench]
 *                  [--parts overhead,throughput,ramp,batching,training] [--service-env KEY=VALUE ...]
 *
 * Benchmarks the service as `npm start` runs it, on loopback, and writes bench/RESULTS.md and
 * bench/results.json: selection overhead per request, throughput of routed against always the
 * most accurate and always the cheapest model, a load ramp under each latency budget with
 * adaptation on and off, dynamic batching on against off (two services side by side), and premodel
 * training time (into a temporary folder, never premodel/).
 * --quick: short runs and no training, a smoke test of the whole bench in about a minute.
 * --parts: only these measurements (to repeat one, such as the throughput ratio, on its own).
 * --service-env: settings for the service only (NODE_OPTIONS=--max-semi-space-size=4), not the load generator.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_DEFAULTS } from '../src/config/defaults.js';
import { sampleTestInputs, type BenchInput } from './bench/inputs.js';
import { renderResults, type BenchResults } from './bench/report.js';
import { parseServiceEnv, startService } from './bench/service.js';
import { describeTasks, measureBatching, measureOverhead, measureRamp, measureThroughput, measureTraining } from './bench/suite.js';
import { FASHION_DEFAULT_DIR } from '../src/pipeline/datasets/fashion.js';
import { host } from '../src/pipeline/profile.js';
import { parseCli, runMain, UsageError } from './cli.js';

const PARTS = ['overhead', 'throughput', 'ramp', 'batching', 'training'] as const;
/** The parts measured on one service with adaptation on (and off, for the ramp). */
const SERVICE_PARTS: readonly string[] = ['overhead', 'throughput', 'ramp'];
/** Connections of the batching part: always the most accurate model under load, alone, and routed. */
const BATCHING_CONNECTIONS = { forced: 64, single: 1, routed: 16 } as const;
const command = {
  name: 'npm run bench --',
  summary: 'Benchmarks the service as npm start runs it, on loopback, and writes RESULTS.md and results.json.',
  options: {
    quick: { type: 'boolean', help: 'short runs and no training: a smoke test of the whole bench' },
    workers: { type: 'int', default: SERVICE_DEFAULTS.workers, min: 1, max: 256, help: 'service worker processes' },
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
  const serviceEnv = { WORKERS: String(values.workers), ...parseServiceEnv(values['service-env']) };
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const inputCount = values.inputs;
  const inputs: Record<string, BenchInput[]> = {
    fashion: await sampleTestInputs('fashion', inputCount, values['fashion-data']),
    har: await sampleTestInputs('har', inputCount, values['har-data']),
  };

  const results: BenchResults = {
    generated: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    host: host(),
    quick,
    service: { workers: values.workers, intraOpThreads: SERVICE_DEFAULTS.intraOpThreads, maxInFlight: SERVICE_DEFAULTS.maxInFlight },
    inputs: {
      fashion: `${inputs.fashion!.length} test-split images as 8-bit greyscale PNG uploads`,
      har: `${inputs.har!.length} test-split windows as JSON`,
    },
    overhead: [],
    throughput: [],
    ramp: [],
  };

  for (const adaptive of !SERVICE_PARTS.some((p) => parts.has(p)) ? [] : parts.has('ramp') ? [true, false] : [true]) {
    const service = await startService({ ...serviceEnv, ADAPTIVE_LATENCY: adaptive ? '1' : '0' });
    try {
      const tasks = (await describeTasks(service.base)).filter((t) => inputs[t.task] !== undefined);
      for (const task of tasks) {
        const taskInputs = inputs[task.task]!;
        if (adaptive && parts.has('overhead')) {
          log(`${task.task}: selection overhead`);
          results.overhead.push(await measureOverhead(service.base, task, taskInputs, quick ? 300 : 2000));
        }
        if (adaptive && parts.has('throughput')) {
          log(`${task.task}: throughput, routed against the most accurate and the cheapest model`);
          results.throughput.push(await measureThroughput(service.base, task, taskInputs, { connections, seconds, rounds }));
        }
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

  if (parts.has('batching')) {
    // Side by side: both services up at once, each idle while the other is measured.
    const on = await startService({ ...serviceEnv, BATCHING: '1' });
    try {
      const off = await startService({ ...serviceEnv, BATCHING: '0' });
      try {
        results.batching = [];
        const tasks = (await describeTasks(on.base)).filter((t) => inputs[t.task] !== undefined);
        for (const task of tasks) {
          log(`${task.task}: dynamic batching on against off`);
          results.batching.push(
            await measureBatching({ on: on.base, off: off.base }, task, inputs[task.task]!, {
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
      for (const task of Object.keys(inputs)) {
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
  for (const t of results.throughput) {
    log(`${t.task}: routed / most accurate ${t.routedOverMostAccurate.toFixed(2)}x, routed / cheapest ${t.routedOverCheapest.toFixed(2)}x`);
  }
  for (const b of results.batching ?? []) {
    log(`${b.task}: batching on / off, always ${b.mostAccurate} at ${BATCHING_CONNECTIONS.forced} connections ${b.gainForced.toFixed(2)}x, ` +
      `p50 at ${BATCHING_CONNECTIONS.single} connection ${b.p50CostMs >= 0 ? '+' : ''}${b.p50CostMs.toFixed(3)} ms, routed at ${BATCHING_CONNECTIONS.routed} connections ${b.gainRouted.toFixed(2)}x`);
  }
});
