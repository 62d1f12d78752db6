/**
 * Predict requests as clients send them, for the bench and the soak: an image as the raw bytes of
 * a PNG file with the constraint in the query string, a window as JSON. `sampleTestInputs` takes
 * evenly spaced inputs of a shipped task's test split (images encoded here as 8-bit greyscale
 * PNG), so that the routed mix of models is the one the evaluation measures.
 */
import { encodePng } from '../inputs/image.js';
import { loadFashionSplits } from '../pipeline/datasets/fashion.js';
import { loadHaptSplits } from '../pipeline/datasets/hapt.js';
import type { LoadRequest } from './load.js';

export type BenchInput = { kind: 'image'; png: Buffer } | { kind: 'window'; window: number[][] };

export interface PredictParameters {
  minAccuracy?: number;
  maxLatencyMs?: number;
  model?: string;
}

/** One request per input, each labelled `label`, to POST /v1/tasks/{task}/predict. */
export function predictRequests(task: string, inputs: readonly BenchInput[], label: string, parameters: PredictParameters = {}): LoadRequest[] {
  const path = `/v1/tasks/${encodeURIComponent(task)}/predict`;
  const { model, ...constraint } = parameters;
  return inputs.map((input) => {
    if (input.kind === 'image') {
      const query = new URLSearchParams(Object.entries(parameters).map(([k, v]) => [k, String(v)])).toString();
      return { label, method: 'POST', path: query === '' ? path : `${path}?${query}`, headers: { 'content-type': 'image/png' }, body: input.png };
    }
    const body = { input: { window: input.window }, constraint, ...(model === undefined ? {} : { model }) };
    return { label, method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  });
}

/** `count` evenly spaced inputs of the test split of `task` (fashion or har) from its data in `dir`. */
export async function sampleTestInputs(task: string, count: number, dir: string): Promise<BenchInput[]> {
  const every = <T>(items: readonly T[]) => Array.from({ length: Math.min(count, items.length) }, (_, i) => items[Math.floor((i * items.length) / count)]!);
  switch (task) {
    case 'fashion':
      return Promise.all(every((await loadFashionSplits(dir)).test.images).map(async (image) => ({ kind: 'image' as const, png: await encodePng(image) })));
    case 'har':
      return every((await loadHaptSplits(dir)).test.windows).map((window) => ({ kind: 'window', window: windowRows(window, 6) }));
    default:
      throw new Error(`the bench has inputs for fashion and har, not "${task}"`);
  }
}

/** A flat window (samples x channels, row-major) as the nested array a client sends. */
export function windowRows(window: Float32Array, channels: number): number[][] {
  return Array.from({ length: window.length / channels }, (_, t) => Array.from(window.subarray(t * channels, (t + 1) * channels)));
}
