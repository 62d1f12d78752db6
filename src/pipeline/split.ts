/**
 * The rows of a split route (a head and its tails, zoo/<task>/heads/<head>/): the task's own rows
 * passed through the head as a device runs it (its raw input as the head's parent model takes it,
 * onnxruntime, batch 1), then the uint8 codes decoded by the bottleneck kind as the service
 * decodes a v1 request (base64 JSON). Profiling and premodel training of the tails read these, so
 * that their outcomes and features are those of the bottlenecks clients will send.
 */
import path from 'node:path';
import type { DecodeLimits } from '../inputs/kind.js';
import { taskInputs } from '../inputs/registry.js';
import { loadManifest, type HeadEntry } from '../zoo/manifest.js';
import { openOnnxEncoder, type SessionOptions } from '../zoo/onnx.js';
import type { EvaluationSplits, LabelledInputs } from './datasets/splits.js';

/** Bottlenecks are small; an image parent's rows come from a data set, never larger than this. */
const LIMITS: DecodeLimits = { maxPixels: 1 << 24 };

export interface SplitRows {
  head: HeadEntry;
  /** The task's splits as bottlenecks of the head. */
  splits: EvaluationSplits;
  /** Closes the head's session. */
  close(): void;
}

/**
 * The splits of the task in `taskDir` (its rows: `splits`) as the head in `headDir` gives them.
 * The head's checks against the task are the service's (zoo/repository.ts, loadHeads); here its
 * manifest is validated (file, hash) and its parent looked up.
 */
export async function splitRows(taskDir: string, headDir: string, splits: EvaluationSplits, options: SessionOptions): Promise<SplitRows> {
  const task = (await loadManifest(taskDir)).manifest;
  const route = (await loadManifest(headDir)).manifest;
  const head = route.head!;
  if (!task.models.some((m) => m.id === head.parent)) throw new Error(`head "${head.id}": parent "${head.parent}" is not a model of task "${task.task}"`);
  const raw = taskInputs(task);
  const bottleneck = taskInputs(route);
  const encoder = openOnnxEncoder(path.join(headDir, head.file), options);
  const through = (split: LabelledInputs): LabelledInputs => ({
    ...split,
    async input(i) {
      const input = await split.input(i);
      await raw.prepare(input);
      const codes = encoder.run(await raw.modelTensor(input, head.input.preprocessing), [1, ...head.input.shape]);
      const wire = { form: 'json', field: bottleneck.jsonField, value: Buffer.from(codes).toString('base64') } as const;
      const decoded = await bottleneck.decode(wire, LIMITS);
      await bottleneck.prepare(decoded);
      return decoded;
    },
  });
  return { head, splits: { premodel: through(splits.premodel), test: through(splits.test) }, close: () => encoder.dispose() };
}
