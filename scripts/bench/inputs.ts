/**
 * Predict requests as clients send them, for the bench and the soak: each test input as its task's
 * input kind puts it on the wire (an image as the raw bytes of a PNG file with the constraint in
 * the query string, a window as JSON). `sampleTestInputs` takes evenly spaced inputs of a task's
 * test split, so that the routed mix of models is the one the evaluation measures.
 */
import type { Input, TaskInputs, WireInput } from '../../src/inputs/kind.js';
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

/** How a client may send one task's inputs, by kind: the bench measures each form (a kind not listed, in its own default form). */
export type InputForm = 'as its kind sends it' | 'grey PNG upload' | 'client encodings, upload' | 'client encodings, JSON' | 'JSON window' | 'binary window';

export const INPUT_FORMS: Readonly<Record<string, readonly InputForm[]>> = Object.freeze({
  image: ['grey PNG upload', 'client encodings, upload', 'client encodings, JSON'],
  window: ['JSON window', 'binary window'],
});

/**
 * `count` evenly spaced test inputs of `task` in each of its kind's forms: the client encodings
 * cycle over the inputs, so that each form's mix of encodings is the family calibration measured.
 */
export async function sampleInputForms(task: string, count: number, dir: string | undefined, zooDir = 'zoo'): Promise<Map<InputForm, BenchInput[]>> {
  const { manifest } = await loadManifest(path.join(zooDir, task));
  const inputs = taskInputs(manifest);
  const { test } = await loadSplits(manifest, dir);
  const n = test.labels.length;
  const picked = await Promise.all(Array.from({ length: Math.min(count, n) }, (_, i) => test.input(Math.floor((i * n) / count))));
  const forms = new Map<InputForm, BenchInput[]>();
  for (const form of INPUT_FORMS[inputs.kind] ?? ['as its kind sends it']) {
    forms.set(form, await Promise.all(picked.map((input, i) => wireInForm(inputs, input, form, i))));
  }
  return forms;
}

/** The `index`-th input as a client of `form` sends it (client encodings taken in turn). */
export async function wireInForm(inputs: TaskInputs, input: Input, form: InputForm, index: number): Promise<BenchInput> {
  const encoding = inputs.clientEncodings[index % Math.max(1, inputs.clientEncodings.length)];
  switch (form) {
    case 'as its kind sends it':
    case 'grey PNG upload':
    case 'JSON window':
      return wireOf(await inputs.asWire(input));
    case 'client encodings, upload':
      return wireOf(await inputs.asWire(input, encoding));
    case 'client encodings, JSON': {
      const upload = wireOf(await inputs.asWire(input, encoding));
      if (upload.form !== 'upload') throw new Error(`${form}: the ${inputs.kind} kind sends no uploads`);
      return { form: 'json', field: inputs.jsonField, value: Buffer.from(upload.bytes).toString('base64') };
    }
    case 'binary window': {
      const json = wireOf(await inputs.asWire(input));
      if (json.form !== 'json' || !Array.isArray(json.value)) throw new Error(`${form}: the ${inputs.kind} kind sends no nested arrays`);
      const samples = Float32Array.from((json.value as number[][]).flat());
      return { form: 'upload', bytes: new Uint8Array(samples.buffer), mediaType: 'application/octet-stream' };
    }
  }
}

function wireOf(wire: WireInput): BenchInput {
  if (wire.form === 'tensor') throw new Error('the bench sends v1 requests, not tensors');
  return wire;
}

/** `count` evenly spaced inputs of the test split of `task` (its data set read from `dir`, default its own), as clients send them by default (its kind's first form). */
export async function sampleTestInputs(task: string, count: number, dir: string | undefined, zooDir = 'zoo'): Promise<BenchInput[]> {
  const forms = await sampleInputForms(task, count, dir, zooDir);
  return [...forms.values()][0]!;
}
