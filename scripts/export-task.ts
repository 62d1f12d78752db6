/**
 * npm run export-task -- --task <task> --out <dir> [--data DIR] [--zoo-dir zoo]
 *
 * Writes a task as a team brings it to `npm run add-task`: <dir>/models (ONNX files, labels.txt,
 * zoo.json) and <dir>/data (the premodel and test parts: image folders per class, or JSON Lines of
 * windows). Importing it again gives the same task; that is how the import path is checked
 * against the built-in zoos (docs/premodel.md).
 */
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { exportTask } from '../src/pipeline/import/export.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { DATA_DIR, parseCli, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run export-task --',
  summary: 'Writes a task as the files npm run add-task takes: models/ (ONNX, labels.txt, zoo.json) and data/ (premodel and test parts).',
  options: {
    task: TASK,
    out: { type: 'string', required: true, placeholder: 'DIR', help: 'writes <DIR>/models and <DIR>/data' },
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const started = performance.now();
  const zooDir = taskFolder(values['zoo-dir'], values.task);
  const { manifest } = await loadManifest(zooDir);
  const written = await exportTask(zooDir, manifest, await loadSplits(manifest, values.data), values.out);
  console.log(`wrote ${written.models} and ${written.data} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`import it: npm run add-task -- --task ${values.task}-imported --models ${written.models} --data ${written.data} --out <DIR>`);
});
