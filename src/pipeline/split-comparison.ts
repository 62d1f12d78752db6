/**
 * What a wearable maker weighs before splitting a model (BottleFit): per request, the bytes that
 * cross the network, the multiply-accumulates the device computes, the server's model time and
 * the accuracy on the test split, for the whole model run on the device, the head on the device
 * with a tail on the server, and the raw input sent to the service, measured side by side on the
 * same test rows.
 */
import type { TaskInputs } from '../inputs/kind.js';
import type { HeadEntry, ZooManifest } from '../zoo/manifest.js';
import type { LabelledInputs } from './datasets/splits.js';
import type { Evaluation } from './evaluate.js';

export interface SplitMode {
  mode: string;
  /** What goes over the network per request, and in which form; 0 bytes: only the answer (the whole model on the device). */
  sent: { form: string; bytes: number }[];
  /** Multiply-accumulates on the device per request; null where the recipe did not count them. */
  deviceMacs: number | null;
  /** The server's models per request: their mean cost on the test split, in ms. */
  serverMs: number;
  /** Accuracy on the test split. */
  accuracy: number;
}

export interface SplitComparison {
  task: string;
  head: string;
  parent: string;
  rows: number;
  bottleneck: { shape: number[]; bytes: number };
  /** The bottleneck's bytes against the raw input's float32 tensor: 1 - bottleneck / tensor. */
  smallerThanTensor: number;
  modes: SplitMode[];
}

/** The mean size of the task's raw inputs as clients send them (its kind's default form: a JSON window, a PNG upload), over `count` test rows. */
async function meanWireBytes(inputs: TaskInputs, test: LabelledInputs, count: number): Promise<{ form: string; bytes: number }> {
  const n = Math.min(count, test.labels.length);
  let total = 0;
  let form = '';
  for (let i = 0; i < n; i++) {
    const wire = await inputs.asWire(await test.input(Math.floor((i * test.labels.length) / n)));
    if (wire.form === 'json') {
      form = `v1 JSON (input.${wire.field})`;
      total += Buffer.byteLength(JSON.stringify({ input: { [wire.field]: wire.value } }));
    } else if (wire.form === 'upload') {
      form = `v1 upload (${wire.mediaType})`;
      total += wire.bytes.length;
    }
  }
  return { form, bytes: Math.round(total / n) };
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The comparison for `head` of the task `task`: `task` and `route` are the task's and the head's
 * (profiled) manifests; `raw` and `split` the evaluations of the task's premodel and of the
 * head's, on the same test rows; `inputs` and `test` the task's kind and test split, whose
 * inputs' sizes on the wire are measured.
 */
export async function compareSplit(options: {
  task: ZooManifest;
  route: ZooManifest;
  raw: Evaluation;
  split: Evaluation;
  inputs: TaskInputs;
  test: LabelledInputs;
  sampleRows?: number;
}): Promise<SplitComparison> {
  const { task, route, raw, split, inputs, test } = options;
  const head: HeadEntry = route.head!;
  const parent = task.models.find((m) => m.id === head.parent)!;
  const single = (e: Evaluation, model: string) => {
    const point = e.singles.find((p) => p.model === model);
    if (point === undefined) throw new Error(`the evaluation of ${e.task} has no single model ${model}`);
    return point;
  };
  const whole = single(raw, parent.id);
  const tensorBytes = product(parent.input.shape) * 4;
  const bottleneckBytes = product(head.bottleneck.shape);
  const wire = await meanWireBytes(inputs, test, options.sampleRows ?? 500);
  const base64Body = Buffer.byteLength(JSON.stringify({ input: { bottleneck: 'A'.repeat(Math.ceil(bottleneckBytes / 3) * 4), head: head.id } }));
  const bottleneckSent = [
    { form: 'raw uint8 (v2 binary tensor)', bytes: bottleneckBytes },
    { form: 'v1 JSON (base64)', bytes: base64Body },
  ];
  const rawSent = [wire, { form: 'raw float32 tensor', bytes: tensorBytes }];
  const tails = route.models.map((tail) => ({ tail, point: single(split, tail.id) }));
  return {
    task: task.task,
    head: head.id,
    parent: parent.id,
    rows: split.inputs,
    bottleneck: { shape: [...head.bottleneck.shape], bytes: bottleneckBytes },
    smallerThanTensor: 1 - bottleneckBytes / tensorBytes,
    modes: [
      { mode: `the whole model (${parent.id}) on the device`, sent: [{ form: 'the answer only', bytes: 0 }], deviceMacs: parent.macs ?? null, serverMs: 0, accuracy: whole.accuracy },
      ...tails.map(({ tail, point }) => ({
        mode: `split: head ${head.id} on the device, ${tail.id} on the server`,
        sent: bottleneckSent,
        deviceMacs: head.macs ?? null,
        serverMs: point.meanCostMs,
        accuracy: point.accuracy,
      })),
      {
        mode: 'split, the tails routed (no constraint)',
        sent: bottleneckSent,
        deviceMacs: head.macs ?? null,
        serverMs: split.premodelDefault.meanCostMs,
        accuracy: split.premodelDefault.accuracy,
      },
      { mode: `the raw input to the service, ${parent.id}`, sent: rawSent, deviceMacs: 0, serverMs: whole.meanCostMs, accuracy: whole.accuracy },
      {
        mode: 'the raw input to the service, routed (no constraint)',
        sent: rawSent,
        deviceMacs: 0,
        serverMs: raw.premodelDefault.meanCostMs,
        accuracy: raw.premodelDefault.accuracy,
      },
    ],
  };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export function comparisonMarkdown(c: SplitComparison): string {
  const bytes = (sent: SplitMode['sent']) => sent.map((s) => `${s.bytes.toLocaleString('en-US')} B ${s.form}`).join('; ');
  return `## Split computing: ${c.head} against the whole model and the raw input

Per request on the ${c.rows} test rows: the bottleneck (${c.bottleneck.shape.join(' x ')} uint8) is ${c.bottleneck.bytes.toLocaleString('en-US')} bytes,
**${pct(c.smallerThanTensor)} smaller** than the raw input's float32 tensor. Device MACs are the recipe's count; server time is the
models' mean profiled cost per request on this machine (a routed mode: as its premodel routes the test rows).

| mode | sent per request | device MACs | server models (ms) | test accuracy |
|---|---|---|---|---|
${c.modes.map((m) => `| ${m.mode} | ${bytes(m.sent)} | ${m.deviceMacs === null ? '-' : m.deviceMacs.toLocaleString('en-US')} | ${m.serverMs.toFixed(4)} | ${pct(m.accuracy)} |`).join('\n')}
`;
}
