/** Copies a committed zoo into a temp folder so that a test can break it without harm. */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ManifestFile } from '../../src/zoo/manifest.js';

export interface ZooCopy {
  dir: string;
  manifest: ManifestFile;
  /** Writes `manifest` (after the test changed it) back into the copy. */
  save(): Promise<void>;
  remove(): Promise<void>;
}

export async function copyZoo(task: string, zooRoot = 'zoo'): Promise<ZooCopy> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-'));
  const dir = path.join(root, task);
  await cp(path.join(zooRoot, task), dir, { recursive: true, filter: (src) => !src.includes('outcomes') });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ManifestFile;
  return {
    dir,
    manifest,
    save: () => writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest)),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
