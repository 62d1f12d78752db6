/**
 * npm run bench:late -- [--task fashion|har] [--connections 16] [--seconds 8] [--budget-ms 10]
 *                       [--client-nice N] [--service-env KEY=VALUE ...] [--data DIR]
 *
 * Where the time of late answers goes: runs the service as `npm start` does, loads it at one
 * concurrency with every request carrying `maxLatencyMs`, and prints the share answered late (by
 * the server's `timing.totalMs`, and as the client saw them) and shed, the models that answered, and the mean of each stage for the late answers against
 * those in time. --client-nice lowers the load generator's CPU priority once the service has
 * started (a client on another machine would not compete for its cores); --service-env passes
 * settings to the service (for example NODE_OPTIONS=--max-semi-space-size=4).
 */
import os from 'node:os';
import { predictRequests, sampleTestInputs } from './bench/inputs.js';
import { runLoad } from './bench/load.js';
import { parseServiceEnv, startService } from './bench/service.js';
import type { StageTiming } from '../src/serve/request.js';
import { DATA_DIR, parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run bench:late --',
  summary: 'Loads the service with every request under maxLatencyMs and shows where the time of the late answers goes.',
  options: {
    task: { type: 'string', default: 'fashion', placeholder: 'TASK', help: 'the task to load' },
    connections: { type: 'int', default: 16, min: 1, max: 10_000, help: 'concurrent connections' },
    seconds: { type: 'number', default: 8, min: 0, exclusiveMin: true, help: 'seconds of load' },
    'budget-ms': { type: 'number', default: 10, min: 0, exclusiveMin: true, help: 'maxLatencyMs of every request' },
    'client-nice': { type: 'int', min: -20, max: 19, help: "the load generator's CPU priority once the service has started" },
    'service-env': { type: 'strings', placeholder: 'KEY=VALUE', help: 'an environment variable for the service only' },
    data: DATA_DIR,
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const task = values.task;
  const budgetMs = values['budget-ms'];
  const serviceEnv = parseServiceEnv(values['service-env']);

  const inputs = await sampleTestInputs(task, 200, values.data);
  const service = await startService(serviceEnv);
  if (values['client-nice'] !== undefined) os.setPriority(values['client-nice']);
  try {
    const requests = predictRequests(task, inputs, 'budget', { maxLatencyMs: budgetMs });
    await runLoad({ base: service.base, requests, connections: 4, durationS: 2 }); // warm-up
    const answers = (await runLoad({ base: service.base, requests, connections: values.connections, durationS: values.seconds }))
      .byLabel.get('budget')!;
    const late = answers.timings.filter((t) => t.totalMs > budgetMs);
    const inTime = answers.timings.filter((t) => t.totalMs <= budgetMs);
    const shed = answers.clientMs.get(503)?.length ?? 0;
    const clientLate = (answers.clientMs.get(200) ?? []).filter((ms) => ms > budgetMs).length;
    const pct = (n: number, of: number) => `${((n / Math.max(1, of)) * 100).toFixed(1)}%`;
    console.log(`${task}, ${values.connections} connections, maxLatencyMs ${budgetMs}: ${answers.timings.length} answered 200, ` +
      `${pct(late.length, answers.timings.length)} of them late (${pct(clientLate, answers.timings.length)} as the client saw them); ` +
      `${shed} shed (${pct(shed, shed + answers.timings.length)})`);
    const mix = [...answers.models].sort((a, b) => b[1] - a[1]).map(([model, n]) => `${model} ${pct(n, answers.timings.length)}`);
    console.log(`models that answered: ${mix.join(', ')}`);
    const mean = (timings: readonly StageTiming[], stage: (t: StageTiming) => number) =>
      (timings.reduce((sum, t) => sum + stage(t), 0) / Math.max(1, timings.length)).toFixed(3);
    const clientOver = answers.timings.length === 0 ? 0 :
      (answers.clientMs.get(200) ?? []).reduce((a, b) => a + b, 0) / answers.timings.length - answers.timings.reduce((a, t) => a + t.totalMs, 0) / answers.timings.length;
    console.log(`mean ms beyond the server's totalMs, as the client saw them: ${clientOver.toFixed(3)}; estimated wait to be read (queuedMs): ` +
      `${(answers.timings.reduce((a, t) => a + t.queuedMs, 0) / Math.max(1, answers.timings.length)).toFixed(3)}`);
    console.log('mean ms       decode features select inference other  total');
    for (const [name, timings] of [['late', late], ['in time', inTime]] as const) {
      const other = (t: StageTiming) => t.totalMs - t.decodeMs - t.featuresMs - t.selectMs - t.inferenceMs;
      const cells = [(t: StageTiming) => t.decodeMs, (t: StageTiming) => t.featuresMs, (t: StageTiming) => t.selectMs, (t: StageTiming) => t.inferenceMs, other, (t: StageTiming) => t.totalMs];
      console.log(`${name.padEnd(13)} ${cells.map((cell) => mean(timings, cell).padStart(6)).join(' ')}`);
    }
  } finally {
    await service.stop();
  }
});
