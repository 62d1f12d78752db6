/**
 * Predict requests as clients send them, for the bench and the soak: each test input as its task's
 * input kind puts it on the wire (an image as the raw bytes of a PNG file with the constraint in
 * the query string, a window as JSON). `sampleTestInputs` takes evenly spaced inputs of a task's
 * test split, so that the routed mix of models is the one the evaluation measures.
 */
import type { WireInput } from '../../src/inputs/kind.js';
import { taskInputs } from '../../src/inputs/registry.js';
import { loadSplits } from '../../src/pipeline/datasets/index.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import type { LoadRequest } from './load.js';
import path from 'node:path';

/** A request's input as it goes over the wire: a JSON field or a raw upload. */
export type BenchInput = Exclude<WireInput, { form: 'tensor' }>;

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
    if (input.form === 'upload') {
      const query = new URLSearchParams(Object.entries(parameters).map(([k, v]) => [k, String(v)])).toString();
      return { label, method: 'POST', path: query === '' ? path : `${path}?${query}`, headers: { 'content-type': input.mediaType }, body: Buffer.from(input.bytes) };
    }
    const body = { input: { [input.field]: input.value }, constraint, ...(model === undefined ? {} : { model }) };
    return { label, method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  });
}

/** `count` evenly spaced inputs of the test split of `task` (its data set read from `dir`, default its own), as clients send them. */
export async function sampleTestInputs(task: string, count: number, dir: string | undefined, zooDir = 'zoo'): Promise<BenchInput[]> {
  const { manifest } = await loadManifest(path.join(zooDir, task));
  const inputs = taskInputs(manifest);
  const { test } = await loadSplits(manifest, dir);
  const n = test.labels.length;
  const picked = Array.from({ length: Math.min(count, n) }, (_, i) => Math.floor((i * n) / count));
  const wires = await Promise.all(picked.map(async (i) => inputs.asWire(await test.input(i))));
  return wires.map((wire) => {
    if (wire.form === 'tensor') throw new Error(`the ${inputs.kind} kind puts a tensor on the wire; the bench sends v1 requests`);
    return wire;
  });
}
