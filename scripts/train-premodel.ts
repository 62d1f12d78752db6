/**
 * npm run train-premodel -- --task <task> [--data DIR] [--zoo-dir zoo] [--out premodel]
 *                           [--folds 2] [--trees 12] [--rows-per-tree 500] [--max-depth 7] [--seed 17]
 *
 * Retrains the task's premodel from the zoo's outcome files on the premodel split (written by
 * `npm run profile`) and the cheap features of the same inputs; writes premodel/<task>/premodel.json.
 */
import path from 'node:path';
import { taskInputs } from '../src/inputs/registry.js';
import { rowsOfOutcomes } from '../src/pipeline/client-rows.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { outcomePath, readOutcomes } from '../src/pipeline/outcomes.js';
import { DEFAULT_FOREST, trainTaskPremodel } from '../src/pipeline/train-premodel.js';
import { savePremodel } from '../src/premodel/premodel.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { DATA_DIR, parseCli, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run train-premodel --',
  summary: "Trains and calibrates a task's premodel from its zoo's outcomes on the premodel split and the inputs' features.",
  options: {
    task: TASK,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    out: { type: 'string', default: 'premodel', placeholder: 'DIR', help: 'writes <DIR>/<task>/premodel.json' },
    folds: { type: 'int', default: 2, min: 2, max: 20, help: 'cross-validation folds of the out-of-fold estimates' },
    trees: { type: 'int', default: DEFAULT_FOREST.trees, min: 1, max: 1000, help: 'trees per forest' },
    'rows-per-tree': { type: 'int', default: DEFAULT_FOREST.rowsPerTree, min: 1, max: 1_000_000, help: 'training rows drawn for each tree' },
    'max-depth': { type: 'int', default: DEFAULT_FOREST.maxDepth, min: 1, max: 64, help: 'deepest split level' },
    seed: { type: 'int', default: DEFAULT_FOREST.seed, help: 'random seed of the forests' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const started = performance.now();
  const task = values.task;
  const zooDir = taskFolder(values['zoo-dir'], task);
  const dataset = datasetOf(task);
  const { manifest, zooHash } = await loadManifest(zooDir);
  const outcomes = await readOutcomes(outcomePath(zooDir, 'premodel'), zooHash);
  const splits = await dataset.load(values.data ?? dataset.defaultDir);
  const { premodel, featureUs } = await trainTaskPremodel({
    manifest,
    zooHash,
    outcomes,
    // The rows the profiler measured: the premodel split as clients send it, for a kind they encode.
    data: rowsOfOutcomes(splits.premodel, taskInputs(manifest), outcomes.rows),
    folds: values.folds,
    options: { ...DEFAULT_FOREST, trees: values.trees, rowsPerTree: values['rows-per-tree'], maxDepth: values['max-depth'], seed: values.seed },
  });
  const file = await savePremodel(path.join(values.out, task), premodel);
  console.log(`routes among ${premodel.models.join(', ')}`);
  console.log(`features and forests ${(premodel.training.overheadMs * 1000).toFixed(1)} us per input (features ${featureUs.toFixed(1)} us), ` +
    'charged to the routings that consult the premodel');
  console.log('operating points (out of fold, premodel split): ladder @ thresholds per rung -> accuracy (lower bound), mean cost');
  for (const c of premodel.calibration) {
    console.log(`  ${c.models.join(' > ')} @ ${c.thresholds.join(' / ')}${c.models.length > 1 ? ` (${c.verifier}${c.start === 'cheapest' ? ', from the cheapest' : ''})` : ''} -> ${(c.accuracy * 100).toFixed(2)}% (${(c.accuracyLowerBound * 100).toFixed(2)}%), ${c.meanCostMs.toFixed(4)} ms`);
  }
  console.log(`wrote ${file}; forests trained in ${premodel.training.seconds.toFixed(1)} s, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in all`);
});
