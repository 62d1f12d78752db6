/**
 * A labelled data set as a team brings it with its own zoo (`npm run add-task`), in two parts,
 * premodel and test:
 * - images in a folder per class: `<dir>/<part>/<class>/*.png|jpg|jpeg|webp`, any size, grey or colour;
 * - windows as JSON Lines, `<dir>/<part>.jsonl`, one `{"window": [[...], ...], "label": "<class>",
 *   "group": "<subject or session>"}` a line (samples by channels, raw units; `group` optional,
 *   keeping one person's windows in one calibration fold).
 * Scanning checks every file and line before any long work, and names each problem (file, line);
 * images are then read from disk when profiling asks for them, windows are held in memory.
 */
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { decodeImageFile, imageFileHeader, ImageInput } from '../../inputs/image/decode.js';
import { progress } from '../progress.js';
import { WindowInput } from '../../inputs/window/decode.js';
import { EVALUATION_SPLITS, type EvaluationSplits, type LabelledInputs, type SplitName } from './splits.js';

/** What a scan of one format found: a part per split, a first example, and every problem. */
export interface ScannedData {
  format: FolderFormat;
  parts: Record<SplitName, LabelledInputs>;
  /** The size of the first premodel input: an image's width and height, a window's samples and channels. */
  sample: { width: number; height: number } | { length: number; channels: number };
  problems: string[];
}

export type FolderFormat = 'image' | 'window';

const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp']);
/** Problems listed per part before the rest are counted: a wrong folder should not print 10,000 lines. */
const PROBLEMS_SHOWN = 8;

function limited(problems: string[], where: string): string[] {
  return problems.length <= PROBLEMS_SHOWN ? problems : [...problems.slice(0, PROBLEMS_SHOWN), `${where}: and ${problems.length - PROBLEMS_SHOWN} more problems like these`];
}

/** Which layout `dir` holds: folders of images or JSON Lines of windows; undefined for neither or both. */
export function folderFormatOf(dir: string): FolderFormat | undefined {
  const images = EVALUATION_SPLITS.some((part) => existsSync(path.join(dir, part)));
  const windows = EVALUATION_SPLITS.some((part) => existsSync(path.join(dir, `${part}.jsonl`)));
  return images === windows ? undefined : images ? 'image' : 'window';
}

/**
 * The folder of a class: its name, with what a file name cannot hold ("/", "\\", ":" and the
 * like) as "_" ("T-shirt/top" is the folder T-shirt_top).
 */
export function classFolder(label: string): string {
  return label.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_');
}

/** Names in natural order: img2 before img10. */
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

interface ImageFile {
  file: string;
  label: number;
}

async function scanImagePart(dir: string, part: SplitName, classes: readonly string[]): Promise<{ files: ImageFile[]; problems: string[] }> {
  const root = path.join(dir, part);
  const problems: string[] = [];
  const files: ImageFile[] = [];
  if (!existsSync(root) || !(await stat(root)).isDirectory()) return { files, problems: [`${root}/ is missing: images go in ${root}/<class>/*.png`] };
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name))) {
    if (entry.name.startsWith('.')) continue;
    if (!entry.isDirectory()) {
      problems.push(`${path.join(root, entry.name)} is not in a class folder (${root}/<class>/)`);
      continue;
    }
    const label = classes.findIndex((c) => c === entry.name || classFolder(c) === entry.name);
    if (label < 0) {
      problems.push(`${path.join(root, entry.name)}/: "${entry.name}" is not a class of labels.txt (${classes.map(classFolder).join(', ')})`);
      continue;
    }
    for (const name of (await readdir(path.join(root, entry.name))).sort(byName)) {
      if (name.startsWith('.')) continue;
      const file = path.join(root, entry.name, name);
      if (!IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase())) problems.push(`${file} is not a PNG, JPEG or WebP file (${[...IMAGE_EXTENSIONS].join(', ')})`);
      else files.push({ file, label });
    }
  }
  if (files.length === 0 && problems.length === 0) problems.push(`${root}/ holds no images: the ${part} part is empty`);
  // Rows in the order calibration splits them into halves to measure its margin (the spread between
  // two samples): class by class, the classes' files would make the halves differ in their classes.
  // Interleaved, each half holds the first or the second half of every class, in name order.
  interleaveByClass(files);
  // Headers only (format, size): a file that is not an image is named now, not an hour into profiling.
  const bar = progress(`checking ${part} images`, files.length);
  for (const { file } of files) {
    const header = await imageFileHeader(await readFile(file));
    if (header === undefined) problems.push(`${file} cannot be decoded as an image`);
    else if (header.format !== 'png' && header.format !== 'jpeg' && header.format !== 'webp') problems.push(`${file} is ${header.format}, not PNG, JPEG or WebP`);
    bar.tick();
  }
  bar.stop();
  return { files, problems: limited(problems, root) };
}

