/**
 * The JSON schemas of every request body and query string the HTTP API accepts, and their compiled
 * validators. `openapi.ts` publishes these very objects, so the documented contract and the one
 * enforced cannot drift apart. Shapes that depend on the task (window length, tensor shape) are
 * checked after the schema, against the task's manifest, and answer 422.
 */
import { BadRequestError } from '../errors/index.js';
import { HEAD_FIELDS, INPUT_KINDS } from '../inputs/registry.js';
import { compileSchema, type FromSchema, type Validator } from '../schema/index.js';
import { DATATYPES } from './v2/tensors.js';

export const minAccuracySchema = {
  type: 'number',
  minimum: 0,
  maximum: 1,
  description: 'Accuracy the answer should reach: the cheapest model predicted right often enough (0..1).',
  examples: [0.9],
} as const;

export const maxLatencyMsSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  description: "Hard bound on the chosen model's expected latency now, in milliseconds.",
  examples: [2],
} as const;

export const modelIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'Forces this zoo model (an id of GET /v1/tasks) instead of the premodel\'s choice.',
} as const;

export const constraintSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { minAccuracy: minAccuracySchema, maxLatencyMs: maxLatencyMsSchema },
  description: 'Either, both or neither (neither: the task\'s default, see GET /v1/tasks).',
} as const;

/** The head a split-computing input came out of (an id of GET /v1/tasks/{task}/heads). */
export const headIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  description: "The head whose bottleneck this is: an id of GET /v1/tasks/{task}/heads (with input.bottleneck only).",
} as const;

/** Each field of a kind that comes out of a head needs input.head, and input.head needs one of them. */
const headRules = [
  ...HEAD_FIELDS.map((field) => ({ if: { required: [field], properties: { [field]: true } }, then: { required: ['head'], properties: { head: true } } })),
  ...(HEAD_FIELDS.length === 0 ? [] : [{ if: { required: ['head'], properties: { head: true } }, then: { required: [HEAD_FIELDS[0]!], properties: { [HEAD_FIELDS[0]!]: true } } }]),
];

/**
 * `input` of a v1 JSON body: exactly one field, that of an input kind (input/<kind>), with its
 * schema; and `head` beside the field of a kind that comes out of a head (split computing).
 */
const inputSchema = {
  type: 'object',
  description: `Exactly one of ${INPUT_KINDS.map((k) => k.jsonField).join(', ')}: the input of a task of that kind; with ${HEAD_FIELDS.join(', ')}, also head.`,
  additionalProperties: false,
  properties: { ...Object.fromEntries(INPUT_KINDS.map((k) => [k.jsonField, k.jsonSchema])), head: headIdSchema } as Record<string, object>,
  // Typed as plain objects: the body type keeps `input` a record of the kinds' fields, whatever the registry holds.
  oneOf: INPUT_KINDS.map((k) => ({ required: [k.jsonField], properties: { [k.jsonField]: true } })) as unknown as readonly [{ type: 'object' }],
  allOf: headRules as unknown as readonly [{ type: 'object' }],
} as const;

export const predictBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['input'],
  properties: {
    input: inputSchema,
    constraint: constraintSchema,
    model: modelIdSchema,
  },
} as const;

export type PredictBody = FromSchema<typeof predictBodySchema>;

/** Query string of a raw image upload (numbers arrive as text and are converted first). */
export const predictQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { minAccuracy: minAccuracySchema, maxLatencyMs: maxLatencyMsSchema, model: modelIdSchema },
} as const;

export type PredictQuery = FromSchema<typeof predictQuerySchema>;

const parameterValue = { type: ['string', 'number', 'boolean'] } as const;

/** Open Inference Protocol (v2) inference request, as the specification and Triton's and KServe's clients send it. */
export const inferBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['inputs'],
  properties: {
    id: { type: ['string', 'number'], description: 'Echoed in the response, as a string.' },
    model_name: { type: 'string', description: 'Ignored: the path names the model (some clients repeat it here).' },
    model_version: { type: 'string', description: 'Ignored: the path names the version.' },
    parameters: {
      type: 'object',
      description:
        'minAccuracy and maxLatencyMs as in v1; head: the head of a UINT8 bottleneck input (or the input\'s parameters.head); binary_data_output: every output as binary tensor data; other parameters are ignored.',
      properties: { minAccuracy: minAccuracySchema, maxLatencyMs: maxLatencyMsSchema, head: headIdSchema, binary_data_output: { type: 'boolean' } },
      additionalProperties: parameterValue,
    },
    inputs: {
      type: 'array',
      minItems: 1,
      // A task or zoo model has one input; more are named in the error, up to a bound on the work.
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'shape', 'datatype'],
        properties: {
          name: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 8 },
          datatype: { type: 'string', description: `One of ${DATATYPES.join(', ')}: numbers are converted to the model's FP32; BYTES is an encoded image, on image tasks.` },
          parameters: {
            type: 'object',
            properties: {
              binary_data_size: { type: 'integer', minimum: 0, description: 'Its data follows the JSON header, in this many bytes (binary tensor data extension).' },
              head: headIdSchema,
            },
            additionalProperties: parameterValue,
          },
          data: { type: 'array', description: 'Row-major, flat or nested to the shape; absent when the data is binary.' },
        },
      },
    },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string' },
          parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } }, additionalProperties: parameterValue },
        },
      },
    },
  },
} as const;

