/**
 * The JSON schema of a zoo manifest (`zoo/<task>/manifest.json`), the one description of a task's
 * models that the service, the profiler and premodel training all read. Its TypeScript type is
 * derived from it (`manifest.ts`, with the checks that a schema cannot express: files, hashes,
 * references); each model's input preprocessing is one of the input kinds' own schemas.
 */
import { KIND_NAMES, PREPROCESSING_SCHEMAS } from '../inputs/registry.js';

export const COMPRESSION_METHODS = [
  'none',
  'int8-static',
  'int8-dynamic',
  'pruned',
  'distilled',
  'low-resolution',
  'fewer-channels',
  'shorter-context',
  // Not a compression: the parent run on several views of the input, dearer and more accurate.
  'test-time-augmentation',
  // A tail of split computing: the rest of a network after a head's bottleneck (heads/<id>/).
  'split',
] as const;

const nonNegativeInteger = { type: 'integer', minimum: 0 } as const;
const positiveInteger = { type: 'integer', minimum: 1 } as const;
const share = { type: 'number', minimum: 0, maximum: 1 } as const;
const label = { type: 'string', minLength: 1, maxLength: 64 } as const;

// A bare file name inside the manifest's folder: never a path.
const onnxFile = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\.onnx$' } as const;
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

/** What a model and a head both are: an ONNX file of the manifest's folder, checked by its hash, with its size and cost. */
const graphProperties = {
  id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
  description: { type: 'string' },
  file: onnxFile,
  sha256,
  bytes: positiveInteger,
  parameters: nonNegativeInteger,
  // Multiply-accumulates of one example, where the recipe counted them (an imported model may not say).
  macs: nonNegativeInteger,
} as const;

/** What a model (or a head) takes: its ONNX input's name, one example's shape, and how an input of its kind becomes it. */
const modelInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'shape', 'dtype', 'preprocessing'],
  properties: {
    name: { type: 'string', minLength: 1 },
    // One example's shape, without the batch dimension that every model has first.
    shape: { type: 'array', items: positiveInteger, minItems: 1, maxItems: 4 },
    dtype: { const: 'float32' },
    preprocessing: { oneOf: PREPROCESSING_SCHEMAS },
  },
} as const;

export const modelEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'description', 'file', 'sha256', 'bytes', 'parameters', 'input', 'output',
    'compression', 'trainedOn',
  ],
  properties: {
    ...graphProperties,
    input: modelInputSchema,
    output: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'kind', 'labels'],
      properties: {
        name: { type: 'string', minLength: 1 },
        kind: { enum: ['logits', 'probabilities'] },
        labels: { type: 'array', items: label, minItems: 2 },
      },
    },
    compression: {
      type: 'object',
      additionalProperties: false,
      required: ['method', 'parent'],
      properties: {
        method: { enum: COMPRESSION_METHODS },
        parent: { type: ['string', 'null'] },
      },
    },
    // Views of the input the model was trained to be invariant to (an image's mirror): each gives
    // a rung of the ladders that averages the model's answers on the input and on that view, and
    // costs one more run where the model has already run (the input kind names its views).
    testTimeAugmentation: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    trainedOn: {
      type: 'object',
      additionalProperties: false,
      required: ['split'],
      properties: { split: { const: 'zoo' }, seed: { type: 'integer' } },
    },
    // Written by `npm run profile`: accuracy through the service's own decoding and preprocessing,
    // on the premodel split's rows (as clients send them, for a kind that clients encode), on the
    // test split as it is, and on the test split as clients send it.
    accuracy: {
      type: 'object',
      additionalProperties: false,
      required: ['premodel', 'test'],
      properties: { premodel: share, test: share, testClient: share },
    },
    // Written by `npm run profile`: batch-1 latency of session.run on the profiling machine.
    latency: {
      type: 'object',
      additionalProperties: false,
      required: ['p50Ms', 'p95Ms', 'meanMs', 'runs', 'intraOpThreads', 'profiledAt'],
      properties: {
        p50Ms: { type: 'number', exclusiveMinimum: 0 },
        p95Ms: { type: 'number', exclusiveMinimum: 0 },
        meanMs: { type: 'number', exclusiveMinimum: 0 },
        runs: positiveInteger,
        intraOpThreads: positiveInteger,
        profiledAt: { type: 'string', format: 'date-time' },
        host: { type: 'string' },
      },
    },
  },
} as const;


/**
 * The head of a split route (zoo/<task>/heads/<id>/manifest.json, whose models are its tails): the
 * first layers of a model of the task, run on the device, ending in a bottleneck quantized to
 * uint8 (ONNX QuantizeLinear). What it takes is the raw input of the task's models; what it gives
 * is what the tails' bottleneck preprocessing takes.
 */
export const headEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'description', 'file', 'sha256', 'bytes', 'parameters', 'parent', 'input', 'bottleneck', 'trainedOn'],
  properties: {
    ...graphProperties,
    // The model of the task (zoo/<task>/manifest.json) whose first layers the head is.
    parent: { type: 'string', minLength: 1 },
    // The task's raw kind: the device feeds the head what the parent model is fed.
    input: modelInputSchema,
    bottleneck: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'shape', 'dtype', 'scale', 'zeroPoint'],
      properties: {
        name: { type: 'string', minLength: 1 },
        shape: { type: 'array', items: positiveInteger, minItems: 1, maxItems: 4 },
        dtype: { const: 'uint8' },
        scale: { type: 'number', exclusiveMinimum: 0 },
        zeroPoint: { type: 'integer', minimum: 0, maximum: 255 },
      },
    },
    trainedOn: {
      type: 'object',
      additionalProperties: false,
      required: ['split'],
      properties: { split: { const: 'zoo' }, seed: { type: 'integer' } },
    },
  },
} as const;

export const manifestSchema = {
  $id: 'https://adaptive-zoo.dev/schemas/zoo-manifest.json',
  type: 'object',
  additionalProperties: false,
  required: ['task', 'kind', 'classes', 'splits', 'models'],
  properties: {
    $comment: { type: 'string' },
    task: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' },
    kind: { type: 'string', enum: KIND_NAMES },
    classes: { type: 'array', items: label, minItems: 2, uniqueItems: true },
    splits: {
      type: 'object',
      additionalProperties: false,
      required: ['zoo', 'premodel', 'test'],
      properties: { zoo: { type: 'string' }, premodel: { type: 'string' }, test: { type: 'string' } },
    },
    models: { type: 'array', items: modelEntrySchema, minItems: 1, maxItems: 64 },
    // Only in a split route's manifest (kind bottleneck): the head whose bottleneck its models take.
    head: headEntrySchema,
  },
} as const;
