/**
 * npm run profile -- --task fashion [--data DIR] [--zoo-dir zoo] [--threads 1] [--runs 500]
 *                    [--warmup 50] [--dry-run]
 *
 * Measures each model of the task's zoo on this machine (batch-1 latency p50/p95, accuracy per
 * split) and writes them into zoo/<task>/manifest.json, with the per-input outcomes on the
 * premodel and test splits under zoo/<task>/outcomes/. --dry-run prints without writing.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config/defaults.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { profileZoo, saveProfile } from '../src/pipeline/profile.js';
import { zooTable } from '../src/pipeline/zoo-table.js';
import type { ZooManifest } from '../src/zoo/manifest.js';
import { loadZoo } from '../src/zoo/repository.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    data: { type: 'string' },
    'zoo-dir': { type: 'string', default: DEFAULTS.zooDir },
    threads: { type: 'string', default: String(DEFAULTS.intraOpThreads) },
    runs: { type: 'string', default: String(DEFAULTS.profileRuns) },
    warmup: { type: 'string', default: String(DEFAULTS.profileWarmupRuns) },
    'dry-run': { type: 'boolean', default: false },
  },
});
if (values.task === undefined) {
  console.error('usage: npm run profile -- --task <task> [--data DIR] [--threads N] [--dry-run]');
  process.exit(2);
}
const task = values.task;
const dataset = datasetOf(task);
const zooDir = path.join(values['zoo-dir'], task);
const options = {
  intraOpThreads: Number(values.threads),
  runs: Number(values.runs),
  warmupRuns: Number(values.warmup),
};
const started = performance.now();
const zoo = await loadZoo(zooDir, { intraOpThreads: options.intraOpThreads });
try {
  const splits = await dataset.load(values.data ?? dataset.defaultDir);
  const result = await profileZoo(zoo, splits, options);
  const profiled = structuredClone(zoo.manifest) as ZooManifest;
  for (const model of profiled.models) {
    model.accuracy = result.accuracy[model.id];
    model.latency = result.latency[model.id];
  }
  console.log(zooTable(profiled));
  if (!values['dry-run']) await saveProfile(zooDir, result);
  console.log(
    `profiled ${zoo.models.length} models with ${options.intraOpThreads} intra-op thread(s) in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s${values['dry-run'] ? ' (dry run: nothing written)' : ''}`,
  );
} finally {
  zoo.dispose();
}
