/**
 * npm run bench:server -- [--compare server|runtime] [--connections 16] [--seconds 5] [--rounds 3] [--load-cpus 1] [--out DIR]
 *
 * Two services alike but for one thing, side by side: the same requests to each in turn, in
 * interleaved rounds, the load generator on a CPU of its own.
 * - `server`: the app's server (src/http/server.ts: requests and responses made with express's
 *   prototypes) against express's own app.listen server (scripts/bench/plain-server.ts imported);
 * - `runtime`: the code compiled by tsc, as `npm start` runs it, against its TypeScript run
 *   through tsx (esbuild's output, which names every closure it makes: keepNames).
 * Requests: GET /healthz (the HTTP stack alone), and routed predictions of har's binary windows
 * and fashion's grey PNG uploads and client encodings. Prints and writes the requests per second
 * of each and their ratio.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FASHION_DEFAULT_DIR } from '../src/pipeline/datasets/fashion.js';
import { predictRequests, sampleInputForms, type InputForm } from './bench/inputs.js';
import type { LoadRequest } from './bench/load.js';
import { splitCpus, startService, type StartOptions } from './bench/service.js';
import { interleavedLoad } from './bench/suite.js';
import { parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run bench:server --',
  summary: "Two services alike but for their HTTP server (the app's against express's own) or how their code runs (compiled against tsx), side by side: requests per second of the HTTP stack alone and of routed predictions.",
  options: {
    compare: { type: 'string', default: 'server', choices: ['server', 'runtime'], help: 'what the two services differ in' },
    connections: { type: 'int', default: 16, min: 1, max: 1000, help: 'requests kept in flight' },
    seconds: { type: 'number', default: 5, min: 0, exclusiveMin: true, help: 'seconds per load run' },
    rounds: { type: 'int', default: 3, min: 1, max: 100, help: 'interleaved rounds per request kind and server' },
    'load-cpus': { type: 'int', default: 1, min: 0, max: 1024, help: 'CPUs kept for the load generator (0: it shares every CPU with the services)' },
    inputs: { type: 'int', default: 200, min: 1, max: 100_000, help: 'test-split inputs per task' },
    'fashion-data': { type: 'string', default: FASHION_DEFAULT_DIR, placeholder: 'DIR', help: "fashion's data set" },
    'har-data': { type: 'string', default: '../shared/data/hapt', placeholder: 'DIR', help: "har's data set" },
    out: { type: 'string', placeholder: 'DIR', help: 'where RESULTS.md and results.json go (default: bench/server or bench/runtime)' },
  },
} as const;

interface Comparison {
  title: string;
  /** What the two services differ in, as the report's sentence ends: "alike but for ...". */
  differ: string;
  names: readonly [string, string];
  options: readonly [StartOptions, StartOptions];
}

const COMPARISONS: Readonly<Record<'server' | 'runtime', Comparison>> = {
  server: {
    title: "The app's server against express's own",
    differ: 'their server',
    names: ["the app's (src/http/server.ts)", "express's own (app.listen)"],
    options: [{}, { preload: './scripts/bench/plain-server.ts' }],
  },
  runtime: {
    title: 'The service compiled by tsc against its TypeScript run through tsx',
    differ: 'how their code runs',
    names: ['compiled (npm start: node dist/main.js)', 'tsx (node --import tsx src/main.ts)'],
    options: [{ runtime: 'compiled' }, { runtime: 'tsx' }],
  },
};

interface Row {
  requests: string;
  perS: [number, number];
  failed: [number, number];
  ratio: number;
}

runMain(command.name, async () => {
  const values = parseCli(command);
  const compare = values.compare as keyof typeof COMPARISONS;
  const { title, differ, names, options } = COMPARISONS[compare];
  const out = values.out ?? `bench/${compare}`;
  const split = splitCpus(values['load-cpus']);
  const forms = async (task: string, dir: string, form: InputForm) => (await sampleInputForms(task, values.inputs, dir)).get(form)!;
  const kinds: [string, LoadRequest[]][] = [
    ['GET /healthz', [{ label: 'healthz', method: 'GET', path: '/healthz' }]],
    ['har, binary window, routed', predictRequests('har', await forms('har', values['har-data'], 'binary window'), 'routed')],
    ['fashion, grey PNG upload, routed', predictRequests('fashion', await forms('fashion', values['fashion-data'], 'grey PNG upload'), 'routed')],
    ['fashion, client encodings upload, routed', predictRequests('fashion', await forms('fashion', values['fashion-data'], 'client encodings, upload'), 'routed')],
  ];
  const env = { WORKERS: '1' };
  const cpus = split === undefined ? {} : { cpus: split.service };
  const services = [await startService(env, { ...cpus, ...options[0] }), await startService(env, { ...cpus, ...options[1] })];
  const rows: Row[] = [];
  try {
    for (const [name, requests] of kinds) {
      const totals = await interleavedLoad(services.map((s) => ({ base: s.base, requests })), values.connections, values);
      const perS = totals.map((t) => Math.round(t.ok / t.seconds)) as [number, number];
      rows.push({ requests: name, perS, failed: [totals[0]!.failed, totals[1]!.failed], ratio: perS[0] / perS[1] });
      console.log(`${name}: ${perS[0]} against ${perS[1]} requests/s, ${(perS[0] / perS[1]).toFixed(2)}x`);
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
  const date = new Date().toISOString();
  const lines = [
    `# ${title}`,
    '',
    `Generated by \`${command.name.replace(/ --$/, '')}\` on ${date.slice(0, 10)} (${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${os.platform()} ${os.arch()}): two services of one worker each, alike but for ${differ},`,
    `${values.connections} connections, ${values.rounds} interleaved rounds of ${values.seconds} s per request kind and server; the load generator on CPU(s) ${split?.generator.join(',') ?? 'shared'}, the services on ${split?.service.join(',') ?? 'every CPU'}.`,
    '',
    `| requests | ${names[0]}, requests/s | ${names[1]}, requests/s | ratio | failed |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.requests} | ${r.perS[0]} | ${r.perS[1]} | **${r.ratio.toFixed(2)}x** | ${r.failed.join(' / ')} |`),
    '',
  ];
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'RESULTS.md'), lines.join('\n'));
  await writeFile(path.join(out, 'results.json'), `${JSON.stringify({ generated: date, compare, connections: values.connections, seconds: values.seconds, rounds: values.rounds, services: names, rows }, null, 2)}\n`);
  console.log(`wrote ${path.join(out, 'RESULTS.md')} and results.json`);
});
