/**
 * npm run train-premodel -- --task <task> [--head HEAD] [--data DIR] [--zoo-dir zoo] [--out premodel]
 *                           [--folds 2] [--trees 12] [--rows-per-tree 500] [--max-depth 7] [--seed 17]
 *
 * Retrains the task's premodel from the zoo's outcome files on the premodel split (written by
 * `npm run profile`) and the cheap features of the same inputs; writes premodel/<task>/premodel.json.
 * With --head, the premodel of that head's tails (features: the bottleneck, the task's rows passed
 * through the head): premodel/<task>/heads/<head>/premodel.json.
 */
import path from 'node:path';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { premodelStep } from '../src/pipeline/task-steps.js';
import { DEFAULT_FOREST } from '../src/pipeline/train-premodel.js';
import { splitRows } from '../src/pipeline/split.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { HEADS_DIR } from '../src/zoo/repository.js';
import { DATA_DIR, HEAD, headFolder, parseCli, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run train-premodel --',
  summary: "Trains and calibrates a task's premodel from its zoo's outcomes on the premodel split and the inputs' features.",
  options: {
    task: TASK,
    head: HEAD,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    out: { type: 'string', default: 'premodel', placeholder: 'DIR', help: 'writes <DIR>/<task>/premodel.json (with --head: <DIR>/<task>/heads/<HEAD>/premodel.json)' },
    folds: { type: 'int', default: 2, min: 2, max: 20, help: 'cross-validation folds of the out-of-fold estimates' },
    trees: { type: 'int', default: DEFAULT_FOREST.trees, min: 1, max: 1000, help: 'trees per forest' },
    'rows-per-tree': { type: 'int', default: DEFAULT_FOREST.rowsPerTree, min: 1, max: 1_000_000, help: 'training rows drawn for each tree' },
    'max-depth': { type: 'int', default: DEFAULT_FOREST.maxDepth, min: 1, max: 64, help: 'deepest split level' },
    seed: { type: 'int', default: DEFAULT_FOREST.seed, help: 'random seed of the forests' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const taskDir = taskFolder(values['zoo-dir'], values.task);
  const zooDir = values.head === undefined ? taskDir : headFolder(taskDir, values.head);
  const out = values.head === undefined ? path.join(values.out, values.task) : path.join(values.out, values.task, HEADS_DIR, values.head);
  const { manifest } = await loadManifest(taskDir);
  const splits = await loadSplits(manifest, values.data);
  const route = values.head === undefined ? undefined : await splitRows(taskDir, zooDir, splits, { intraOpThreads: 1 });
  try {
    const step = await premodelStep(zooDir, out, route?.splits ?? splits, {
      folds: values.folds,
      forest: { ...DEFAULT_FOREST, trees: values.trees, rowsPerTree: values['rows-per-tree'], maxDepth: values['max-depth'], seed: values.seed },
    });
    for (const line of step.lines) console.log(line);
  } finally {
    route?.close();
  }
});
