/**
 * The HAPT raw recordings ("Smartphone-Based Recognition of Human Activities and Postural
 * Transitions", UCI, v2.1) cut into the windows that the `har` zoo is trained, profiled and
 * evaluated on. This is the one windowing implementation of the project: the Python recipe reads
 * what `scripts/export-har-windows.ts` writes from here, and the profiler imports it directly.
 *
 * Folder layout (the original's): `RawData/acc_expXX_userYY.txt` and `RawData/gyro_expXX_userYY.txt`
 * (space separated, 3 columns, one row a sample at 50 Hz, same rows in both) and `RawData/labels.txt`
 * (experiment, user, activity, start, end; samples 1-based and inclusive).
 *
 * Windows: 128 samples (2.56 s) with 50% overlap (stride 64), cut inside each labelled segment of
 * the 6 basic activities (ids 1-6); postural transitions (7-12) and unlabelled samples are skipped.
 * A window never crosses a segment boundary. Values are raw as recorded (total acceleration in g,
 * angular velocity in rad/s), no filtering: any filtering is the models' (inside their ONNX graph).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export const HAR_CLASSES = ['walking', 'upstairs', 'downstairs', 'sitting', 'standing', 'laying'] as const; // activity ids 1..6
export const HAR_CHANNELS = ['acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z'] as const;
export const WINDOW_LENGTH = 128;
export const SAMPLE_RATE_HZ = 50;
/** Samples between the starts of two consecutive windows of a segment (50% overlap). */
export const WINDOW_STRIDE = 64;

/** Each window: WINDOW_LENGTH * 6 values, time-major (index t*6 + c), raw units; labels 0..5. */
export interface WindowSet { windows: Float32Array[]; labels: number[]; users: number[] }
export interface HaptSplits { zoo: WindowSet; premodel: WindowSet; test: WindowSet }
export type HaptSplitName = keyof HaptSplits;

/**
 * Split by volunteer, never by window (docs/premodel.md): a wearer of the service is a person none of the splits saw.
 * - test: the usual UCI HAR test volunteers. The shared subset holds 2, 9, 10, 13 and 18 of them;
 *   4, 12, 20 and 24 are listed too so that a full download of the data set keeps them out of
 *   training (they are absent from the shared copy).
 * - zoo / premodel: the remaining 21 volunteers of the subset, sorted by id, every third one (the
 *   3rd, 6th, 9th, ...) to the premodel group and the others to the zoo group: a fixed rule chosen
 *   before any model was trained, never tuned on results, that spreads both groups over the whole
 *   range of recording sessions. 14 zoo volunteers, 7 premodel volunteers.
 */
export const HAPT_VOLUNTEERS = {
  zoo: [1, 3, 6, 7, 11, 14, 16, 17, 21, 22, 25, 26, 28, 29],
  premodel: [5, 8, 15, 19, 23, 27, 30],
  test: [2, 4, 9, 10, 12, 13, 18, 20, 24],
} as const satisfies Record<HaptSplitName, readonly number[]>;

/** The split a volunteer belongs to, or undefined for an id in none of the lists (not used). */
export function splitOfVolunteer(user: number): HaptSplitName | undefined {
  for (const name of ['zoo', 'premodel', 'test'] as const) {
    if ((HAPT_VOLUNTEERS[name] as readonly number[]).includes(user)) return name;
  }
  return undefined;
}

export class HaptFormatError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'HaptFormatError';
  }
}

interface Segment { exp: number; user: number; activity: number; start: number; end: number }

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new HaptFormatError(file, `missing ${what}`);
    throw new HaptFormatError(file, `cannot read ${what}: ${(err as Error).message}`);
  }
}

/** Rows of whitespace-separated numbers, each with exactly `columns` finite values. */
function parseRows(text: string, columns: number, file: string): number[][] {
  const rows: number[][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length !== columns) {
      throw new HaptFormatError(file, `line ${i + 1}: expected ${columns} columns, found ${fields.length}`);
    }
    const row = fields.map(Number);
    if (row.some((v) => !Number.isFinite(v))) {
      throw new HaptFormatError(file, `line ${i + 1}: not a number in "${line.slice(0, 80)}"`);
    }
    rows.push(row);
  }
  return rows;
}

