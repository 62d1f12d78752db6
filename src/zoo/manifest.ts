/**
 * The zoo manifest: its TypeScript type, and `loadManifest`, which validates a task's
 * `manifest.json` once (schema, cross-references, files, sizes, sha256) and returns it frozen.
 * A broken manifest stops the load with every problem listed, each naming the model.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '../errors/index.js';
import { inputKind, preprocessingProblems, type Preprocessing } from '../inputs/registry.js';
import { compileSchema, deepFreeze, readJsonArtifact, type DeepReadonly, type FromSchema } from '../schema/index.js';
import { COMPRESSION_METHODS, manifestSchema } from './manifest-schema.js';

export type CompressionMethod = (typeof COMPRESSION_METHODS)[number];

/** A zoo manifest as its schema describes it, as tools write it. */
export type ManifestFile = FromSchema<typeof manifestSchema>;
/** A loaded manifest: frozen. */
export type ZooManifest = DeepReadonly<ManifestFile>;
export type ModelEntry = ZooManifest['models'][number];
/** The head of a split route's manifest (kind bottleneck): what the device runs before the tails. */
export type HeadEntry = NonNullable<ZooManifest['head']>;
export type ModelAccuracy = NonNullable<ModelEntry['accuracy']>;
export type ModelLatency = NonNullable<ModelEntry['latency']>;
export type { Preprocessing };

/**
 * A rung the ladders may climb: a model of the zoo on the input, or a model's test-time
 * augmentation (`<model>+<view>`): its answer averaged with its answer on a view of the input,
 * one more run of the model where it has already run.
 */
export interface RungSpec {
  id: string;
  model: string;
  view?: string;
}

/** Every rung of a zoo: its models, then each model's augmentations, in manifest order. */
export function rungsOf(manifest: ZooManifest): RungSpec[] {
  const plain = manifest.models.map((m) => ({ id: m.id, model: m.id }));
  const augmented = manifest.models.flatMap((m) => (m.testTimeAugmentation ?? []).map((view) => ({ id: `${m.id}+${view}`, model: m.id, view })));
  return [...plain, ...augmented];
}

export interface LoadedManifest {
  manifest: ZooManifest;
  /** Folder of the manifest; model files are resolved inside it. */
  dir: string;
  /** Hash of the models' ids and file hashes: what a premodel was trained against. */
  zooHash: string;
}

const schema = compileSchema<ZooManifest>(manifestSchema);

export const MANIFEST_FILE = 'manifest.json';

/** Problems that the schema cannot see: references between fields and models. */
export function crossCheck(manifest: ZooManifest): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const files = new Set<string>();
  for (const model of manifest.models) {
    const where = `model "${model.id}"`;
    if (ids.has(model.id)) problems.push(`${where} is listed twice`);
    ids.add(model.id);
    if (files.has(model.file)) problems.push(`${where}: file ${model.file} is used by another model`);
    files.add(model.file);
    if (JSON.stringify(model.output.labels) !== JSON.stringify(manifest.classes)) {
      problems.push(`${where}: output labels differ from the task's classes`);
    }
    const prep = model.input.preprocessing;
    if (prep.type !== manifest.kind) {
      problems.push(`${where}: ${prep.type} preprocessing in a task of kind ${manifest.kind}`);
    }
    problems.push(...preprocessingProblems(prep, model.input.shape).map((p) => `${where}: ${p}`));
    const views = inputKind(prep.type).views;
    for (const view of model.testTimeAugmentation ?? []) {
      if (!views.includes(view)) problems.push(`${where}: ${prep.type} inputs have no view "${view}" (views: ${views.join(', ') || 'none'})`);
    }
  }
  problems.push(...headProblems(manifest, files));
  for (const model of manifest.models) {
    const parent = model.compression.parent;
    if (parent !== null && !ids.has(parent)) {
      problems.push(`model "${model.id}": parent "${parent}" is not a model of this zoo`);
    }
    if (parent === model.id) problems.push(`model "${model.id}" is its own parent`);
  }
  return problems;
}

/**
 * A split route's head against its tails: a manifest of kind bottleneck has a head and one only
 * has; the head takes a raw kind and gives what every tail's bottleneck preprocessing takes.
 */