/**
 * Orders `files` (grouped by class, each class in name order) by their relative rank within their
 * class (rank / class size, so that classes of different sizes line up), then by class.
 */
function interleaveByClass(files: ImageFile[]): void {
  const sizes = new Map<number, number>();
  for (const f of files) sizes.set(f.label, (sizes.get(f.label) ?? 0) + 1);
  const seen = new Map<number, number>();
  const keyed = files.map((f) => {
    const rank = seen.get(f.label) ?? 0;
    seen.set(f.label, rank + 1);
    return { f, at: rank / sizes.get(f.label)! };
  });
  keyed.sort((a, b) => a.at - b.at || a.f.label - b.f.label);
  files.splice(0, files.length, ...keyed.map((k) => k.f));
}

async function scanImages(dir: string, classes: readonly string[]): Promise<ScannedData> {
  const scanned = await Promise.all(EVALUATION_SPLITS.map((part) => scanImagePart(dir, part, classes)));
  const problems = scanned.flatMap((s) => s.problems);
  const parts = Object.fromEntries(
    EVALUATION_SPLITS.map((part, i) => {
      const files = scanned[i]!.files;
      const inputs: LabelledInputs = {
        labels: files.map((f) => f.label),
        input: async (index) => ImageInput.fromRaw(await decodeImageFile(await readFile(files[index]!.file))),
      };
      return [part, inputs];
    }),
  ) as Record<SplitName, LabelledInputs>;
  const first = scanned[0]!.files[0];
  const header = problems.length > 0 || first === undefined ? undefined : await imageFileHeader(await readFile(first.file));
  return { format: 'image', parts, sample: { width: header?.width ?? 0, height: header?.height ?? 0 }, problems };
}

interface WindowPart {
  windows: Float32Array[];
  labels: number[];
  groups: (string | undefined)[];
  shape: { length: number; channels: number } | undefined;
}

/** One line's problem, or its window (time-major) and label. */
function parseWindowLine(text: string, classes: readonly string[], shape: WindowPart['shape']): string | { window: Float32Array; label: number; group: string | undefined; length: number; channels: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not an object {"window": ..., "label": ...}';
  const { window, label, group, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `has an unknown field "${unknown[0]}" (fields: window, label, group)`;
  if (typeof label !== 'string' || !classes.includes(label)) return `label ${JSON.stringify(label)} is not a class of labels.txt (${classes.join(', ')})`;
  if (group !== undefined && typeof group !== 'string' && typeof group !== 'number') return 'group must be a string or a number';
  if (!Array.isArray(window) || window.length === 0 || !Array.isArray(window[0]) || window[0].length === 0) return 'window must be a non-empty array of samples, each an array of channel values';
  const length = window.length;
  const channels = (window[0] as unknown[]).length;
  if (shape !== undefined && (length !== shape.length || channels !== shape.channels)) {
    return `window is ${length} samples x ${channels} channels; the first line's is ${shape.length} x ${shape.channels}`;
  }
  const samples = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    const sample = window[t] as unknown;
    if (!Array.isArray(sample) || sample.length !== channels) return `window sample ${t} does not have ${channels} values`;
    for (let c = 0; c < channels; c++) {
      const v = sample[c] as unknown;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `window sample ${t}, channel ${c} is not a finite number`;
      samples[t * channels + c] = v;
    }
  }
  return { window: samples, label: classes.indexOf(label), group: group === undefined ? undefined : String(group), length, channels };
}

