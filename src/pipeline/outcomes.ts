/**
 * Per-row outcomes of every zoo model on a split: what each model predicted and how sure it was.
 * Written by the profiler, read by premodel training and the offline evaluation, so that neither
 * has to run the zoo again. Rows are the split's inputs as they are, or, for a kind that clients
 * encode (images), its inputs in client encodings (`rows`: which input, which encoding; pipeline/
 * client-rows.ts), each with the encoding group the decoder saw (`group`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '../errors/index.js';
import { compileSchema, readJsonArtifact, type FromSchema } from '../schema/index.js';
import { EVALUATION_SPLITS } from './datasets/splits.js';

const numbers = { type: 'array', items: { type: 'number' } } as const;
const indices = { type: 'array', items: { type: 'integer', minimum: 0 } } as const;
const names = { type: 'array', items: { type: 'string' } } as const;
const outcomeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['$comment', 'task', 'split', 'zooHash', 'labels', 'models'],
  properties: {
    $comment: { type: 'string' },
    task: { type: 'string' },
    /** `zoo`: the zoo's own training inputs, measured by cross-fitted models (pipeline/cross-fit.ts). */
    split: { enum: [...EVALUATION_SPLITS, 'zoo'] },
    zooHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    labels: indices,
    /** Client-encoded rows: per row, the index of the split's input and of its encoding in `encodings`. */
    rows: {
      type: 'object',
      additionalProperties: false,
      required: ['encodings', 'source', 'encoding'],
      properties: { encodings: names, source: indices, encoding: indices },
    },
    /** Per row, the index in `groups.names` of the encoding group the decoder saw. */
    groups: {
      type: 'object',
      additionalProperties: false,
      required: ['names', 'row'],
      properties: { names, row: indices },
    },
    models: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['predicted', 'confidence', 'margin'],
        properties: { predicted: numbers, confidence: numbers, margin: numbers },
      },
    },
  },
} as const;
/** A file of outcomes as the profiler writes it. */
export type OutcomeFile = FromSchema<typeof outcomeSchema>;
/** One model's outcomes: predicted class index, top-1 probability and its margin over the runner-up, per input. */
export type ModelOutcomes = OutcomeFile['models'][string];

const validator = compileSchema<OutcomeFile>(outcomeSchema);

/** `<zoo>/outcomes/<name>.json`: premodel, test, test-client (pipeline/profile.ts); cross-fit (pipeline/cross-fit.ts). */
export function outcomePath(zooDir: string, name: 'premodel' | 'test' | 'test-client' | 'cross-fit'): string {
  return path.join(zooDir, 'outcomes', `${name}.json`);
}

export async function writeOutcomes(file: string, outcomes: OutcomeFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const compact: OutcomeFile = {
    ...outcomes,
    models: Object.fromEntries(
      Object.entries(outcomes.models).map(([id, m]) => [
        id,
        { predicted: m.predicted, confidence: m.confidence.map(round), margin: m.margin.map(round) },
      ]),
    ),
  };
  await writeFile(file, `${JSON.stringify(compact)}\n`);
}

/** Reads an outcome file; refuses one profiled against another zoo or with ragged arrays. */
export async function readOutcomes(file: string, zooHash: string): Promise<OutcomeFile> {
  const parsed = await readJsonArtifact(file);
  const problems = validator.problems(parsed);
  if (problems.length > 0 || !validator.is(parsed)) throw new ArtifactError(file, problems);
  if (parsed.zooHash !== zooHash) {
    problems.push('was profiled against another zoo (zooHash differs): run `npm run profile` again');
  }
  const n = parsed.labels.length;
  const rows = parsed.rows;
  if (rows !== undefined && (rows.source.length !== n || rows.encoding.length !== n || rows.encoding.some((e) => e >= rows.encodings.length))) {
    problems.push(`its rows do not match the ${n} labels and ${rows.encodings.length} encodings`);
  }
  const groups = parsed.groups;
  if (groups !== undefined && (groups.row.length !== n || groups.row.some((g) => g >= groups.names.length))) {
    problems.push(`its groups do not match the ${n} labels`);
  }
  for (const [id, m] of Object.entries(parsed.models)) {
    if (m.predicted.length !== n || m.confidence.length !== n || m.margin.length !== n) {
      problems.push(`model "${id}" has outcomes for a different number of inputs than the ${n} labels`);
    }
  }
  if (problems.length > 0) throw new ArtifactError(file, problems);
  return parsed;
}

/** The encoding group of each row (undefined: the kind has none). */
export function rowGroups(outcomes: OutcomeFile): string[] | undefined {
  const groups = outcomes.groups;
  return groups === undefined ? undefined : groups.row.map((g) => groups.names[g]!);
}

/** The client encoding of each row (undefined: rows are the inputs as they are). */
export function rowEncodings(outcomes: OutcomeFile): string[] | undefined {
  const rows = outcomes.rows;
  return rows === undefined ? undefined : rows.encoding.map((e) => rows.encodings[e]!);
}

/** `rows` by the key of each (`keyOf`), keys in order of first appearance, rows in their order. */
export function rowsByKey<K>(rows: Iterable<number>, keyOf: (row: number) => K): Map<K, number[]> {
  const byKey = new Map<K, number[]>();
  for (const i of rows) {
    const key = keyOf(i);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [i]);
    else list.push(i);
  }
  return byKey;
}

/** Names to their indices in order of first appearance: how `rows` and `groups` are stored. */
export function indexed(values: readonly string[]): { names: string[]; row: number[] } {
  const names: string[] = [];
  const at = new Map<string, number>();
  const row = values.map((v) => {
    let i = at.get(v);
    if (i === undefined) at.set(v, (i = names.push(v) - 1));
    return i;
  });
  return { names, row };
}
