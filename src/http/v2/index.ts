/**
 * The Open Inference Protocol (KServe / Triton "v2") REST adapter, as the specification
 * (kserve/open-inference-protocol, open_inference_rest.yaml) and Triton's and KServe's clients use
 * it: health, server and model metadata (unversioned and under `/versions/{version}`), model
 * readiness, inference, the repository index, statistics and model configuration.
 *
 * A v2 model name is a task ("fashion": the premodel picks the zoo model for each example, and the
 * response's `parameters.routing` says "premodel") or a zoo model ("fashion.f", or the bare id
 * where unique: "forced"), as DataPlane.resolve reads it; its one version is MODEL_VERSION.
 *
 * Inference takes one input: the preprocessed tensor as the task's first model (or the named
 * model) takes it, `[N, ...]` with a batch N of 1 to MAX_BATCH, in any numeric datatype of the
 * specification (converted to FP32); on an image task also BYTES `[N]`, each an encoded image (PNG,
 * JPEG, WebP; base64 in JSON, raw with the binary extension). The body is JSON, with or without a
 * Content-Type (Triton's client sends none), or the binary tensor data extension: the JSON header
 * of `Inference-Header-Content-Length` bytes, then the input's bytes. Outputs: "scores" (FP32
 * [N, K], class probabilities), "class_index" (INT64 [N]) and "label" (BYTES [N]), in JSON or, with
 * `binary_data_output` or an output's `binary_data`, as binary tensor data.
 *
 * Split computing: a task's head's bottleneck is sent to the task as a UINT8 input "bottleneck"
 * `[N, ...bottleneck shape]`, the head named in the request's `parameters.head` (or the input's);
 * the head's tails answer it, routed by their premodel. Only UINT8 is taken: codes are not numbers
 * to convert.
 */
import express, { type Request, type Response, type Router } from 'express';
import { BadRequestError, InvalidInputError, NotFoundError, UnsupportedMediaTypeError } from '../../errors/index.js';
import type { PreprocessingBase, WireInput } from '../../inputs/kind.js';
import type { Constraint } from '../../select/policy.js';
import type { DataPlane } from '../../serve/dataplane.js';
import type { Prediction } from '../../serve/request.js';
import type { ServedTask } from '../../serve/task.js';
import { admit, type AppContext } from '../context.js';
import { exchangeOf, leaseOf } from '../exchange.js';
import { validateInferBody, type InferBody } from '../schemas.js';
import { InferenceStats } from './stats.js';
import { bytesFromBinary, codesFromBinary, codesOf, DATATYPES, isNumeric, numbersFromBinary, numbersOf, outputBinary, stringsOf, type Datatype, type OutputTensor } from './tensors.js';

export const SERVER_NAME = 'adaptive-zoo';
/** Platform of a task (routed by the premodel) and of a zoo model (one ONNX graph). */
export const TASK_PLATFORM = 'adaptive-zoo';
export const MODEL_PLATFORM = 'onnxruntime_onnx';
/** The one version of every model: a new zoo is a new deployment, not a second version. */
export const MODEL_VERSION = '1';
/** Examples one request may carry: each is routed and run on its own. */
export const MAX_BATCH = 64;
/** What the server metadata says it speaks beyond the core protocol. */
const EXTENSIONS = ['binary_tensor_data', 'model_configuration', 'statistics'];

interface MetadataTensor<D extends string = 'FP32' | 'UINT8' | 'INT64' | 'BYTES'> {
  name: string;
  datatype: D;
  shape: number[];
}

interface Target {
  /** The name responses use: the task, or "task.model". */
  name: string;
  task: ServedTask;
  model?: string;
  /** The head whose tails answer, for a split route's bottleneck. */
  head?: string;
  platform: string;
  prep: PreprocessingBase;
  /** The input, its batch dimension -1. */
  input: MetadataTensor;
  outputs: MetadataTensor<OutputTensor['datatype']>[];
}

