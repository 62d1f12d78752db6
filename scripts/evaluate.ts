/**
 * npm run evaluate -- --task <task> [--data DIR] [--zoo-dir zoo] [--premodel-dir premodel] [--out reports]
 *
 * Evaluates the premodel against every single model, the oracle and two confidence cascades on the
 * test split, as it is and as clients send it, and writes reports/<task>.md, .json and .svg.
 */
import path from 'node:path';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { evaluateStep } from '../src/pipeline/task-steps.js';
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
  const zooDir = taskFolder(values['zoo-dir'], values.task);
  const { manifest } = await loadManifest(zooDir);
  const splits = await loadSplits(manifest, values.data);
  const paths = { zooDir, premodelDir: path.join(values['premodel-dir'], values.task), reportsDir: values.out };
  const step = await evaluateStep(paths, splits, `npm run evaluate -- ${process.argv.slice(2).join(' ')}`);
  for (const line of step.lines) console.log(line);
});
