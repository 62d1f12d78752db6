/**
 * npm run profile:cpu -- [--tasks fashion,har] [--connections 16] [--seconds 8] [--inputs 200]
 *                        [--out reports/cpu-profile] [--top 25]
 *
 * Where a request's time goes: one worker (WORKERS=1, as each of `npm start`'s workers runs) under
 * closed-loop load of each task in each input form a client may send it (bench/inputs.ts), with
 * V8's sampling profiler on for the load alone. Prints and writes, per task and form, the CPU time
 * per request by owner (the models, express, node's HTTP, decoding, JSON, logging, metrics, ...),
 * the functions of most self time, and the server's own per-request time (timing.totalMs minus
 * timing.inferenceMs, p50). The raw profiles are written beside the report, to open in Chrome's
 * DevTools or speedscope.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FASHION_DEFAULT_DIR } from '../src/pipeline/datasets/fashion.js';
import { host } from '../src/pipeline/profile.js';
import { predictRequests, sampleInputForms } from './bench/inputs.js';
import { answerCount, runLoad } from './bench/load.js';
import { summariseProfile, type CpuProfile } from './bench/cpu-profile.js';
import { startService } from './bench/service.js';
import { summarise } from './bench/suite.js';
import { parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run profile:cpu --',
  summary: "A CPU profile of one worker under each task's load, in each input form: where a request's time goes.",
  options: {
    tasks: { type: 'strings', default: ['fashion', 'har'], placeholder: 'TASK,...', help: 'tasks to load' },
    connections: { type: 'int', default: 16, min: 1, max: 1000, help: 'requests kept in flight' },
    seconds: { type: 'number', default: 8, min: 0, exclusiveMin: true, help: 'seconds of profiled load per task and form' },
    inputs: { type: 'int', default: 200, min: 1, max: 100_000, help: 'test-split inputs per task' },
    'fashion-data': { type: 'string', default: FASHION_DEFAULT_DIR, placeholder: 'DIR', help: "fashion's data set" },
    'har-data': { type: 'string', default: '../shared/data/hapt', placeholder: 'DIR', help: "har's data set" },
    out: { type: 'string', default: 'reports/cpu-profile', placeholder: 'DIR', help: 'where the report and the profiles go' },
    top: { type: 'int', default: 25, min: 1, max: 1000, help: 'functions listed by self time' },
  },
} as const;

interface FormReport {
  task: string;
  form: string;
  answered: number;
  requestsPerS: number;
  /** CPU per request, in us: all of it, and by owner. */
  cpuPerRequestUs: number;
  byOwnerUs: Record<string, number>;
  /** The server's own time per request, from its stage timings, in ms: total minus the models', p50. */
  ownMsP50: number;
  inferenceMsP50: number;
  topSelfMs: [string, number][];
  profile: string;
}

const us = (ms: number, n: number) => Math.round((ms * 1000) / n);

function render(reports: readonly FormReport[], meta: { generated: string; host: string; connections: number; seconds: number }): string {
  const lines = [
    '# Where a request\'s time goes',
    '',
    `Generated ${meta.generated} by \`npm run profile:cpu\` on ${meta.host}: one worker, ${meta.connections} connections, ${meta.seconds} s of profiled load per task and form.`,
    'CPU per request is the worker\'s profiled busy time over the requests it answered; "own" is the server\'s `timing.totalMs` minus `timing.inferenceMs` (p50), the part of a request that is not the models.',
    '',
    '| task | form | req/s | CPU per request | models | own p50 (ms) | inference p50 (ms) |',
    '|---|---|---|---|---|---|---|',
    ...reports.map((r) => `| ${r.task} | ${r.form} | ${Math.round(r.requestsPerS)} | ${r.cpuPerRequestUs} us | ${r.byOwnerUs['models (onnxruntime)'] ?? 0} us | ${r.ownMsP50.toFixed(3)} | ${r.inferenceMsP50.toFixed(3)} |`),
  ];
  for (const r of reports) {
    lines.push('', `## ${r.task}, ${r.form}`, '', '| owner | CPU per request |', '|---|---|');
    for (const [owner, v] of Object.entries(r.byOwnerUs)) lines.push(`| ${owner} | ${v} us |`);
    lines.push('', '| function (self time) | ms in the profile |', '|---|---|');
    for (const [name, ms] of r.topSelfMs) lines.push(`| \`${name.replace(/\|/g, '\\|')}\` | ${ms.toFixed(1)} |`);
  }
  return `${lines.join('\n')}\n`;
}

runMain(command.name, async () => {
  const values = parseCli(command);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await mkdir(values.out, { recursive: true });
  const dataDir: Record<string, string> = { fashion: values['fashion-data'], har: values['har-data'] };
  const reports: FormReport[] = [];
  for (const task of values.tasks) {
    const forms = await sampleInputForms(task, values.inputs, dataDir[task]);
    for (const [form, inputs] of forms) {
      const slug = `${task}-${form.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
      const file = path.resolve(values.out, `${slug}.cpuprofile`);
      await rm(file, { force: true });
      const service = await startService({ WORKERS: '1', FEEDBACK_DIR: '', CPU_PROFILE_OUT: file }, { preload: './scripts/bench/cpu-profiler.ts' });
      try {
        const requests = predictRequests(task, inputs, 'profiled');
        await runLoad({ base: service.base, requests, connections: values.connections, durationS: 2 }); // warm-up
        log(`${task}, ${form}: ${values.seconds} s profiled`);
        service.signal('SIGUSR2');
        const run = await runLoad({ base: service.base, requests, connections: values.connections, durationS: values.seconds });
        service.signal('SIGUSR2');
        const answers = run.byLabel.get('profiled')!;
        const profile = await waitForFile(file);
        const summary = summariseProfile(JSON.parse(profile) as CpuProfile, values.top);
        const answered = answerCount(answers);
        reports.push({
          task,
          form,
          answered,
          requestsPerS: answered / run.durationS,
          cpuPerRequestUs: us(summary.busyMs, answered),
          byOwnerUs: Object.fromEntries(Object.entries(summary.byOwnerMs).map(([k, ms]) => [k, us(ms, answered)])),
          ownMsP50: summarise(answers.timings.map((t) => t.totalMs - t.inferenceMs)).p50,
          inferenceMsP50: summarise(answers.timings.map((t) => t.inferenceMs)).p50,
          topSelfMs: summary.topSelfMs,
          profile: path.relative(values.out, file),
        });
      } finally {
        await service.stop();
      }
    }
  }
  const meta = { generated: new Date().toISOString(), host: host(), connections: values.connections, seconds: values.seconds };
  await writeFile(path.join(values.out, 'cpu-profile.json'), `${JSON.stringify({ ...meta, reports }, null, 2)}\n`);
  const markdown = render(reports, meta);
  await writeFile(path.join(values.out, 'CPU-PROFILE.md'), markdown);
  process.stdout.write(markdown.split('\n## ')[0]!);
  log(`wrote ${path.join(values.out, 'CPU-PROFILE.md')}, cpu-profile.json and the profiles`);
});

/** The profile, once the service has written it (the second SIGUSR2 writes it asynchronously). */
async function waitForFile(file: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await readFile(file, 'utf8');
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`the service wrote no profile to ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
