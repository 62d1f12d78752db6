/**
 * Writes the HAPT windows of the three splits for the Python recipe (zoo/recipes/har.py), so that
 * training and serving share one windowing implementation (src/pipeline/datasets/hapt.ts).
 *
 *   npm run export-har-windows -- --data ../shared/data/hapt --out .cache/har-windows
 *
 * For each split: `<split>.f32`, little-endian float32 of shape [n, 128, 6] (time-major, raw
 * units), and `<split>.json` with `labels` (0..5), `users` and the shape.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  HAPT_VOLUNTEERS, HAR_CHANNELS, HAR_CLASSES, SAMPLE_RATE_HZ, WINDOW_LENGTH, WINDOW_STRIDE, loadHaptSplits,
} from '../src/pipeline/datasets/hapt.js';
import { parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run export-har-windows --',
  summary: 'Writes the HAPT windows of the zoo, premodel and test splits (float32 + JSON) for the Python recipe zoo/recipes/har.py.',
  options: {
    data: { type: 'string', default: '../shared/data/hapt', placeholder: 'DIR', help: 'the HAPT recordings (RawData/)' },
    out: { type: 'string', default: '.cache/har-windows', placeholder: 'DIR', help: 'where the windows go' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const started = Date.now();
  const splits = await loadHaptSplits(values.data);
  await mkdir(values.out, { recursive: true });
  for (const name of ['zoo', 'premodel', 'test'] as const) {
    const set = splits[name];
    const n = set.windows.length;
    const all = new Float32Array(n * WINDOW_LENGTH * 6);
    set.windows.forEach((w, i) => all.set(w, i * WINDOW_LENGTH * 6));
    const bytes = Buffer.from(all.buffer, all.byteOffset, all.byteLength);
    if (!isLittleEndian()) throw new Error('big-endian hosts are not supported');
    await writeFile(path.join(values.out, `${name}.f32`), bytes);
    const meta = {
      split: name,
      shape: [n, WINDOW_LENGTH, HAR_CHANNELS.length],
      dtype: 'float32-le',
      classes: HAR_CLASSES,
      channels: HAR_CHANNELS,
      sampleRateHz: SAMPLE_RATE_HZ,
      stride: WINDOW_STRIDE,
      volunteers: HAPT_VOLUNTEERS[name],
      labels: set.labels,
      users: set.users,
    };
    await writeFile(path.join(values.out, `${name}.json`), JSON.stringify(meta) + '\n');
    const perClass = HAR_CLASSES.map((_, c) => set.labels.filter((l) => l === c).length);
    console.log(`${name}: ${n} windows from ${new Set(set.users).size} volunteers, per class ${perClass.join('/')}`);
  }
  console.log(`wrote ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