export type InferBody = FromSchema<typeof inferBodySchema>;

export const feedbackItemSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId'],
  properties: {
    requestId: { type: 'string', minLength: 1, maxLength: 2048, description: "The prediction's requestId." },
    label: { type: 'string', minLength: 1, maxLength: 200, description: 'The true class, by name (GET /v1/tasks/{task} lists them).' },
    classIndex: { type: 'integer', minimum: 0, maximum: 65535, description: 'The true class, by index.' },
  },
  oneOf: [
    { required: ['label'], properties: { label: true } },
    { required: ['classIndex'], properties: { classIndex: true } },
  ],
  description: 'One label: exactly one of label and classIndex.',
} as const;

export type FeedbackItemBody = FromSchema<typeof feedbackItemSchema>;

export const feedbackBodySchema = {
  description: 'One label, or an array of up to FEEDBACK_MAX_BATCH (1000 by default), taken whole or not at all.',
  oneOf: [feedbackItemSchema, { type: 'array', minItems: 1, items: feedbackItemSchema }],
} as const;

export const reloadBodySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

const predictBody = compileSchema<PredictBody>(predictBodySchema, { untrusted: true });
const predictQuery = compileSchema<PredictQuery>(predictQuerySchema, { untrusted: true });
const inferBody = compileSchema<InferBody>(inferBodySchema, { untrusted: true });
const feedbackItem = compileSchema<FeedbackItemBody>(feedbackItemSchema, { untrusted: true });

/** Problems named in one error message at most: a body of a million bad items gets a short answer. */
const MAX_PROBLEMS = 10;

function check<T>(validator: Validator<T>, value: unknown, what: string): T {
  if (value === undefined) throw new BadRequestError(`${what} is missing`);
  // One validation pass: on a large invalid body every pass costs as much as the body is big.
  const problems = validator.problems(value);
  if (problems.length === 0) return value as T;
  const more = problems.length > MAX_PROBLEMS ? `; and ${problems.length - MAX_PROBLEMS} more problems` : '';
  throw new BadRequestError(`${what} is invalid: ${problems.slice(0, MAX_PROBLEMS).join('; ')}${more}`);
}

export const validatePredictBody = (body: unknown): PredictBody => check(predictBody, body, 'the JSON body');
export const validateInferBody = (body: unknown): InferBody => check(inferBody, body, 'the inference request');

/**
 * A feedback body as a list of labels. The batch size is checked before the items: a huge batch
 * is refused without validating a million items.
 */
export function validateFeedbackBody(body: unknown, maxBatch: number): FeedbackItemBody[] {
  if (!Array.isArray(body)) return [check(feedbackItem, body, 'the JSON body')];
  if (body.length === 0) throw new BadRequestError('the feedback batch is empty');
  if (body.length > maxBatch) throw new BadRequestError(`a feedback batch holds at most ${maxBatch} labels (FEEDBACK_MAX_BATCH), not ${body.length}`);
  return body.map((item, i) => check(feedbackItem, item, `item ${i}`));
}

/** A decimal number as JSON writes it: not hex (`0x10`), binary, blank or `Infinity`, all of which Number() reads. */
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Numbers in the query string arrive as text: convert those that read as decimal numbers, then validate. */
export function validatePredictQuery(query: Record<string, unknown>): PredictQuery {
  const isNumeric = (key: string, value: unknown): value is string =>
    (key === 'minAccuracy' || key === 'maxLatencyMs') && typeof value === 'string' && DECIMAL.test(value);
  // fromEntries, not assignment: a `__proto__` key stays a field (and is refused) instead of a prototype.
  const converted = Object.fromEntries(
    Object.entries(query).map(([key, value]) => [key, isNumeric(key, value) ? Number(value) : value]),
  );
  return check(predictQuery, converted, 'the query string');
}
