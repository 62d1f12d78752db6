/**
 * Fashion-MNIST from its IDX files (Debian's dataset-fashion-mnist puts them, gzipped, under
 * /usr/share/datasets/fashion-mnist). The splits (docs/premodel.md): the zoo trains on the first
 * 50,000 training images, the premodel on the last 10,000, and evaluation uses the 10,000 test images.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RawImage } from '../../inputs/image/decode.js';

export const FASHION_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_ZOO_SPLIT = 50_000;

export interface ImageSet {
  images: RawImage[];
  labels: number[];
}

export interface FashionSplits {
  premodel: ImageSet;
  test: ImageSet;
}

/** Parses an IDX file (big-endian header, unsigned bytes): its dimensions and data. */
export function parseIdx(bytes: Uint8Array, name: string): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw new Error(`${name} is not an IDX file of unsigned bytes`);
  }
  const rank = bytes[3]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + size) {
    throw new Error(`${name}: header says ${size} values, file holds ${bytes.length - offset}`);
  }
  return { dims, data: bytes.subarray(offset) };
}

async function readIdx(dir: string, stem: string): Promise<{ dims: number[]; data: Uint8Array }> {
  for (const name of [stem, `${stem}.gz`]) {
    const file = path.join(dir, name);
    if (existsSync(file)) {
      const raw = await readFile(file);
      return parseIdx(name.endsWith('.gz') ? gunzipSync(raw) : raw, file);
    }
  }
  throw new Error(`${path.join(dir, stem)}[.gz] not found (apt-get install dataset-fashion-mnist, or pass --data)`);
}

async function readSet(dir: string, prefix: string, from: number, to?: number): Promise<ImageSet> {
  const images = await readIdx(dir, `${prefix}-images-idx3-ubyte`);
  const labels = await readIdx(dir, `${prefix}-labels-idx1-ubyte`);
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) throw new Error(`${prefix}: ${count} images but ${labels.dims[0]} labels`);
  const end = to ?? count;
  const plane = width * height;
  const set: ImageSet = { images: [], labels: [] };
  for (let i = from; i < end; i++) {
    set.images.push({ pixels: images.data.subarray(i * plane, (i + 1) * plane), width, height, channels: 1 });
    set.labels.push(labels.data[i]!);
  }
  return set;
}

/** The premodel split (training images 50,000-59,999) and the test split. */
export async function loadFashionSplits(dir: string): Promise<FashionSplits> {
  return {
    premodel: await readSet(dir, 'train', FASHION_ZOO_SPLIT),
    test: await readSet(dir, 't10k', 0),
  };
}
