/**
 * npm run profile -- --task <task> [--head HEAD] [--data DIR] [--zoo-dir zoo] [--threads 1] [--runs 500] [--warmup 50] [--dry-run] [--latency-only]
 * npm run profile -- --task <task> --cross-fit DIR [--data DIR] [--zoo-dir zoo] [--threads 1]
 *
 * Measures each model of the task's zoo on this machine (batch-1 latency p50/p95, accuracy per
 * split) and writes them into zoo/<task>/manifest.json, with the per-input outcomes on the
 * premodel and test splits under zoo/<task>/outcomes/. --dry-run prints without writing. With
 * --head, the tails of that head instead (zoo/<task>/heads/<head>/), on the task's rows passed
 * through the head as a device runs it. With --cross-fit, the fold models of DIR (the task's recipe
 * run with --fold K/N --out DIR/fold-K) on the zoo split's people each fold held out instead:
 * zoo/<task>/outcomes/cross-fit.json, which premodel training then learns from too.
 */
import { DEFAULTS } from '../src/config/defaults.js';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { crossFitStep, profileStep } from '../src/pipeline/task-steps.js';
import { splitRows } from '../src/pipeline/split.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { DATA_DIR, HEAD, headFolder, parseCli, runMain, TASK, taskFolder, UsageError, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run profile --',
  summary: "Profiles every model of a task's zoo on this machine (latency, accuracy, per-input outcomes) into its manifest and outcomes/.",
  options: {
    task: TASK,
    head: HEAD,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    threads: { type: 'int', default: DEFAULTS.intraOpThreads, min: 1, max: 256, help: 'onnxruntime intra-op threads per session' },
    runs: { type: 'int', default: DEFAULTS.profileRuns, min: 1, max: 1_000_000, help: 'timed runs per model' },
    warmup: { type: 'int', default: DEFAULTS.profileWarmupRuns, min: 0, max: 1_000_000, help: 'untimed warm-up runs per model' },
    'dry-run': { type: 'boolean', help: 'print the figures without writing anything' },
    'latency-only': { type: 'boolean', help: 'measure latency again, keep the accuracies and outcomes (minutes less)' },
    'cross-fit': { type: 'string', placeholder: 'DIR', help: "measure the fold models in DIR/*/ on the zoo split's people they held out (outcomes/cross-fit.json)" },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const taskDir = taskFolder(values['zoo-dir'], values.task);
  const zooDir = values.head === undefined ? taskDir : headFolder(taskDir, values.head);
  const { manifest } = await loadManifest(taskDir);
  if (values['cross-fit'] !== undefined && values.head !== undefined) throw new UsageError("--cross-fit measures the task's own zoo, not a head's tails");
  const splits = await loadSplits(manifest, values.data);
  if (values['cross-fit'] !== undefined) {
    for (const line of (await crossFitStep(taskDir, values['cross-fit'], splits, values.threads)).lines) console.log(line);
    return;
  }
  const route = values.head === undefined ? undefined : await splitRows(taskDir, zooDir, splits, { intraOpThreads: values.threads });
  try {
    const step = await profileStep(zooDir, route?.splits ?? splits, {
      intraOpThreads: values.threads,
      runs: values.runs,
      warmupRuns: values.warmup,
      latencyOnly: values['latency-only'],
      dryRun: values['dry-run'],
    });
    for (const line of step.lines) console.log(line);
  } finally {
    route?.close();
  }
});
