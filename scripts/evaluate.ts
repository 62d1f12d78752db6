/**
 * npm run evaluate -- --task fashion|har [--data DIR] [--zoo-dir zoo] [--premodel-dir premodel] [--out reports]
 *
 * Evaluates the premodel against every single model, the oracle and a confidence cascade on the
 * test split, and writes reports/<task>.md, .json and .svg.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config/defaults.js';
import { extractFeatures, featureNamesOf, featureViewOf } from '../src/features/extract.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { evaluate } from '../src/pipeline/evaluate.js';
import { outcomePath, readOutcomes } from '../src/pipeline/outcomes.js';
import { progress } from '../src/pipeline/progress.js';
import { writeReport } from '../src/pipeline/report.js';
import { loadPremodel } from '../src/premodel/premodel.js';
import { loadManifest } from '../src/zoo/manifest.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    data: { type: 'string' },
    'zoo-dir': { type: 'string', default: DEFAULTS.zooDir },
    'premodel-dir': { type: 'string', default: 'premodel' },
    out: { type: 'string', default: 'reports' },
  },
});
if (values.task === undefined) {
  console.error('usage: npm run evaluate -- --task <task> [--data DIR]');
  process.exit(2);
}
const task = values.task;
const dataset = datasetOf(task);
const zooDir = path.join(values['zoo-dir'], task);
const { manifest, zooHash } = await loadManifest(zooDir);
const view = featureViewOf(manifest);
const premodel = await loadPremodel(path.join(values['premodel-dir'], task), {
  task,
  zooHash,
  featureNames: featureNamesOf(view),
  modelIds: manifest.models.map((m) => m.id),
});
const outcomes = await readOutcomes(outcomePath(zooDir, 'test'), zooHash);
const premodelOutcomes = await readOutcomes(outcomePath(zooDir, 'premodel'), zooHash);
const splits = await dataset.load(values.data ?? dataset.defaultDir);

// Features and forests are timed per input as the request path runs them at the default target:
// features on the decoded input (decoding is its own stage, which the model needs anyway), stage one
// for the rungs of the ladder, stage two for the model started.
const features: number[][] = [];
let featureMs = 0;
let premodelMs = 0;
const ladder = premodel.operatingPoint(premodel.defaultTarget).models;
const bar = progress('features (test)', splits.test.labels.length);
for (let i = 0; i < splits.test.labels.length; i++) {
  const input = splits.test.input(i);
  await extractFeatures(input, view); // decodes
  const t0 = performance.now();
  const row = await extractFeatures(input, view);
  const t1 = performance.now();
  premodel.estimate(row, ladder);
  premodel.confirm(ladder[0]!, row, 0.9, 0.5);
  const t2 = performance.now();
  featureMs += t1 - t0;
  premodelMs += t2 - t1;
  features.push(Array.from(row));
  bar.tick();
}
bar.stop();
const n = features.length;
const result = evaluate({
  manifest,
  premodel,
  outcomes,
  premodelOutcomes,
  ...(splits.premodel.groups === undefined ? {} : { premodelGroups: splits.premodel.groups }),
  features,
  overheadUs: { features: (featureMs / n) * 1000, premodel: (premodelMs / n) * 1000 },
});
const files = await writeReport(values.out, result, `npm run evaluate -- --task ${task}`);
const h = result.headline;
console.log(`best single model ${h.best.model}: ${(h.best.accuracy * 100).toFixed(2)}% at ${h.best.meanCostMs.toFixed(4)} ms`);
const ratio = (r: number | null) => (r === null ? 'not reached' : `${r.toFixed(3)}x`);
console.log(`premodel at that accuracy: ${ratio(h.premodelCostRatio)} its cost; cascade: ${ratio(h.cascadeCostRatio)}; ` +
  `tuned cascade: ${ratio(h.tunedCascadeCostRatio)}`);
console.log(`premodel max accuracy ${(h.premodelMaxAccuracy * 100).toFixed(2)}%; oracle ${(result.oracle.accuracy * 100).toFixed(2)}% at ${result.oracle.meanCostMs.toFixed(4)} ms`);
console.log(`overhead: features ${result.overheadUs.features.toFixed(1)} us, premodel ${result.overheadUs.premodel.toFixed(1)} us per input`);
console.log(`wrote ${files.join(', ')}`);
