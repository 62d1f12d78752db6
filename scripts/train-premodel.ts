/**
 * npm run train-premodel -- --task fashion|har [--data DIR] [--zoo-dir zoo] [--out premodel]
 *                           [--folds 2] [--trees 12] [--rows-per-tree 500] [--max-depth 7] [--seed 17]
 *
 * Retrains the task's premodel from the zoo's outcome files on the premodel split (written by
 * `npm run profile`) and the cheap features of the same inputs; writes premodel/<task>/premodel.json.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config/defaults.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { outcomePath, readOutcomes } from '../src/pipeline/outcomes.js';
import { forestUs, timedFeatureRows } from '../src/pipeline/overhead.js';
import { DEFAULT_FOREST, MAX_RUNGS, trainPremodel } from '../src/pipeline/train-premodel.js';
import { savePremodel } from '../src/premodel/premodel.js';
import { loadManifest } from '../src/zoo/manifest.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    data: { type: 'string' },
    'zoo-dir': { type: 'string', default: DEFAULTS.zooDir },
    out: { type: 'string', default: 'premodel' },
    folds: { type: 'string', default: '2' },
    trees: { type: 'string', default: String(DEFAULT_FOREST.trees) },
    'rows-per-tree': { type: 'string', default: String(DEFAULT_FOREST.rowsPerTree) },
    'max-depth': { type: 'string', default: String(DEFAULT_FOREST.maxDepth) },
    seed: { type: 'string', default: String(DEFAULT_FOREST.seed) },
  },
});
if (values.task === undefined) {
  console.error('usage: npm run train-premodel -- --task <task> [--data DIR] [--folds 2] [--trees 12]');
  process.exit(2);
}
const started = performance.now();
const task = values.task;
const dataset = datasetOf(task);
const { manifest, zooHash } = await loadManifest(path.join(values['zoo-dir'], task));
const outcomes = await readOutcomes(outcomePath(path.join(values['zoo-dir'], task), 'premodel'), zooHash);
const splits = await dataset.load(values.data ?? dataset.defaultDir);
const { rows: features, featureUs } = await timedFeatureRows(manifest, splits.premodel);
const premodel = trainPremodel({
  manifest,
  zooHash,
  outcomes,
  features,
  ...(splits.premodel.groups === undefined ? {} : { groups: splits.premodel.groups }),
  folds: Number(values.folds),
  // A request that consults the premodel pays its features, a full ladder's stage one and a stage-two
  // verdict per model it runs (one, for most requests).
  requestOverheadMs: (stage1, stage2) => {
    const first = Object.values(stage1).slice(0, MAX_RUNGS);
    return (featureUs + forestUs(first, Object.values(stage2)[0]!, features)) / 1000;
  },
  options: {
    ...DEFAULT_FOREST,
    trees: Number(values.trees),
    rowsPerTree: Number(values['rows-per-tree']),
    maxDepth: Number(values['max-depth']),
    seed: Number(values.seed),
  },
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
