/** The zoo table of zoo/README.md: one markdown row per model, from a profiled manifest. */
import type { ModelEntry, ZooManifest } from '../zoo/manifest.js';

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(3));
const grouped = (v: number | undefined) => (v === undefined ? 'n/a' : v.toLocaleString('en-US'));

const COLUMNS: ReadonlyArray<readonly [string, (m: ModelEntry) => string]> = [
  ['model', (m) => m.id],
  ['method', (m) => m.compression.method],
  ['parent', (m) => m.compression.parent ?? '-'],
  ['test acc', (m) => pct(m.accuracy?.test)],
  ['test acc, client-encoded', (m) => pct(m.accuracy?.testClient)],
  ['premodel-split acc', (m) => pct(m.accuracy?.premodel)],
  ['p50 ms', (m) => ms(m.latency?.p50Ms)],
  ['p95 ms', (m) => ms(m.latency?.p95Ms)],
  ['size', (m) => `${(m.bytes / 1024).toFixed(0)} KiB`],
  ['parameters', (m) => grouped(m.parameters)],
  ['MACs', (m) => grouped(m.macs)],
];

/** A column that no model has a figure for (client encodings of a window task) is left out. */
export function zooTable(manifest: ZooManifest): string {
  const kept = COLUMNS.filter(([, cell]) => manifest.models.some((m) => cell(m) !== 'n/a'));
  const row = (values: readonly string[]) => `| ${values.join(' | ')} |`;
  return [
    row(kept.map(([name]) => name)),
    row(kept.map(() => '---')),
    ...manifest.models.map((m) => row(kept.map(([, cell]) => cell(m)))),
  ].join('\n');
}
