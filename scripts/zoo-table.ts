/**
 * npm run zoo-table -- --task fashion|har [--zoo-dir zoo]
 *
 * Prints the task's zoo as the README's markdown table, from its profiled manifest.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../src/config/defaults.js';
import { zooTable } from '../src/pipeline/zoo-table.js';
import { loadManifest } from '../src/zoo/manifest.js';

const { values } = parseArgs({
  options: { task: { type: 'string' }, 'zoo-dir': { type: 'string', default: DEFAULTS.zooDir } },
});
if (values.task === undefined) {
  console.error('usage: npm run zoo-table -- --task <task>');
  process.exit(2);
}
const { manifest } = await loadManifest(path.join(values['zoo-dir'], values.task));
console.log(zooTable(manifest));
