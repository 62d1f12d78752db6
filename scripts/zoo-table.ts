/**
 * npm run zoo-table -- --task <task> [--zoo-dir zoo]
 *
 * Prints the task's zoo as zoo/README.md's markdown table, from its profiled manifest.
 */
import { zooTable } from '../src/pipeline/zoo-table.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { parseCli, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run zoo-table --',
  summary: "Prints a task's zoo as a markdown table (method, parent, accuracy, latency, size, parameters, MACs) from its manifest.",
  options: { task: TASK, 'zoo-dir': ZOO_DIR },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const { manifest } = await loadManifest(taskFolder(values['zoo-dir'], values.task));
  console.log(zooTable(manifest));
});
