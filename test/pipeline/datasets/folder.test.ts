import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadFolderSplits } from '../../../src/pipeline/datasets/folder.js';
import { encodePng } from '../../../src/inputs/image/decode.js';
import type { ImageInput } from '../../../src/inputs/image/decode.js';

describe('pipeline/datasets/folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'folder-data-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('interleaves the classes, each in name order: both halves of the rows hold every class', async () => {
    // Each image's grey level says which file it is: class a's files are 10, 11, ...; b's 20, 21, ...
    const files: Record<string, number> = { 'a/img2.png': 11, 'a/img10.png': 12, 'a/img1.png': 10, 'a/img11.png': 13, 'b/x1.png': 20, 'b/x2.png': 21 };
    for (const part of ['premodel', 'test']) {
      for (const [name, grey] of Object.entries(files)) {
        await mkdir(path.join(dir, part, path.dirname(name)), { recursive: true });
        await writeFile(path.join(dir, part, name), await encodePng({ pixels: new Uint8Array(4).fill(grey), width: 2, height: 2, channels: 1 }));
      }
    }
    const { premodel } = await loadFolderSplits(dir, ['a', 'b'], 'image');
    const greys: number[] = [];
    for (let i = 0; i < premodel.labels.length; i++) greys.push(((await premodel.input(i)) as ImageInput).pixels()!.pixels[0]!);
    expect(premodel.labels).to.deep.equal([0, 1, 0, 0, 1, 0]);
    expect(greys).to.deep.equal([10, 20, 11, 12, 21, 13]);
  });
});