function targetOf(plane: DataPlane, name: string, version?: string): Target {
  const { task, model } = plane.resolve(name);
  if (version !== undefined && version !== MODEL_VERSION) {
    throw new NotFoundError(`model "${name}" has no version "${version}"; its version is "${MODEL_VERSION}"`);
  }
  const classes = task.zoo.manifest.classes.length;
  const entry = model?.entry;
  const prep = entry?.input.preprocessing ?? task.inputs.tensorPrep;
  const shape = entry?.input.shape ?? task.zoo.manifest.models.find((m) => m.input.preprocessing === prep)!.input.shape;
  return {
    name: model === undefined ? task.name : `${task.name}.${model.id}`,
    task,
    ...(model === undefined ? {} : { model: model.id }),
    platform: model === undefined ? TASK_PLATFORM : MODEL_PLATFORM,
    prep,
    input: { name: entry?.input.name ?? task.inputs.tensorName, datatype: 'FP32', shape: [-1, ...shape] },
    outputs: [
      { name: 'scores', datatype: 'FP32', shape: [-1, classes] },
      { name: 'class_index', datatype: 'INT64', shape: [-1] },
      { name: 'label', datatype: 'BYTES', shape: [-1] },
    ],
  };
}

/** The head a request names (its parameters', else its first input's), if any. */
function headOf(body: InferBody): string | undefined {
  const head = body.parameters?.head ?? body.inputs[0]?.parameters?.head;
  if (head === undefined) return undefined;
  if (typeof head !== 'string' || head === '') throw new BadRequestError('parameters.head names a head of the task (GET /v1/tasks/{task}/heads): a string');
  return head;
}

/** The target a bottleneck of `head` goes to: the task's head's tails, under the task's name, taking UINT8 codes. */
function headTarget(target: Target, head: string): Target {
  if (target.model !== undefined) throw new BadRequestError(`a head's bottleneck is sent to its task ("${target.task.name}"), not to the model "${target.name}"`);
  const tails = target.task.head(head);
  const prep = tails.inputs.tensorPrep;
  const shape = tails.zoo.manifest.models.find((m) => m.input.preprocessing === prep)!.input.shape;
  return { ...target, task: tails, head, prep, input: { name: tails.inputs.tensorName, datatype: 'UINT8', shape: [-1, ...shape] } };
}

const params = (req: Request) => ({ name: String(req.params.name), version: req.params.version === undefined ? undefined : String(req.params.version) });

