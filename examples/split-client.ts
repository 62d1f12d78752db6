/**
 * npx tsx examples/split-client.ts --url http://127.0.0.1:8080 --task har --window examples/window.json
 *
 * The device side of split computing (BottleFit): fetch a task's heads, download the head (or take
 * a local copy) and check its sha256 against the listing, run it with onnxruntime-node on a raw
 * input (a window as v1 takes it, a JSON array of samples by channels in raw units; or an image
 * file), send the uint8 bottleneck instead of the input, and print the answer with the bytes sent
 * against those of the raw alternatives. The raw input is turned into the head's tensor by the
 * service's own input kinds (src/inputs), as its parent model is fed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { PreprocessingBase, WireInput } from '../src/inputs/kind.js';
import { inputKind } from '../src/inputs/registry.js';
import { parseCli, runMain, UsageError } from '../scripts/cli.js';

const command = {
  name: 'npx tsx examples/split-client.ts',
  summary: "Runs a task's head on a raw input as a device would, sends its uint8 bottleneck to the service, and prints the answer and the bytes saved.",
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080', placeholder: 'URL', help: 'the service' },
    task: { type: 'string', required: true, placeholder: 'TASK', help: 'a task with heads (GET /v1/tasks/{task}/heads)' },
    head: { type: 'string', placeholder: 'HEAD', help: "the head to run (default: the task's first served head)" },
    'head-file': { type: 'string', placeholder: 'FILE', help: "a local copy of the head's ONNX file instead of downloading it (its sha256 is checked all the same)" },
    window: { type: 'string', placeholder: 'FILE', help: 'a JSON window: an array of samples, each one number per channel, in raw units' },
    image: { type: 'string', placeholder: 'FILE', help: 'an image file (PNG, JPEG, WebP), for a task of images' },
    'min-accuracy': { type: 'number', min: 0, max: 1, help: 'the accuracy target' },
    'max-latency-ms': { type: 'number', min: 0, exclusiveMin: true, help: 'the latency budget, in ms' },
  },
} as const;

/** A head as GET /v1/tasks/{task}/heads lists it (the fields this client reads). */
interface Head {
  id: string;
  served: boolean;
  sha256: string;
  download: string;
  input: { name: string; shape: number[]; preprocessing: PreprocessingBase };
  bottleneck: { name: string; shape: number[] };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body: unknown = await res.json();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body as T;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const kb = (n: number) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`);

runMain(command.name, async () => {
  const options = parseCli(command);
  if ((options.window === undefined) === (options.image === undefined)) throw new UsageError('give one of --window FILE and --image FILE');
  const base = options.url.replace(/\/+$/, '');
  const { heads } = await getJson<{ heads: Head[] }>(`${base}/v1/tasks/${encodeURIComponent(options.task)}/heads`);
  const head = options.head === undefined ? heads.find((h) => h.served) : heads.find((h) => h.id === options.head);
  if (head === undefined) {
    throw new Error(`task "${options.task}" has ${options.head === undefined ? 'no served head' : `no head "${options.head}"`}; its heads: ${heads.map((h) => h.id).join(', ') || 'none'}`);
  }

  // The head, checked against the listing's sha256 whichever way it came.
  const graph = options['head-file'] !== undefined ? await readFile(options['head-file']) : new Uint8Array(await (await fetch(`${base}${head.download}`)).arrayBuffer());
  if (sha256(graph) !== head.sha256) throw new Error(`head "${head.id}": sha256 ${sha256(graph)} is not the listing's ${head.sha256}: refusing to run it`);

  // The raw input, as the service's kind of the head's input turns it into the parent model's tensor.
  const prep = head.input.preprocessing;
  const inputs = inputKind(prep.type).bind([prep]);
  const raw = await readFile((options.window ?? options.image)!);
  const wire: WireInput = options.window !== undefined ? { form: 'json', field: 'window', value: JSON.parse(raw.toString('utf8')) } : { form: 'upload', bytes: raw, mediaType: mediaTypeOf(raw) };
  const input = await inputs.decode(wire, { maxPixels: 1 << 24 });
  await inputs.prepare(input);
  const tensor = await inputs.modelTensor(input, prep);

  const session = await InferenceSession.create(graph);
  let codes: Uint8Array;
  try {
    const out = (await session.run({ [head.input.name]: new Tensor('float32', tensor, [1, ...head.input.shape]) }))[head.bottleneck.name];
    if (!(out?.data instanceof Uint8Array)) throw new Error(`head "${head.id}" did not give uint8 codes in "${head.bottleneck.name}"`);
    codes = out.data;
  } finally {
    await session.release();
  }

  const constraint = {
    ...(options['min-accuracy'] === undefined ? {} : { minAccuracy: options['min-accuracy'] }),
    ...(options['max-latency-ms'] === undefined ? {} : { maxLatencyMs: options['max-latency-ms'] }),
  };
  const body = JSON.stringify({ input: { bottleneck: Buffer.from(codes).toString('base64'), head: head.id }, constraint });
  const res = await fetch(`${base}/v1/tasks/${encodeURIComponent(options.task)}/predict`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  const answer = (await res.json()) as { label?: string; model?: string; selection?: { constraintMet: boolean; predictedAccuracy: number } };
  if (!res.ok) throw new Error(`POST predict: ${res.status} ${JSON.stringify(answer)}`);

  const alternatives =
    options.window !== undefined
      ? `JSON window ${kb(Buffer.byteLength(JSON.stringify({ input: { window: wire.form === 'json' ? wire.value : null } })))}, float32 window ${kb(tensor.length * 4)}`
      : `image file ${kb(raw.length)}, float32 tensor ${kb(tensor.length * 4)}`;
  console.log(`head ${head.id} of task ${options.task} (sha256 ${head.sha256.slice(0, 12)}... checked): bottleneck [${head.bottleneck.shape.join(', ')}] uint8`);
  console.log(`answer: ${answer.label} by ${answer.model}, constraintMet ${answer.selection?.constraintMet}, predictedAccuracy ${answer.selection?.predictedAccuracy}`);
  console.log(`sent: ${kb(codes.length)} of bottleneck (JSON body ${kb(Buffer.byteLength(body))}); raw alternatives: ${alternatives}`);
  console.log(JSON.stringify(answer));
});

/** The media type an image file's bytes are (its magic number). */
function mediaTypeOf(bytes: Uint8Array): string {
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return 'image/webp';
  throw new UsageError('--image must be a PNG, JPEG or WebP file');
}
