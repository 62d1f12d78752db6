/**
 * The Open Inference Protocol (KServe / Triton "v2") REST adapter, the subset this service needs:
 * health, server and model metadata, model readiness, and inference on FP32 tensors. A v2 model
 * name is a task ("fashion": the premodel chooses the zoo model) or a zoo model ("fashion.f", or
 * the bare id where unique), as DataPlane.resolve reads it. The input is the preprocessed tensor
 * with a batch of 1, as the task's first model (or the named model) takes it: an image task
 * [1, C, H, W], a window task [1, length, channels]; the task's input kind decodes it.
 * Outputs: "scores" (FP32 [1, K], class probabilities), "class_index" (INT64 [1]) and "label"
 * (BYTES [1]); the selection and timings come back as response parameters.
 */
import express, { type Router } from 'express';
import { BadRequestError, InvalidInputError } from '../errors/index.js';
import type { PreprocessingBase } from '../inputs/kind.js';
import type { Constraint } from '../select/policy.js';
import type { DataPlane } from '../serve/dataplane.js';
import type { Prediction } from '../serve/request.js';
import type { ServedTask } from '../serve/task.js';
import { admit, jsonOnly, type AppContext } from './context.js';
import { exchangeOf, leaseOf } from './exchange.js';
import { validateInferBody } from './schemas.js';

export const SERVER_NAME = 'adaptive-zoo';
/** Platform of a task (routed by the premodel) and of a zoo model (one ONNX graph). */
export const TASK_PLATFORM = 'adaptive-zoo';
export const MODEL_PLATFORM = 'onnxruntime_onnx';

interface MetadataTensor {
  name: string;
  datatype: 'FP32' | 'INT64' | 'BYTES';
  shape: number[];
}

interface Target {
  /** The name responses use: the task, or "task.model". */
  name: string;
  task: ServedTask;
  model?: string;
  platform: string;
  prep: PreprocessingBase;
  input: MetadataTensor;
  outputs: MetadataTensor[];
}

function targetOf(plane: DataPlane, name: string): Target {
  const { task, model } = plane.resolve(name);
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
    input: { name: entry?.input.name ?? task.inputs.tensorName, datatype: 'FP32', shape: [1, ...shape] },
    outputs: [
      { name: 'scores', datatype: 'FP32', shape: [1, classes] },
      { name: 'class_index', datatype: 'INT64', shape: [1] },
      { name: 'label', datatype: 'BYTES', shape: [1] },
    ],
  };
}

/** A value of a request, named for an error message, without echoing a structure of any size. */
function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value)?.slice(0, 40) ?? typeof value;
}

/**
 * Row-major values of `data`, flat or nested no deeper than `shape` (so that a deeply nested body
 * is refused before it can exhaust the stack); BadRequestError for anything but numbers.
 * Non-finite numbers pass: the input kind's own checks name the sample or pixel.
 */
export function flattenTensorData(data: readonly unknown[], shape: readonly number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'number') {
      if (n < size) out[n] = value;
      n++;
    } else if (Array.isArray(value)) {
      if (depth === shape.length) {
        throw new BadRequestError(`tensor data is nested deeper than its shape [${shape.join(', ')}]`);
      }
      for (const v of value) walk(v, depth + 1);
    } else {
      throw new BadRequestError(`tensor data must hold numbers only (FP32), found ${kindOf(value)}`);
    }
  };
  walk(data, 0);
  if (n !== size) throw new InvalidInputError(`the tensor holds ${n} values; its shape needs ${size}`);
  return out;
}

function outputData(prediction: Prediction, name: string): (number | string)[] {
  switch (name) {
    case 'scores':
      return prediction.scores;
    case 'class_index':
      return [prediction.classIndex];
    default:
      return [prediction.label];
  }
}

export function v2Routes(ctx: AppContext): Router {
  const router = express.Router();
  const version = ctx.version;

  router.get('/v2', (_req, res) => {
    res.json({ name: SERVER_NAME, version, extensions: [] });
  });

  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });

  router.get('/v2/health/ready', (_req, res) => {
    const ready = ctx.service.ready;
    res.status(ready ? 200 : 503).json({ ready });
  });

  router.get('/v2/models/:name', (req, res) => {
    const target = targetOf(ctx.service.plane, req.params.name);
    res.json({ name: target.name, platform: target.platform, inputs: [target.input], outputs: target.outputs });
  });

  router.get('/v2/models/:name/ready', (req, res) => {
    const target = targetOf(ctx.service.plane, req.params.name);
    const ready = ctx.service.ready;
    res.status(ready ? 200 : 503).json({ name: target.name, ready });
  });

  router.post('/v2/models/:name/infer', admit(ctx, 'v2_infer'), jsonOnly(ctx), async (req, res) => {
    const exchange = exchangeOf(res);
    const lease = leaseOf(res);
    const target = targetOf(lease.plane, String(req.params.name));
    exchange.task = target.task.name;
    const body = validateInferBody(req.body);
    const tensor = body.inputs[0]!;
    if (tensor.name !== target.input.name) {
      throw new BadRequestError(`model "${target.name}" has one input, "${target.input.name}", not "${tensor.name}"`);
    }
    const expected = target.input.shape;
    if (tensor.shape.length !== expected.length || tensor.shape.some((d, i) => d !== expected[i])) {
      throw new InvalidInputError(
        `input "${tensor.name}" has shape [${tensor.shape.join(', ')}]; model "${target.name}" takes [${expected.join(', ')}]`,
      );
    }
    const wanted = body.outputs?.map((o) => o.name) ?? target.outputs.map((o) => o.name);
    const unknown = wanted.filter((n) => !target.outputs.some((o) => o.name === n));
    if (unknown.length > 0) {
      throw new BadRequestError(
        `model "${target.name}" has no output ${unknown.map((n) => `"${n}"`).join(', ')}; its outputs are ${target.outputs.map((o) => o.name).join(', ')}`,
      );
    }
    const data = flattenTensorData(tensor.data, expected);
    const parameters = body.parameters ?? {};
    const constraint: Constraint = {
      ...(parameters.minAccuracy === undefined ? {} : { minAccuracy: parameters.minAccuracy }),
      ...(parameters.maxLatencyMs === undefined ? {} : { maxLatencyMs: parameters.maxLatencyMs }),
      ...(target.model === undefined ? {} : { model: target.model }),
    };
    const prediction = await ctx.service.infer(lease, target.task, {
      wire: { form: 'tensor', data, prep: target.prep },
      limits: { maxPixels: ctx.config.maxInputPixels },
      constraint,
      readAtMs: exchange.readAtMs,
      waitedMs: exchange.waitedMs,
    });
    exchange.model = prediction.model;
    const { selection, timing } = prediction;
    res.json({
      model_name: target.name,
      ...(body.id === undefined ? {} : { id: body.id }),
      parameters: {
        requestId: prediction.requestId,
        model: prediction.model,
        constraintMet: selection.constraintMet,
        predictedAccuracy: selection.predictedAccuracy,
        predictedLatencyMs: selection.predictedLatencyMs,
        reason: selection.reason,
        ...timing,
      },
      outputs: target.outputs
        .filter((o) => wanted.includes(o.name))
        .map((o) => ({ ...o, data: outputData(prediction, o.name) })),
    });
  });

  return router;
}
