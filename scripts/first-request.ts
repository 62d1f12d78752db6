/**
 * npm run bench:first -- [--task har] [--starts 3] [--requests 20]
 *
 * How much slower a fresh worker's first request is than its later ones, with the warm start on
 * and off (WARM_START), side by side in one run: the service is started `--starts` times each way,
 * and each time `--requests` predicts are sent in turn; the server's own time (timing.totalMs) of
 * the first is set against the median of the rest. Prints the table; writes bench/first-request.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { taskInputs } from '../src/inputs/registry.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { predictRequests, type BenchInput } from './bench/inputs.js';
import { startService } from './bench/service.js';
import { parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run bench:first --',
  summary: "A fresh worker's first request against its later ones, with the warm start on and off.",
  options: {
    task: { type: 'string', default: 'har', placeholder: 'TASK', help: 'the task the predicts go to' },
    starts: { type: 'int', default: 3, min: 1, max: 50, help: 'fresh starts of the service each way' },
    requests: { type: 'int', default: 20, min: 2, max: 10_000, help: 'predicts per start' },
    out: { type: 'string', default: 'bench/first-request.json', placeholder: 'FILE', help: 'where the figures are written' },
  },
} as const;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

runMain(command.name, async () => {
  const values = parseCli(command);
  const { manifest } = await loadManifest(`zoo/${values.task}`);
  const wire = (await taskInputs(manifest).blank()) as BenchInput;
  const [request] = predictRequests(values.task, [wire], 'first');
  const results: Record<string, { first: number[]; rest: number[] }> = {};
  for (let start = 0; start < values.starts; start++) {
    // Interleaved, so that the machine's state weighs on both ways alike.
    for (const warm of ['1', '0']) {
      const service = await startService({ WORKERS: '1', WARM_START: warm, FEEDBACK_DIR: '', LOG_LEVEL: 'info' });
      const times: number[] = [];
      try {
        for (let i = 0; i < values.requests; i++) {
          const res = await fetch(`${service.base}${request!.path}`, { method: 'POST', headers: request!.headers, body: request!.body as BodyInit });
          times.push(((await res.json()) as { timing: { totalMs: number } }).timing.totalMs);
        }
      } finally {
        await service.stop();
      }
      const r = (results[warm] ??= { first: [], rest: [] });
      r.first.push(times[0]!);
      r.rest.push(median(times.slice(1)));
    }
  }
  const rows = Object.entries(results).map(([warm, r]) => ({
    warmStart: warm === '1',
    firstMs: Math.round(median(r.first) * 1000) / 1000,
    laterMs: Math.round(median(r.rest) * 1000) / 1000,
    ratio: Math.round((median(r.first) / median(r.rest)) * 100) / 100,
  }));
  console.log(`${values.task}, ${values.starts} fresh starts each way, server time (timing.totalMs), medians:`);
  for (const row of rows) console.log(`  warm start ${row.warmStart ? 'on ' : 'off'}: first request ${row.firstMs.toFixed(3)} ms, later ${row.laterMs.toFixed(3)} ms: ${row.ratio.toFixed(2)}x`);
  await mkdir('bench', { recursive: true });
  await writeFile(values.out, `${JSON.stringify({ task: values.task, starts: values.starts, requests: values.requests, rows, measuredAt: new Date().toISOString() }, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
});