function headProblems(manifest: ZooManifest, files: ReadonlySet<string>): string[] {
  const head = manifest.head;
  const fromHead = inputKind(manifest.kind).fromHead;
  if (head === undefined) return fromHead ? [`a zoo of kind ${manifest.kind} needs its "head"`] : [];
  const where = `head "${head.id}"`;
  if (!fromHead) return [`${where}: only a zoo of tails (kind bottleneck) has a head, not one of kind ${manifest.kind}`];
  const problems: string[] = [];
  if (files.has(head.file)) problems.push(`${where}: file ${head.file} is used by a model`);
  const prep = head.input.preprocessing;
  if (inputKind(prep.type).fromHead) problems.push(`${where}: takes ${prep.type}s; a head takes the task's raw input`);
  problems.push(...preprocessingProblems(prep, head.input.shape).map((p) => `${where}: ${p}`));
  const { shape, scale, zeroPoint } = head.bottleneck;
  for (const model of manifest.models) {
    const tail = model.input.preprocessing;
    if (tail.type !== 'bottleneck') continue;
    const same = JSON.stringify(tail.shape) === JSON.stringify(shape) && tail.scale === scale && tail.zeroPoint === zeroPoint;
    if (!same) {
      problems.push(
        `model "${model.id}": takes a bottleneck [${tail.shape.join(', ')}] at scale ${tail.scale}, zero point ${tail.zeroPoint}; ` +
          `the head gives [${shape.join(', ')}] at scale ${scale}, zero point ${zeroPoint}`,
      );
    }
  }
  return problems;
}

/** An ONNX file the manifest lists: the model's or the head's, with the size and hash it declares. */
interface ListedFile {
  where: string;
  file: string;
  bytes: number;
  sha256: string;
}

/** Problems of the model (and head) files on disk: missing, size or sha256 different from the manifest. */
async function checkFiles(manifest: ZooManifest, dir: string): Promise<string[]> {
  const listed: ListedFile[] = [
    ...manifest.models.map((m) => ({ where: `model "${m.id}" (${m.file})`, file: m.file, bytes: m.bytes, sha256: m.sha256 })),
    ...(manifest.head === undefined ? [] : [{ where: `head "${manifest.head.id}" (${manifest.head.file})`, ...manifest.head }]),
  ];
  const problems = await Promise.all(
    listed.map(async (model): Promise<string[]> => {
      const file = path.join(dir, model.file);
      const where = model.where;
      try {
        const info = await stat(file);
        if (!info.isFile()) return [`${where}: not a regular file`];
        if (info.size !== model.bytes) {
          return [`${where}: file has ${info.size} bytes, the manifest says ${model.bytes} (file changed?)`];
        }
        const digest = createHash('sha256').update(await readFile(file)).digest('hex');
        if (digest !== model.sha256) {
          return [`${where}: sha256 is ${digest}, the manifest says ${model.sha256} (file changed?)`];
        }
        return [];
      } catch {
        return [`${where}: file is missing`];
      }
    }),
  );
  return problems.flat();
}

export function hashZoo(manifest: ZooManifest): string {
  const h = createHash('sha256');
  for (const m of [...manifest.models].sort((a, b) => a.id.localeCompare(b.id))) {
    h.update(`${m.id}\0${m.sha256}\n`);
  }
  return h.digest('hex');
}

/** Validates an already parsed manifest against the schema and itself (no file checks). */
export function manifestProblems(value: unknown): string[] {
  const problems = schema.problems(value);
  return problems.length > 0 || !schema.is(value) ? problems : crossCheck(value);
}

/** Reads, validates and freezes `<dir>/manifest.json`; throws ArtifactError with every problem. */
export async function loadManifest(dir: string): Promise<LoadedManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  const parsed = await readJsonArtifact(file);
  const problems = manifestProblems(parsed);
  if (problems.length > 0 || !schema.is(parsed)) throw new ArtifactError(file, problems);
  const fileProblems = await checkFiles(parsed, dir);
  if (fileProblems.length > 0) throw new ArtifactError(file, fileProblems);
  return { manifest: deepFreeze(parsed), dir, zooHash: hashZoo(parsed) };
}
