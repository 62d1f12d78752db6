/**
 * npm run evaluate -- --task <task> [--data DIR] [--zoo-dir zoo] [--premodel-dir premodel] [--out reports]
 *
 * Evaluates the premodel against every single model, the oracle and a confidence cascade on the
 * test split, and writes reports/<task>.md, .json and .svg.
 */
import path from 'node:path';
import { taskInputs } from '../src/inputs/registry.js';
import { datasetOf } from '../src/pipeline/datasets/index.js';
import { evaluate } from '../src/pipeline/evaluate.js';
import { outcomePath, readOutcomes } from '../src/pipeline/outcomes.js';
import { timedFeatureRows } from '../src/pipeline/overhead.js';
import { writeReport } from '../src/pipeline/report.js';
import { loadPremodel } from '../src/premodel/premodel.js';
import { routeWith } from '../src/select/route.js';
import { loadManifest } from '../src/zoo/manifest.js';
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
    modelIds: manifest.models.map((m) => m.id),
  });
  const outcomes = await readOutcomes(outcomePath(zooDir, 'test'), zooHash);
  const premodelOutcomes = await readOutcomes(outcomePath(zooDir, 'premodel'), zooHash);
  const splits = await dataset.load(values.data ?? dataset.defaultDir);

  // Timed per input as the request path runs them at the default target: features on the decoded input
  // (decoding is its own stage, which the models need anyway); stage one for the rungs of the ladder
  // and stage two for the model started; the route and policy, with the recorded confidences as verdicts.
  const { rows: features, featureUs } = await timedFeatureRows(manifest, splits.test);
  const pointFor = (target: number) => premodel.operatingPoint(target);
  const ladder = pointFor(premodel.defaultTarget).models;
  const defaults = { minAccuracy: premodel.defaultTarget, maxLatencyMs: Infinity };
  const latencyOf = new Map(manifest.models.map((m) => [m.id, m.latency!.p50Ms]));
  /** Mean microseconds per test input of the forests and of the route. */
  function selectionUs(): { premodel: number; route: number } {
    let premodelMs = 0;
    let routeMs = 0;
    for (const [i, row] of features.entries()) {
      const t0 = performance.now();
      const estimates = premodel.estimate(row, ladder);
      premodel.confirm(ladder[0]!, row, 0.9, 0.5);
      const t1 = performance.now();
      routeWith(
        premodel.models,
        (models) => models.map((model) => ({ model, pCorrect: estimates.get(model) ?? 0, latencyMs: latencyOf.get(model)! })),
        {},
        pointFor,
        defaults,
        (model) => outcomes.models[model]!.confidence[i]!,
      );
      routeMs += performance.now() - t1;
      premodelMs += t1 - t0;
    }
    return { premodel: (premodelMs / features.length) * 1000, route: (routeMs / features.length) * 1000 };
  }
  // Untimed over 20,000 inputs first, as a warm service has its code compiled (on har's 1,609 the
  // route kept getting faster for 10 passes); then the median of 7 passes, since one collector pause
  // in a pass doubled its mean.
  for (let seen = 0; seen < 20_000; seen += features.length) selectionUs();
  const passes = Array.from({ length: 7 }, selectionUs);
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  const selection = { premodel: median(passes.map((p) => p.premodel)), route: median(passes.map((p) => p.route)) };
  const result = evaluate({
    manifest,
    premodel,
    outcomes,
    premodelOutcomes,
    ...(splits.premodel.groups === undefined ? {} : { premodelGroups: splits.premodel.groups }),
    features,
    overheadUs: { features: featureUs, ...selection },
  });
  const files = await writeReport(values.out, result, `npm run evaluate -- --task ${task}`);
  const h = result.headline;
  console.log(`best single model ${h.best.model}: ${(h.best.accuracy * 100).toFixed(2)}% at ${h.best.meanCostMs.toFixed(4)} ms`);
  const ratio = (r: number | null) => (r === null ? 'not reached' : `${r.toFixed(3)}x`);
  console.log(`premodel at that accuracy: ${ratio(h.premodelCostRatio)} its cost; cascade: ${ratio(h.cascadeCostRatio)}; ` +
    `tuned cascade: ${ratio(h.tunedCascadeCostRatio)}`);
  console.log(`premodel max accuracy ${(h.premodelMaxAccuracy * 100).toFixed(2)}%; oracle ${(result.oracle.accuracy * 100).toFixed(2)}% at ${result.oracle.meanCostMs.toFixed(4)} ms`);
  console.log(`overhead per input: route ${result.overheadUs.route.toFixed(1)} us; where consulted, features ${result.overheadUs.features.toFixed(1)} us and forests ${result.overheadUs.premodel.toFixed(1)} us`);
  console.log(`wrote ${files.join(', ')}`);
});
