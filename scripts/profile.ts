/**
 * npm run profile -- --task <task> [--data DIR] [--zoo-dir zoo] [--threads 1] [--runs 500] [--warmup 50] [--dry-run] [--latency-only]
 *
 * Measures each model of the task's zoo on this machine (batch-1 latency p50/p95, accuracy per
 * split) and writes them into zoo/<task>/manifest.json, with the per-input outcomes on the
 * premodel and test splits under zoo/<task>/outcomes/. --dry-run prints without writing.
 */
import { DEFAULTS } from '../src/config/defaults.js';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { profileStep } from '../src/pipeline/task-steps.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { DATA_DIR, parseCli, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run profile --',
  summary: "Profiles every model of a task's zoo on this machine (latency, accuracy, per-input outcomes) into its manifest and outcomes/.",
  options: {
    task: TASK,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    threads: { type: 'int', default: DEFAULTS.intraOpThreads, min: 1, max: 256, help: 'onnxruntime intra-op threads per session' },
    runs: { type: 'int', default: DEFAULTS.profileRuns, min: 1, max: 1_000_000, help: 'timed runs per model' },
    warmup: { type: 'int', default: DEFAULTS.profileWarmupRuns, min: 0, max: 1_000_000, help: 'untimed warm-up runs per model' },
    'dry-run': { type: 'boolean', help: 'print the figures without writing anything' },
    'latency-only': { type: 'boolean', help: 'measure latency again, keep the accuracies and outcomes (minutes less)' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const zooDir = taskFolder(values['zoo-dir'], values.task);
  const { manifest } = await loadManifest(zooDir);
  const splits = await loadSplits(manifest, values.data);
  const step = await profileStep(zooDir, splits, {
    intraOpThreads: values.threads,
    runs: values.runs,
    warmupRuns: values.warmup,
    latencyOnly: values['latency-only'],
    dryRun: values['dry-run'],
  });
  for (const line of step.lines) console.log(line);
});