/** The request's JSON header and the binary data after it (binary tensor data extension), or 415 / 400. */
function readInferRequest(req: Request): { body: InferBody; binary: Buffer } {
  if (req.headers['content-type'] !== undefined && !req.is(['application/json', 'application/octet-stream'])) {
    throw new UnsupportedMediaTypeError(`Content-Type "${req.headers['content-type']}" is not accepted; send application/json (or none), or application/octet-stream with Inference-Header-Content-Length`);
  }
  const buffer: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (buffer.length === 0) throw new BadRequestError('the request has no body; send the inference request as JSON');
  const header = req.headers['inference-header-content-length'];
  let json: Buffer = buffer;
  let binary: Buffer = Buffer.alloc(0);
  if (header !== undefined) {
    const length = /^\d+$/.test(String(header)) ? Number(header) : Number.NaN;
    if (!Number.isSafeInteger(length) || length > buffer.length) {
      throw new BadRequestError(`Inference-Header-Content-Length must be a byte count within the body's ${buffer.length} bytes, not "${String(header)}"`);
    }
    json = buffer.subarray(0, length);
    binary = buffer.subarray(length);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch {
    throw new BadRequestError(`the inference request is not JSON${header === undefined ? ' (binary data needs the Inference-Header-Content-Length header)' : ''}`);
  }
  return { body: validateInferBody(parsed), binary };
}

/** The examples of the request's one input, each as the task's input kind takes it over the wire. */
function examplesOf(target: Target, body: InferBody, binary: Buffer): WireInput[] {
  const tensor = body.inputs[0]!;
  if (body.inputs.length > 1) throw new BadRequestError(`model "${target.name}" has one input, "${target.input.name}"; the request gives ${body.inputs.map((i) => i.name).join(', ')}`);
  if (tensor.name !== target.input.name) {
    const heads = [...target.task.heads.keys()];
    const split = target.head === undefined && heads.length > 0 ? `; a head's bottleneck is named in parameters.head (heads: ${heads.join(', ')})` : '';
    throw new BadRequestError(`model "${target.name}" has one input, "${target.input.name}", not "${tensor.name}"${split}`);
  }
  const datatype = tensor.datatype as Datatype;
  if (!DATATYPES.includes(datatype)) {
    throw new BadRequestError(`datatype ${tensor.datatype} is not served; send ${DATATYPES.join(', ')} (numbers become the model's FP32)`);
  }
  const codes = target.task.inputs.tensorElement === 'uint8';
  if (codes && datatype !== 'UINT8') {
    throw new BadRequestError(`input "${tensor.name}" of head "${target.head}" is its uint8 bottleneck: send datatype UINT8 [${target.input.shape.map((d) => (d === -1 ? 'N' : d)).join(', ')}], not ${tensor.datatype}`);
  }
  const bytes = datatype === 'BYTES';
  // The kinds clients send encoded (an image as PNG, JPEG, WebP) take BYTES.
  const takesBytes = target.task.inputs.clientEncodings.length > 0;
  if (bytes && !takesBytes) throw new BadRequestError(`model "${target.name}" takes numbers; BYTES (encoded files) are for image tasks`);
  const expected = bytes ? [-1] : target.input.shape;
  const shape = tensor.shape;
  if (shape.length !== expected.length || shape.some((d, i) => i > 0 && d !== expected[i])) {
    throw new InvalidInputError(`input "${tensor.name}" has shape [${shape.join(', ')}]; model "${target.name}" takes [${expected.map((d) => (d === -1 ? 'N' : d)).join(', ')}]${takesBytes && !bytes ? ', or BYTES [N] of encoded images' : ''}`);
  }
  const batch = shape[0]!;
  if (batch < 1 || batch > MAX_BATCH) throw new InvalidInputError(`a batch of ${batch}: send 1 to ${MAX_BATCH} examples a request`);
  const size = binarySize(tensor);
  if (size !== undefined && tensor.data !== undefined) throw new BadRequestError(`input "${tensor.name}" gives both data and binary_data_size`);
  if (size === undefined && tensor.data === undefined) throw new BadRequestError(`input "${tensor.name}" has no data (nor parameters.binary_data_size)`);
  if (size !== undefined && size !== binary.length) {
    throw new BadRequestError(`input "${tensor.name}" says binary_data_size ${size}; the body holds ${binary.length} bytes after the JSON header`);
  }
  if (size === undefined && binary.length > 0) throw new BadRequestError(`the body has ${binary.length} bytes of binary data that no input claims (binary_data_size)`);
  if (!isNumeric(datatype)) {
    const field = target.task.inputs.jsonField;
    const values = size === undefined ? stringsOf(tensor.data!, batch) : bytesFromBinary(binary, batch).map((b) => Buffer.from(b).toString('base64'));
    return values.map((value) => ({ form: 'json', field, value }));
  }
  const perExample = expected.slice(1).reduce((a, b) => a * b, 1);
  const all = codes
    ? size === undefined ? codesOf(tensor.data!, shape) : codesFromBinary(binary, batch * perExample)
    : size === undefined ? numbersOf(tensor.data!, shape, datatype) : numbersFromBinary(binary, batch * perExample, datatype);
  return Array.from({ length: batch }, (_, i) => ({ form: 'tensor', data: all.subarray(i * perExample, (i + 1) * perExample), prep: target.prep }));
}

function binarySize(tensor: InferBody['inputs'][number]): number | undefined {
  const size = tensor.parameters?.binary_data_size;
  return typeof size === 'number' ? size : undefined;
}

function outputsOf(target: Target, predictions: readonly Prediction[], wanted: readonly string[]): OutputTensor[] {
  const n = predictions.length;
  const data = (name: string): (number | string)[] =>
    name === 'scores' ? predictions.flatMap((p) => p.scores) : name === 'class_index' ? predictions.map((p) => p.classIndex) : predictions.map((p) => p.label);
  return target.outputs
    .filter((o) => wanted.includes(o.name))
    .map((o) => ({ name: o.name, datatype: o.datatype, shape: [n, ...o.shape.slice(1)], data: data(o.name) }));
}

/** The selection and timings as response parameters: one example's as they are; a batch's joined (ids, models), combined (met: all; bound: the least) and summed (timings). */
function parametersOf(target: Target, predictions: readonly Prediction[]): Record<string, string | number | boolean> {
  const routing = target.model === undefined ? 'premodel' : 'forced';
  const head: Record<string, string> = target.head === undefined ? {} : { head: target.head };
  if (predictions.length === 1) {
    const [p] = predictions as [Prediction];
    return {
      routing,
      ...head,
      requestId: p.requestId,
      model: p.model,
      constraintMet: p.selection.constraintMet,
      predictedAccuracy: p.selection.predictedAccuracy,
      predictedLatencyMs: p.selection.predictedLatencyMs,
      reason: p.selection.reason,
      ...p.timing,
    };
  }
  const timing: Record<string, number> = {};
  for (const p of predictions) for (const [k, v] of Object.entries(p.timing)) timing[k] = (timing[k] ?? 0) + v;
  return {
    routing,
    ...head,
    batch: predictions.length,
    requestId: predictions.map((p) => p.requestId).join(','),
    model: predictions.map((p) => p.model).join(','),
    constraintMet: predictions.every((p) => p.selection.constraintMet),
    predictedAccuracy: Math.min(...predictions.map((p) => p.selection.predictedAccuracy)),
    predictedLatencyMs: Math.max(...predictions.map((p) => p.selection.predictedLatencyMs)),
    reason: predictions.map((p) => p.selection.reason).join(' | '),
    ...timing,
  };
}

/** The response: JSON, or the binary extension's JSON header then each binary output's bytes. */
function sendInferResponse(res: Response, head: Record<string, unknown>, outputs: readonly OutputTensor[], binary: (name: string) => boolean): void {
  const chunks: Buffer[] = [];
  const described = outputs.map(({ data, ...rest }) => {
    if (!binary(rest.name)) return { ...rest, data };
    const bytes = outputBinary({ ...rest, data });
    chunks.push(bytes);
    return { ...rest, parameters: { binary_data_size: bytes.length } };
  });
  const json = JSON.stringify({ ...head, outputs: described });
  if (chunks.length === 0) {
    res.type('application/json').send(json);
    return;
  }
  const header = Buffer.from(json, 'utf8');
  res.setHeader('Inference-Header-Content-Length', String(header.length));
  res.type('application/octet-stream').send(Buffer.concat([header, ...chunks]));
}

/** Triton's model configuration of a target. */
function configOf(target: Target): object {
  const type = (d: MetadataTensor['datatype']) => (d === 'BYTES' ? 'TYPE_STRING' : `TYPE_${d}`);
  return {
    name: target.name,
    platform: target.platform,
    backend: target.model === undefined ? 'adaptive-zoo' : 'onnxruntime',
    max_batch_size: MAX_BATCH,
    input: [{ name: target.input.name, data_type: type(target.input.datatype), dims: target.input.shape.slice(1) }],
    output: target.outputs.map((o) => ({ name: o.name, data_type: type(o.datatype), dims: o.shape.length > 1 ? o.shape.slice(1) : [1] })),
    parameters: { routing: { string_value: target.model === undefined ? 'premodel' : 'forced' } },
  };
}

export function v2Routes(ctx: AppContext): Router {
  const router = express.Router();
  const version = ctx.version;
  const stats = new InferenceStats(ctx.clock);
  const body = express.raw({ type: () => true, limit: ctx.config.maxBodyBytes });
  const at = (path: string) => [`/v2/models/:name${path}`, `/v2/models/:name/versions/:version${path}`];

  router.get(['/v2', '/v2/'], (_req, res) => {
    res.json({ name: SERVER_NAME, version, extensions: EXTENSIONS });
  });

  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });

  router.get('/v2/health/ready', (_req, res) => {
    const ready = ctx.service.ready;
    res.status(ready ? 200 : 503).json({ ready });
  });

  router.post('/v2/repository/index', (_req, res) => {
    const plane = ctx.service.plane;
    const names = plane.tasks.flatMap((t) => [t.name, ...t.zoo.models.map((m) => `${t.name}.${m.id}`)]);
    const state = ctx.service.ready ? 'READY' : 'UNAVAILABLE';
    res.json(names.map((name) => ({ name, version: MODEL_VERSION, state })));
  });

  router.get('/v2/models/stats', (_req, res) => {
    res.json(stats.report(undefined, MODEL_VERSION));
  });

  router.get(at(''), (req, res) => {
    const { name, version: v } = params(req);
    const target = targetOf(ctx.service.plane, name, v);
    res.json({ name: target.name, versions: [MODEL_VERSION], platform: target.platform, inputs: [target.input], outputs: target.outputs });
  });

  router.get(at('/ready'), (req, res) => {
    const { name, version: v } = params(req);
    const target = targetOf(ctx.service.plane, name, v);
    const ready = ctx.service.ready;
    res.status(ready ? 200 : 503).json({ name: target.name, ready });
  });

  router.get(at('/config'), (req, res) => {
    const { name, version: v } = params(req);
    res.json(configOf(targetOf(ctx.service.plane, name, v)));
  });

  router.get(at('/stats'), (req, res) => {
    const { name, version: v } = params(req);
    res.json(stats.report([targetOf(ctx.service.plane, name, v).name], MODEL_VERSION));
  });

  router.post(at('/infer'), admit(ctx, 'v2_infer'), body, async (req, res) => {
    const exchange = exchangeOf(res);
    const lease = leaseOf(res);
    const { name, version: v } = params(req);
    const named = targetOf(lease.plane, name, v);
    exchange.task = named.task.name;
    const started = stats.now();
    let target = named;
    try {
      const { body: request, binary } = readInferRequest(req);
      const head = headOf(request);
      if (head !== undefined) target = headTarget(named, head);
      const examples = examplesOf(target, request, binary);
      const wanted = request.outputs?.map((o) => o.name) ?? target.outputs.map((o) => o.name);
      const unknown = wanted.filter((n) => !target.outputs.some((o) => o.name === n));
      if (unknown.length > 0) {
        throw new BadRequestError(`model "${target.name}" has no output ${unknown.map((n) => `"${n}"`).join(', ')}; its outputs are ${target.outputs.map((o) => o.name).join(', ')}`);
      }
      const parameters = request.parameters ?? {};
      const constraint: Constraint = {
        ...(parameters.minAccuracy === undefined ? {} : { minAccuracy: parameters.minAccuracy }),
        ...(parameters.maxLatencyMs === undefined ? {} : { maxLatencyMs: parameters.maxLatencyMs }),
        ...(target.model === undefined ? {} : { model: target.model }),
      };
      // The examples go through the stages side by side: their runs of one model then meet in one
      // batch (serve/batcher.ts), where batching is on; off, each still runs to completion.
      const predictions: Prediction[] = await Promise.all(
        examples.map((wire) =>
          ctx.service.infer(lease, target.task, { wire, limits: { maxPixels: ctx.config.maxInputPixels }, constraint, readAtMs: exchange.readAtMs, waitedMs: exchange.waitedMs }),
        ),
      );
      exchange.model = [...new Set(predictions.map((p) => p.model))].join(',');
      const binaryOutput = (n: string) => parameters.binary_data_output === true || request.outputs?.find((o) => o.name === n)?.parameters?.binary_data === true;
      sendInferResponse(
        res,
        { model_name: target.name, model_version: MODEL_VERSION, ...(request.id === undefined ? {} : { id: String(request.id) }), parameters: parametersOf(target, predictions) },
        outputsOf(target, predictions, wanted),
        binaryOutput,
      );
      stats.record(target.name, stats.now() - started, predictions.length);
    } catch (err) {
      stats.record(target.name, stats.now() - started, 0);
      throw err;
    }
  });

  return router;
}
