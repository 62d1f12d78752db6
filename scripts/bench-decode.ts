/**
 * npm run bench:decode -- [--repeats 300] [--out bench/decode.json]
 *
 * The decode stage of an image request, in-process fast paths against sharp alone, measured side by
 * side in one run (alternately, so that the machine's state weighs on both alike): milliseconds
 * p50 and p99 from the encoded bytes to the tensor, for each client encoding of encode.ts of the
 * committed fashion fixtures (28x28 grey), at the model's size (28x28 grey, what the zoo takes:
 * resized in-process for PNG and baseline JPEG, resize.ts) and at the image's own size. Then a PNG's
 * zlib stream (the fixtures' rows, deflated) inflated by `inflateSync` against the kept inflater
 * (codecs/inflate.ts), back to back and each after --idle-ms of idle, when code and memory have gone
 * cold. Prints the tables; writes the figures as JSON to --out and the tables as markdown beside it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inflateExactly, inflateOnce, type Inflater } from '../src/inputs/image/codecs/inflate.js';
import { decodeImageFile, ImageInput } from '../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../src/inputs/image/encode.js';
import type { ImagePreprocessing } from '../src/inputs/image/preprocessing.js';
import { parseCli, runMain } from './cli.js';

const command = {
  name: 'npm run bench:decode --',
  summary: 'Decode time per image (p50, p99), in-process fast paths against sharp, per client encoding and size.',
  options: {
    repeats: { type: 'int', default: 300, min: 10, max: 1_000_000, help: 'timed decodes of each encoding each way' },
    warmup: { type: 'int', default: 50, min: 0, max: 1_000_000, help: 'untimed decodes of each first' },
    fixtures: { type: 'string', default: 'test/fixtures/fashion', placeholder: 'DIR', help: 'folder of the source PNGs' },
    'idle-ms': { type: 'int', default: 20, min: 1, max: 10_000, help: 'idle before each of the inflations timed after an idle' },
    out: { type: 'string', default: 'bench/decode.json', placeholder: 'FILE', help: 'where the figures are written (and the table, as .md)' },
  },
} as const;

const LIMITS = { maxPixels: 4096 * 4096 };
const grey = (width: number, height: number): ImagePreprocessing => ({ type: 'image', width, height, channels: 1, fit: 'contain', background: 0, mean: [0], std: [1] });

interface Row {
  encoding: string;
  format: string;
  size: string;
  target: string;
  fast: { p50: number; p99: number };
  sharp: { p50: number; p99: number };
}

function percentiles(ms: number[]): { p50: number; p99: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(4));
  return { p50: at(0.5), p99: at(0.99) };
}

/** Milliseconds from bytes to tensor, one decode. */
async function decodeOnce(bytes: Uint8Array, prep: ImagePreprocessing, inProcess: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  await (await ImageInput.fromEncoded(bytes, LIMITS, { inProcess })).tensor(prep);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

interface InflateRow {
  pace: string;
  inflateSync: { p50: number; p99: number };
  kept: { p50: number; p99: number };
}

/** Milliseconds of one inflation of `compressed` to its `size` bytes. */
function inflateTime(inflate: Inflater, compressed: Uint8Array, size: number): number {
  const start = process.hrtime.bigint();
  if (inflate(compressed, size) === undefined) throw new Error('a stream did not inflate to its size');
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** inflateSync against the kept inflater, alternately, back to back and each after `idleMs` of idle. */
async function measureInflate(streams: readonly { compressed: Uint8Array; size: number }[], repeats: number, warmup: number, idleMs: number): Promise<InflateRow[]> {
  const rows: InflateRow[] = [];
  for (const [pace, idle, count] of [['back to back', 0, repeats], [`after ${idleMs} ms idle`, idleMs, Math.min(repeats, 100)]] as const) {
    const times = { inflateSync: [] as number[], kept: [] as number[] };
    for (let i = 0; i < warmup + count; i++) {
      const { compressed, size } = streams[i % streams.length]!;
      if (idle > 0 && i >= warmup) await sleep(idle);
      const once = inflateTime(inflateOnce, compressed, size);
      if (idle > 0 && i >= warmup) await sleep(idle);
      const kept = inflateTime(inflateExactly, compressed, size);
      if (i >= warmup) times.inflateSync.push(once), times.kept.push(kept);
    }
    rows.push({ pace, inflateSync: percentiles(times.inflateSync), kept: percentiles(times.kept) });
  }
  return rows;
}

function inflateTable(rows: readonly InflateRow[]): string {
  const us = (ms: number) => (ms * 1000).toFixed(1);
  return [
    '| pace | inflateSync p50 us | inflateSync p99 us | kept p50 us | kept p99 us | p50 speed-up |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.pace} | ${us(r.inflateSync.p50)} | ${us(r.inflateSync.p99)} | ${us(r.kept.p50)} | ${us(r.kept.p99)} | ${(r.inflateSync.p50 / r.kept.p50).toFixed(1)}x |`),
  ].join('\n');
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| encoding | format | sent size | tensor | fast p50 ms | fast p99 ms | sharp p50 ms | sharp p99 ms | p50 speed-up |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.encoding} | ${r.format} | ${r.size} | ${r.target} | ${r.fast.p50.toFixed(3)} | ${r.fast.p99.toFixed(3)} | ${r.sharp.p50.toFixed(3)} | ${r.sharp.p99.toFixed(3)} | ${(r.sharp.p50 / r.fast.p50).toFixed(1)}x |`),
  ];
  return lines.join('\n');
}

runMain(command.name, async () => {
  const values = parseCli(command);
  const files = readdirSync(values.fixtures).filter((f) => f.endsWith('.png')).sort();
  if (files.length === 0) throw new Error(`no PNG files in ${values.fixtures}`);
  const sources = await Promise.all(files.map(async (f) => decodeImageFile(readFileSync(path.join(values.fixtures, f)))));
  const rows: Row[] = [];
  for (const encoding of CLIENT_ENCODINGS) {
    const encoded = await Promise.all(sources.map((image) => encodeLikeClient(image, encoding)));
    const side = Math.round(sources[0]!.width * encoding.scale);
    const targets: [string, ImagePreprocessing][] = [['28x28 grey', grey(28, 28)]];
    if (side !== 28) targets.push([`${side}x${side} grey`, grey(side, side)]);
    for (const [target, prep] of targets) {
      const times = { fast: [] as number[], sharp: [] as number[] };
      for (let i = 0; i < values.warmup + values.repeats; i++) {
        const bytes = encoded[i % encoded.length]!;
        const [fast, viaSharp] = [await decodeOnce(bytes, prep, true), await decodeOnce(bytes, prep, false)];
        if (i >= values.warmup) times.fast.push(fast), times.sharp.push(viaSharp);
      }
      rows.push({ encoding: encoding.id, format: encoding.format, size: `${side}x${side}`, target, fast: percentiles(times.fast), sharp: percentiles(times.sharp) });
    }
  }
  // A fixture's PNG scanlines: a filter byte (0, none) before each row of its pixels.
  const streams = sources.map((image) => {
    const scanlines = new Uint8Array(image.height * (image.width * image.channels + 1));
    for (let y = 0; y < image.height; y++) scanlines.set(image.pixels.subarray(y * image.width * image.channels, (y + 1) * image.width * image.channels), y * (image.width * image.channels + 1) + 1);
    return { compressed: deflateSync(scanlines), size: scanlines.length };
  });
  const inflation = await measureInflate(streams, values.repeats, values.warmup, values['idle-ms']);
  // Where node's zlib handle is not what inflate.ts writes through, every stream goes through inflateSync.
  const fallback = inflateExactly === inflateOnce ? ' (this node has none: both columns are `inflateSync`)' : '';
  const markdown = `${table(rows)}\n\nA PNG's zlib stream (a fixture's ${streams[0]!.size} bytes of scanlines), \`inflateSync\` against the kept inflater${fallback}, alternately:\n\n${inflateTable(inflation)}`;
  console.log(markdown);
  const header = `Generated by \`${command.name} --repeats ${values.repeats}\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}); ${sources.length} fashion fixtures re-encoded per encoding.`;
  await mkdir(path.dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify({ generated: new Date().toISOString(), command: command.name, repeats: values.repeats, fixtures: sources.length, rows, inflation }, null, 2)}\n`);
  await writeFile(values.out.replace(/\.json$/, '') + '.md', `# Decode stage: in-process fast paths against sharp\n\n${header}\n\n${markdown}\n`);
  console.log(`\nwrote ${values.out} and ${values.out.replace(/\.json$/, '')}.md`);
});
