/**
 * npm run evaluate -- --task <task> [--data DIR] [--zoo-dir zoo] [--premodel-dir premodel] [--out reports]
 *
 * Evaluates the premodel against every single model, the oracle and two confidence cascades on the
 * test split, as it is and as clients send it, and writes reports/<task>.md, .json and .svg.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { taskInputs } from '../src/inputs/registry.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { evaluateTask } from '../src/pipeline/evaluate.js';
import { outcomePath, readOutcomes } from '../src/pipeline/outcomes.js';
import { writeReport } from '../src/pipeline/report.js';
import { loadPremodel } from '../src/premodel/premodel.js';
import { loadManifest, rungsOf } from '../src/zoo/manifest.js';
import { DATA_DIR, parseCli, PREMODEL_DIR, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run evaluate --',
  summary: "Evaluates a task's premodel on its test split against every single model, the oracle and two confidence cascades; writes the report.",
  options: {
    task: TASK,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    'premodel-dir': PREMODEL_DIR,
    out: { type: 'string', default: 'reports', placeholder: 'DIR', help: 'writes <DIR>/<task>.md, .json and .svg' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const task = values.task;
  const zooDir = taskFolder(values['zoo-dir'], task);
  const dataset = datasetOf(task);
  const { manifest, zooHash } = await loadManifest(zooDir);
  const premodel = await loadPremodel(path.join(values['premodel-dir'], task), {
    task,
    zooHash,
    featureNames: taskInputs(manifest).featureNames,
    modelIds: rungsOf(manifest).map((r) => r.id),
  });
  const read = (name: 'premodel' | 'test' | 'test-client') => readOutcomes(outcomePath(zooDir, name), zooHash);
  const testClientFile = outcomePath(zooDir, 'test-client');
  const outcomes = {
    premodel: await read('premodel'),
    test: await read('test'),
    ...(existsSync(testClientFile) ? { testClient: await read('test-client') } : {}),
  };
  const splits = await dataset.load(values.data ?? dataset.defaultDir);
  const result = await evaluateTask({ manifest, premodel, outcomes, splits });
  const files = await writeReport(values.out, result, `npm run evaluate -- --task ${task}`);
  const ratio = (r: number | null) => (r === null ? 'not reached' : `${r.toFixed(3)}x`);
  for (const e of [result.clean, ...(result.client === undefined ? [] : [result.client])]) {
    const h = e.headline;
    console.log(`${e.set} test rows (${e.inputs}): best single model ${h.best.model} ${(h.best.accuracy * 100).toFixed(2)}% at ${h.best.meanCostMs.toFixed(4)} ms`);
    console.log(`  premodel at that accuracy (within 0.2 points): ${ratio(h.premodelCostRatio)} its cost; exactly: ${ratio(h.premodelExactCostRatio)}; ` +
      `cascade: ${ratio(h.cascadeCostRatio)}; tuned cascade: ${ratio(h.tunedCascadeCostRatio)}`);
    console.log(`  targets met: ${h.targets.met} of ${h.targets.reachable} (within the sampling margin of ${(e.samplingMargin * 100).toFixed(2)} points: ${h.targets.metWithinMargin}); ` +
      `no constraint: ${(e.premodelDefault.accuracy * 100).toFixed(2)}% at ${e.premodelDefault.meanCostMs.toFixed(4)} ms, ${(e.premodelDefault.vouchedShare * 100).toFixed(1)}% vouched`);
    console.log(`  overhead per input: route ${e.overheadUs.route.toFixed(1)} us; where consulted, features ${e.overheadUs.features.toFixed(1)} us and forests ${e.overheadUs.premodel.toFixed(1)} us`);
  }
  console.log(`wrote ${files.join(', ')}`);
});