/** A recording's 3-column samples as one Float32Array of rows * 3 values. */
function parseSignal(text: string, file: string): Float32Array {
  const rows = parseRows(text, 3, file);
  const out = new Float32Array(rows.length * 3);
  rows.forEach((r, i) => out.set(r, i * 3));
  return out;
}

function parseLabels(text: string, file: string): Segment[] {
  return parseRows(text, 5, file).map((row, i) => {
    const [exp, user, activity, start, end] = row as [number, number, number, number, number];
    if (![exp, user, activity, start, end].every(Number.isInteger) || start < 1 || end < start) {
      throw new HaptFormatError(file, `segment ${i + 1}: bad row "${row.join(' ')}"`);
    }
    return { exp, user, activity, start, end };
  });
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Cuts the windows of one recording's segment: starts at (start - 1) + k * WINDOW_STRIDE while the
 * window still ends inside the segment. Exported for the tests and for clients that cut their own.
 */
export function cutWindows(acc: Float32Array, gyro: Float32Array, start: number, end: number): Float32Array[] {
  const windows: Float32Array[] = [];
  for (let s = start - 1; s + WINDOW_LENGTH <= end; s += WINDOW_STRIDE) {
    const w = new Float32Array(WINDOW_LENGTH * 6);
    for (let t = 0; t < WINDOW_LENGTH; t++) {
      const src = (s + t) * 3;
      const dst = t * 6;
      w[dst] = acc[src]!;
      w[dst + 1] = acc[src + 1]!;
      w[dst + 2] = acc[src + 2]!;
      w[dst + 3] = gyro[src]!;
      w[dst + 4] = gyro[src + 1]!;
      w[dst + 5] = gyro[src + 2]!;
    }
    windows.push(w);
  }
  return windows;
}

function emptySet(): WindowSet {
  return { windows: [], labels: [], users: [] };
}

/**
 * Reads a HAPT folder (the one holding `RawData/`) and returns the windows of the three splits, in
 * the order of `labels.txt`. Throws HaptFormatError naming the file for a missing folder or file,
 * a malformed row, acc/gyro files of different lengths or a segment past a recording's end.
 */
export async function loadHaptSplits(dir: string): Promise<HaptSplits> {
  const raw = path.join(dir, 'RawData');
  try {
    if (!(await stat(raw)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new HaptFormatError(raw, 'missing HAPT RawData folder (expected RawData/labels.txt and acc_/gyro_ recordings)');
  }
  const labelsFile = path.join(raw, 'labels.txt');
  const segments = parseLabels(await readText(labelsFile, 'label file'), labelsFile);

  const splits: HaptSplits = { zoo: emptySet(), premodel: emptySet(), test: emptySet() };
  const recordings = new Map<string, { acc: Float32Array; gyro: Float32Array }>();
  for (const seg of segments) {
    if (seg.activity < 1 || seg.activity > HAR_CLASSES.length) continue; // postural transitions
    const split = splitOfVolunteer(seg.user);
    if (split === undefined) continue;
    const key = `exp${pad2(seg.exp)}_user${pad2(seg.user)}`;
    let rec = recordings.get(key);
    if (rec === undefined) {
      const accFile = path.join(raw, `acc_${key}.txt`);
      const gyroFile = path.join(raw, `gyro_${key}.txt`);
      const acc = parseSignal(await readText(accFile, 'accelerometer recording'), accFile);
      const gyro = parseSignal(await readText(gyroFile, 'gyroscope recording'), gyroFile);
      if (acc.length !== gyro.length) {
        throw new HaptFormatError(gyroFile, `${gyro.length / 3} rows, but ${path.basename(accFile)} has ${acc.length / 3}`);
      }
      rec = { acc, gyro };
      recordings.set(key, rec);
    }
    if (seg.end > rec.acc.length / 3) {
      throw new HaptFormatError(labelsFile, `segment ${seg.start}-${seg.end} of ${key} ends past its ${rec.acc.length / 3} samples`);
    }
    const set = splits[split];
    for (const w of cutWindows(rec.acc, rec.gyro, seg.start, seg.end)) {
      set.windows.push(w);
      set.labels.push(seg.activity - 1);
      set.users.push(seg.user);
    }
  }
  return splits;
}
