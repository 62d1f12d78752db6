/** The zoo table of zoo/README.md: one markdown row per model, from a profiled manifest. */
import type { ZooManifest } from '../zoo/manifest.js';

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);
const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(3));
const grouped = (v: number) => v.toLocaleString('en-US');

export function zooTable(manifest: ZooManifest): string {
  const rows = manifest.models.map((m) =>
    [
      m.id,
      m.compression.method,
      m.compression.parent ?? '-',
      pct(m.accuracy?.test),
      pct(m.accuracy?.testClient),
      pct(m.accuracy?.premodel),
      ms(m.latency?.p50Ms),
      ms(m.latency?.p95Ms),
      `${(m.bytes / 1024).toFixed(0)} KiB`,
      grouped(m.parameters),
      grouped(m.macs),
    ].join(' | '),
  );
  return [
    '| model | method | parent | test acc | test acc, client-encoded | premodel-split acc | p50 ms | p95 ms | size | parameters | MACs |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}
