/**
 * Per-input outcomes of every zoo model on a split: what each model predicted and how sure it
 * was. Written by the profiler, read by premodel training and the offline evaluation, so that
 * neither has to run the zoo again.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '../errors/index.js';
import { compileSchema, readJsonArtifact, type FromSchema } from '../schema/index.js';
import { EVALUATION_SPLITS, type SplitName } from './datasets/index.js';

const numbers = { type: 'array', items: { type: 'number' } } as const;
const outcomeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['$comment', 'task', 'split', 'zooHash', 'labels', 'models'],
  properties: {
    $comment: { type: 'string' },
    task: { type: 'string' },
    split: { enum: EVALUATION_SPLITS },
    zooHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    labels: { type: 'array', items: { type: 'integer', minimum: 0 } },
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

export function outcomePath(zooDir: string, split: SplitName): string {
  return path.join(zooDir, 'outcomes', `${split}.json`);
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
  for (const [id, m] of Object.entries(parsed.models)) {
    const n = parsed.labels.length;
    if (m.predicted.length !== n || m.confidence.length !== n || m.margin.length !== n) {
      problems.push(`model "${id}" has outcomes for a different number of inputs than the ${n} labels`);
    }
  }
  if (problems.length > 0) throw new ArtifactError(file, problems);
  return parsed;
}