async function scanWindowPart(dir: string, part: SplitName, classes: readonly string[]): Promise<{ part: WindowPart; problems: string[] }> {
  const file = path.join(dir, `${part}.jsonl`);
  const found: WindowPart = { windows: [], labels: [], groups: [], shape: undefined };
  if (!existsSync(file)) return { part: found, problems: [`${file} is missing: windows go in ${file}, one {"window": [[...], ...], "label": "..."} a line`] };
  const problems: string[] = [];
  let line = 0;
  for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    const parsed = parseWindowLine(text, classes, found.shape);
    if (typeof parsed === 'string') {
      problems.push(`${file}:${line}: ${parsed}`);
      continue;
    }
    found.shape ??= { length: parsed.length, channels: parsed.channels };
    found.windows.push(parsed.window);
    found.labels.push(parsed.label);
    found.groups.push(parsed.group);
  }
  if (found.windows.length === 0 && problems.length === 0) problems.push(`${file} holds no windows: the ${part} part is empty`);
  const grouped = found.groups.filter((g) => g !== undefined).length;
  if (grouped > 0 && grouped < found.groups.length) problems.push(`${file}: ${found.groups.length - grouped} windows have no group while ${grouped} have one: give every window a group, or none`);
  if (part === 'premodel' && grouped > 0 && new Set(found.groups).size < 2) problems.push(`${file}: every window is of one group; calibration folds need windows of at least 2 groups`);
  return { part: found, problems: limited(problems, file) };
}

async function scanWindows(dir: string, classes: readonly string[]): Promise<ScannedData> {
  const scanned = await Promise.all(EVALUATION_SPLITS.map((part) => scanWindowPart(dir, part, classes)));
  const problems = scanned.flatMap((s) => s.problems);
  const [premodel, test] = scanned.map((s) => s.part) as [WindowPart, WindowPart];
  if (premodel.shape !== undefined && test.shape !== undefined && (premodel.shape.length !== test.shape.length || premodel.shape.channels !== test.shape.channels)) {
    problems.push(`test windows are ${test.shape.length} x ${test.shape.channels}, premodel windows ${premodel.shape.length} x ${premodel.shape.channels}`);
  }
  const inputsOf = (part: WindowPart): LabelledInputs => {
    const names = [...new Set(part.groups.filter((g) => g !== undefined))];
    return {
      labels: part.labels,
      ...(names.length === 0 ? {} : { groups: part.groups.map((g) => names.indexOf(g!)) }),
      input: (index) => new WindowInput(part.windows[index]!),
    };
  };
  return { format: 'window', parts: { premodel: inputsOf(premodel), test: inputsOf(test) }, sample: premodel.shape ?? { length: 0, channels: 0 }, problems };
}

/** Scans `dir` for the classes of `labels.txt`: the parts, a sample, and every problem found. */
export async function scanFolderData(dir: string, classes: readonly string[]): Promise<ScannedData | { format: undefined; problems: string[] }> {
  if (!existsSync(dir)) return { format: undefined, problems: [`the data folder ${dir} does not exist`] };
  const format = folderFormatOf(dir);
  if (format === undefined) {
    return {
      format: undefined,
      problems: [`${dir} must hold either premodel/ and test/ (folders of images, one per class) or premodel.jsonl and test.jsonl (windows), not ${EVALUATION_SPLITS.some((p) => existsSync(path.join(dir, p))) ? 'both' : 'neither'}`],
    };
  }
  return format === 'image' ? scanImages(dir, classes) : scanWindows(dir, classes);
}

/** The splits of a folder data set; an Error listing every problem when it has any. */
export async function loadFolderSplits(dir: string, classes: readonly string[], kind: string): Promise<EvaluationSplits> {
  const scanned = await scanFolderData(dir, classes);
  if (scanned.format === undefined || scanned.problems.length > 0 || scanned.format !== kind) {
    const problems = scanned.format !== undefined && scanned.format !== kind ? [`${dir} holds ${scanned.format}s; the task takes ${kind}s`] : scanned.problems;
    throw new Error(`the data in ${dir} cannot be read:\n  ${problems.join('\n  ')}`);
  }
  return scanned.parts;
}
