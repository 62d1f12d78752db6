/**
 * The OpenAPI 3.1 document served at GET /openapi.json. Its request schemas are the very objects
 * that ajv validates requests with (imported from schemas.ts, not copied), so the published
 * contract is the enforced one.
 */
import {
  feedbackBodySchema,
  inferBodySchema,
  maxLatencyMsSchema,
  minAccuracySchema,
  modelIdSchema,
  predictBodySchema,
} from './schemas.js';
import { ERROR_CATALOGUE, ERROR_CODES } from '../errors/index.js';
import { UPLOAD_TYPES } from '../inputs/registry.js';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: ERROR_CODES, description: 'One of the error catalogue (docs/http.md)' },
        message: { type: 'string' },
      },
    },
  },
};

const v2ErrorSchema = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };

const timingSchema = {
  type: 'object',
  description:
    'Milliseconds spent in each stage of this request; totalMs from the moment the worker read it. queuedMs estimates how long it ' +
    'had waited to be read (a busy worker reads the next request once it has answered those before it); maxLatencyMs is planned on both.',
  properties: Object.fromEntries(['queuedMs', 'decodeMs', 'featuresMs', 'selectMs', 'inferenceMs', 'totalMs'].map((k) => [k, { type: 'number' }])),
};

const predictionSchema = {
  type: 'object',
  required: ['requestId', 'task', 'model', 'label', 'classIndex', 'scores', 'selection', 'timing'],
  properties: {
    requestId: { type: 'string', description: 'The decision, signed: what POST /v1/tasks/{task}/feedback takes a label for.' },
    task: { type: 'string' },
    model: { type: 'string', description: 'The zoo model that answered.' },
    label: { type: 'string' },
    classIndex: { type: 'integer' },
    scores: { type: 'array', items: { type: 'number' }, description: 'Class probabilities, in the order of the classes.' },
    selection: {
      type: 'object',
      required: ['constraintMet', 'predictedAccuracy', 'predictedLatencyMs', 'candidates', 'reason'],
      properties: {
        constraintMet: { type: 'boolean', description: "True only when the served operating point is vouched for the request's target and its latency fits." },
        predictedAccuracy: { type: 'number', description: "What the served point is vouched for on requests of this one's encoding group (its calibrated lower bound)." },
        predictedLatencyMs: { type: 'number' },
        candidates: {
          type: 'array',
          items: {
            type: 'object',
            properties: { model: { type: 'string' }, pCorrect: { type: 'number' }, latencyMs: { type: 'number' } },
          },
        },
        ran: { type: 'array', items: { type: 'string' }, description: 'Models run, in order (more than one when the route escalated).' },
        reason: { type: 'string' },
      },
    },
    timing: timingSchema,
  },
};

const figures = {
  labelled: { type: 'integer' },
  accuracy: { type: 'number', description: 'Share of the labelled requests answered right.' },
  lowerBound: { type: 'number', description: 'One-sided 95% Wilson lower bound.' },
  upperBound: { type: 'number', description: 'One-sided 95% Wilson upper bound.' },
} as const;

const qualitySchema = {
  type: 'object',
  required: ['task', 'premodel', 'labelled', 'correction', 'bands', 'points', 'groups', 'corrections', 'drift', 'feedback'],
  properties: {
    task: { type: 'string' },
    premodel: { type: 'string', description: "The premodel the points index into (its dataHash's first 8 hex digits)." },
    labelled: { type: 'integer' },
    correction: { type: 'object', properties: { enabled: { type: 'boolean' }, step: { type: 'number' }, maxRaise: { type: 'number' } } },
    bands: { type: 'array', items: { type: 'object', properties: { band: { type: 'string' }, meanTarget: { type: ['number', 'null'] }, ...figures } } },
    points: { type: 'array', items: { type: 'object', properties: { point: { type: 'integer' }, ladder: { type: 'string' }, promised: { type: 'number' }, ...figures } } },
    groups: { type: 'array', items: { type: 'object', properties: { group: { type: 'string' }, ...figures } } },
    corrections: {
      type: 'array',
      items: {
        type: 'object',
        properties: { band: { type: 'string' }, group: { type: 'string' }, raise: { type: 'number' }, missed: { type: 'boolean' }, recentLabelled: { type: 'integer' } },
      },
    },
    drift: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          group: { type: 'string' },
          featurePsi: { type: ['number', 'null'] },
          feature: { type: ['string', 'null'] },
          confidencePsi: { type: ['number', 'null'] },
          drifted: { type: 'boolean' },
          rows: { type: 'integer' },
        },
      },
    },
    feedback: {
      type: ['object', 'null'],
      properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, storedBytes: { type: 'integer' } },
    },
  },
};

const metadataTensorSchema = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
};

const json = (schema: object) => ({ 'application/json': { schema } });

/** Headers every response carries, and the one a 503 adds. */
const REQUEST_ID_HEADER = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
const RETRY_AFTER_HEADER = { 'Retry-After': { $ref: '#/components/headers/Retry-After' } };

/** The headers of a head's download: its sha256 as the ETag and the representation's digest. */
const DOWNLOAD_HEADERS = {
  ETag: { description: "The head's sha256, quoted.", schema: { type: 'string' } },
  'Repr-Digest': { description: 'sha-256=:<base64 of the sha256>: (RFC 9530).', schema: { type: 'string' } },
  Digest: { description: 'sha-256=<base64 of the sha256> (RFC 3230, for older clients).', schema: { type: 'string' } },
};

/** Each status's description: the codes of the catalogue that answer with it. */
const STATUS_TEXT: Record<number, string> = {};
for (const code of ERROR_CODES) {
  const { status, description } = ERROR_CATALOGUE[code];
  STATUS_TEXT[status] = `${STATUS_TEXT[status] === undefined ? '' : `${STATUS_TEXT[status]} `}${code}: ${description}`;
}

const errorResponses = (schema: 'Error' | 'V2Error', statuses: readonly number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: STATUS_TEXT[s] ?? 'Error', headers: s === 503 ? { ...REQUEST_ID_HEADER, ...RETRY_AFTER_HEADER } : REQUEST_ID_HEADER, content: json({ $ref: `#/components/schemas/${schema}` }) },
    ]),
  );

interface Operation {
  operationId: string;
  summary: string;
  parameters?: object[];
  requestBody?: object;
  /** Success responses: status -> description and schema (none: no body). */
  ok: Record<string, { description: string; schema?: object; content?: object; headers?: object }>;
  errors?: readonly number[];
  v2?: boolean;
  security?: object[];
}

/** An operation with its success and error responses, each with its headers. */
function operation(o: Operation): object {
  const responses: Record<string, object> = {};
  for (const [status, r] of Object.entries(o.ok)) {
    responses[status] = { description: r.description, headers: { ...REQUEST_ID_HEADER, ...r.headers }, ...(r.content !== undefined ? { content: r.content } : r.schema === undefined ? {} : { content: json(r.schema) }) };
  }
  Object.assign(responses, errorResponses(o.v2 === true ? 'V2Error' : 'Error', o.errors ?? []));
  return {
    operationId: o.operationId,
    summary: o.summary,
    tags: [o.v2 === true ? 'open-inference' : 'v1'],
    ...(o.parameters === undefined ? {} : { parameters: o.parameters }),
    ...(o.requestBody === undefined ? {} : { requestBody: o.requestBody }),
    ...(o.security === undefined ? {} : { security: o.security }),
    responses,
  };
}

const nameParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string', enum: ['1'] }, description: 'The model version: 1' };
const modelName = nameParam('name', 'A task ("fashion": routed by the premodel) or a zoo model ("fashion.cnn-small", or the bare id where unique)');

const objectOf = (properties: Record<string, object>, required: readonly string[] = Object.keys(properties)) => ({ type: 'object', required, properties });
const statusSchema = (key: string) => objectOf({ [key]: { type: 'boolean' } });

const taskSchema = objectOf(
  {
    task: { type: 'string' },
    kind: { type: 'string' },
    input: { type: 'object', description: 'What a request carries and what the models take (sizes, channels, rate).' },
    classes: { type: 'array', items: { type: 'string' } },
    defaultMinAccuracy: { type: 'number' },
    defaultMinAccuracyByGroup: { type: 'object', additionalProperties: { type: 'number' } },
    models: {
      type: 'array',
      items: objectOf({
        id: { type: 'string' },
        method: { type: 'string' },
        parent: { type: ['string', 'null'] },
        routed: { type: 'boolean' },
        accuracy: { type: ['object', 'null'] },
        latencyMs: { type: ['object', 'null'] },
        bytes: { type: 'integer' },
        parameters: { type: 'integer' },
        macs: { type: ['integer', 'null'] },
      }),
    },
    heads: {
      type: 'array',
      description: 'Its heads (split computing): GET /v1/tasks/{task}/heads has the details.',
      items: objectOf({ id: { type: 'string' }, served: { type: 'boolean' } }),
    },
  },
  ['task', 'kind', 'input', 'classes', 'defaultMinAccuracy', 'models', 'heads'],
);

const headSchema = objectOf(
  {
    id: { type: 'string' },
    description: { type: 'string' },
    parent: { type: 'string', description: 'The model of the task whose first layers the head is.' },
    input: objectOf({
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      dtype: { type: 'string' },
      preprocessing: { type: 'object', description: "How the raw input becomes the head's tensor: the parent model's preprocessing (docs/bring-your-own-zoo.md)." },
    }),
    bottleneck: objectOf({
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      dtype: { type: 'string', enum: ['uint8'] },
      scale: { type: 'number' },
      zeroPoint: { type: 'integer' },
    }),
    bytesPerRequest: { type: 'integer', description: "Bytes of one request's bottleneck (one uint8 code per element)." },
    inputBytesPerRequest: { type: 'integer', description: 'Bytes of the float32 input the head takes, for comparison.' },
    bytes: { type: 'integer', description: "Size of the head's ONNX file." },
    sha256: { type: 'string', description: "The ONNX file's sha256: the download's ETag and Repr-Digest." },
    parameters: { type: 'integer' },
    macs: { type: ['integer', 'null'] },
    served: { type: 'boolean', description: 'False while the head has no premodel: its predictions are refused (503).' },
    unavailable: { type: 'string' },
    defaultMinAccuracy: { type: 'number' },
    tails: { type: 'array', items: { type: 'object' }, description: 'The tails that answer its bottlenecks, as GET /v1/tasks lists models.' },
    download: { type: 'string', description: 'Where its ONNX file is downloaded from.' },
  },
  ['id', 'description', 'parent', 'input', 'bottleneck', 'bytesPerRequest', 'inputBytesPerRequest', 'bytes', 'sha256', 'parameters', 'macs', 'served', 'tails', 'download'],
);

const v2OutputSchema = objectOf(
  { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, parameters: { type: 'object' }, data: { type: 'array', items: {} } },
  ['name', 'datatype', 'shape'],
);
const inferResponseSchema = objectOf(
  { model_name: { type: 'string' }, model_version: { type: 'string' }, id: { type: 'string' }, parameters: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }, outputs: { type: 'array', items: v2OutputSchema } },
  ['model_name', 'outputs'],
);
const modelMetadataSchema = objectOf(
  { name: { type: 'string' }, versions: { type: 'array', items: { type: 'string' } }, platform: { type: 'string' }, inputs: { type: 'array', items: metadataTensorSchema }, outputs: { type: 'array', items: metadataTensorSchema } },
  ['name', 'versions', 'platform', 'inputs', 'outputs'],
);
const totals = objectOf({ count: { type: 'integer' }, ns: { type: 'integer' } });
const statsSchema = objectOf({
  model_stats: {
    type: 'array',
    items: objectOf({
      name: { type: 'string' },
      version: { type: 'string' },
      last_inference: { type: 'integer' },
      inference_count: { type: 'integer' },
      execution_count: { type: 'integer' },
      inference_stats: objectOf({ success: totals, fail: totals, queue: totals, compute_input: totals, compute_infer: totals, compute_output: totals }),
      batch_stats: { type: 'array', items: { type: 'object' } },
    }),
  },
});
const configSchema = objectOf({
  name: { type: 'string' },
  platform: { type: 'string' },
  backend: { type: 'string' },
  max_batch_size: { type: 'integer' },
  input: { type: 'array', items: objectOf({ name: { type: 'string' }, data_type: { type: 'string' }, dims: { type: 'array', items: { type: 'integer' } } }) },
  output: { type: 'array', items: objectOf({ name: { type: 'string' }, data_type: { type: 'string' }, dims: { type: 'array', items: { type: 'integer' } } }) },
  parameters: { type: 'object' },
});

/** The unversioned path of a v2 model operation and its `/versions/{version}` twin. */
function versioned(path: string, method: 'get' | 'post', o: Omit<Operation, 'v2'>): Record<string, object> {
  return {
    [`/v2/models/{name}${path}`]: { [method]: operation({ ...o, v2: true, parameters: [modelName, ...(o.parameters ?? [])] }) },
    [`/v2/models/{name}/versions/{version}${path}`]: {
      [method]: operation({ ...o, v2: true, operationId: `${o.operationId}Version`, parameters: [modelName, versionParam, ...(o.parameters ?? [])] }),
    },
  };
}

export function openApiDocument(version: string): object {
  const taskParam = nameParam('task', 'A task name of GET /v1/tasks');
  return {
    openapi: '3.1.0',
    info: {
      title: 'adaptive-zoo',
      version,
      description:
        'Routes each request to the cheapest DNN of a model zoo that a learned premodel predicts will still be right on it, ' +
        'under an accuracy and/or latency constraint.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://localhost:8080', description: 'npm start' }],
    security: [],
    tags: [
      { name: 'v1', description: 'The service\'s own API: tasks, predict, label feedback, quality, health, metrics, reload' },
      { name: 'open-inference', description: 'The Open Inference Protocol (KServe / Triton v2)' },
    ],
    paths: {
      '/v1/tasks': {
        get: operation({ operationId: 'listTasks', summary: 'The tasks, their models (id, compression, accuracy, latency, size) and classes', ok: { '200': { description: 'The tasks', schema: objectOf({ tasks: { type: 'array', items: { $ref: '#/components/schemas/Task' } } }) } } }),
      },
      '/v1/tasks/{task}': {
        get: operation({ operationId: 'getTask', summary: 'One task', parameters: [taskParam], ok: { '200': { description: 'The task', schema: { $ref: '#/components/schemas/Task' } } }, errors: [404] }),
      },
      '/v1/tasks/{task}/heads': {
        get: operation({
          operationId: 'listHeads',
          summary: "The task's heads (split computing): what a device runs and sends, and the tails that answer",
          parameters: [taskParam],
          ok: { '200': { description: 'The heads', schema: objectOf({ task: { type: 'string' }, heads: { type: 'array', items: { $ref: '#/components/schemas/Head' } } }) } },
          errors: [404],
        }),
      },
      '/v1/tasks/{task}/heads/{head}': {
        get: operation({
          operationId: 'downloadHead',
          summary: "A head's ONNX file, as the service loaded and verified it",
          parameters: [taskParam, nameParam('head', 'A head id of GET /v1/tasks/{task}/heads')],
          ok: {
            '200': {
              description: 'The ONNX file; ETag and Repr-Digest (and Digest) carry its sha256',
              headers: DOWNLOAD_HEADERS,
              content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
            },
          },
          errors: [404],
        }),
      },
      '/v1/tasks/{task}/predict': {
        post: operation({
          operationId: 'predict',
          summary: 'Classify one input with the cheapest model predicted right under the constraint',
          parameters: [
            taskParam,
            { name: 'minAccuracy', in: 'query', required: false, schema: minAccuracySchema, description: 'Raw uploads only' },
            { name: 'maxLatencyMs', in: 'query', required: false, schema: maxLatencyMsSchema, description: 'Raw uploads only' },
            { name: 'model', in: 'query', required: false, schema: modelIdSchema, description: 'Raw uploads only' },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: predictBodySchema },
              ...Object.fromEntries(UPLOAD_TYPES.map((t) => [t, { schema: { type: 'string', contentMediaType: t } }])),
            },
          },
          ok: { '200': { description: 'The prediction, the selection and its reason, and the time of each stage', schema: { $ref: '#/components/schemas/Prediction' } } },
          errors: [400, 404, 413, 415, 422, 503],
        }),
      },
      '/v1/tasks/{task}/feedback': {
        post: operation({
          operationId: 'sendFeedback',
          summary: 'The true labels of answers given: stored durably, counted, and used to keep the accuracy promise',
          parameters: [taskParam],
          requestBody: { required: true, content: json(feedbackBodySchema) },
          ok: { '202': { description: 'Stored (on disk) and counted', schema: objectOf({ accepted: { type: 'integer' }, duplicates: { type: 'integer' } }) } },
          errors: [400, 404, 409, 413, 415, 503],
        }),
      },
      '/v1/tasks/{task}/quality': {
        get: operation({
          operationId: 'getQuality',
          summary: 'What label feedback shows: realized accuracy per target band, operating point and group; the online correction; drift',
          parameters: [taskParam],
          ok: { '200': { description: 'The quality report', schema: { $ref: '#/components/schemas/Quality' } } },
          errors: [404],
        }),
      },
      '/v1/admin/reload': {
        post: operation({
          operationId: 'reload',
          summary: 'Reload the zoos and premodels from disk; a broken artifact is refused and the loaded ones keep serving',
          security: [{ adminToken: [] }],
          ok: { '200': { description: 'Reloaded', schema: objectOf({ reloaded: { type: 'boolean' }, tasks: { type: 'array', items: objectOf({ task: { type: 'string' }, models: { type: 'array', items: { type: 'string' } } }) } }) } },
          errors: [401, 404, 422, 503],
        }),
      },
      '/healthz': { get: operation({ operationId: 'live', summary: 'Liveness: the process answers', ok: { '200': { description: 'Alive', schema: objectOf({ status: { type: 'string', enum: ['ok'] } }) } } }) },
      '/readyz': {
        get: operation({
          operationId: 'ready',
          summary: 'Readiness: loaded and not shutting down',
          ok: { '200': { description: 'Ready', schema: { $ref: '#/components/schemas/Readiness' } }, '503': { description: 'Not ready', schema: { $ref: '#/components/schemas/Readiness' } } },
        }),
      },
      '/metrics': {
        get: operation({ operationId: 'metrics', summary: 'Prometheus metrics', ok: { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } }),
      },
      '/openapi.json': { get: operation({ operationId: 'openapi', summary: 'This document', ok: { '200': { description: 'OpenAPI 3.1', schema: { type: 'object' } } } }) },
      '/v2': {
        get: operation({ operationId: 'serverMetadata', summary: 'Open Inference Protocol: server metadata', v2: true, ok: { '200': { description: 'name, version, extensions', schema: objectOf({ name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } }) } } }),
      },
      '/v2/health/live': { get: operation({ operationId: 'serverLive', summary: 'Open Inference Protocol: liveness', v2: true, ok: { '200': { description: 'Live', schema: statusSchema('live') } } }) },
      '/v2/health/ready': {
        get: operation({ operationId: 'serverReady', summary: 'Open Inference Protocol: readiness', v2: true, ok: { '200': { description: 'Ready', schema: statusSchema('ready') }, '503': { description: 'Not ready', schema: statusSchema('ready') } } }),
      },
      '/v2/repository/index': {
        post: operation({ operationId: 'repositoryIndex', summary: 'Open Inference Protocol: every model name served, with its version and state', v2: true, ok: { '200': { description: 'The index', schema: { type: 'array', items: objectOf({ name: { type: 'string' }, version: { type: 'string' }, state: { type: 'string' } }) } } } }),
      },
      '/v2/models/stats': {
        get: operation({ operationId: 'allModelStats', summary: 'Open Inference Protocol statistics of every model name used since start-up (Triton\'s layout)', v2: true, ok: { '200': { description: 'Statistics', schema: statsSchema } } }),
      },
      ...versioned('', 'get', { operationId: 'modelMetadata', summary: 'Open Inference Protocol: model metadata', ok: { '200': { description: 'Metadata', schema: modelMetadataSchema } }, errors: [404] }),
      ...versioned('/ready', 'get', { operationId: 'modelReady', summary: 'Open Inference Protocol: model readiness', ok: { '200': { description: 'Ready', schema: objectOf({ name: { type: 'string' }, ready: { type: 'boolean' } }) } }, errors: [404, 503] }),
      ...versioned('/config', 'get', { operationId: 'modelConfig', summary: 'Open Inference Protocol: model configuration (Triton\'s layout)', ok: { '200': { description: 'Configuration', schema: configSchema } }, errors: [404] }),
      ...versioned('/stats', 'get', { operationId: 'modelStats', summary: 'Open Inference Protocol: model statistics (Triton\'s layout)', ok: { '200': { description: 'Statistics', schema: statsSchema } }, errors: [404] }),
      ...versioned('/infer', 'post', {
        operationId: 'infer',
        summary: 'Open Inference Protocol: inference (a task routes each example through the premodel)',
        requestBody: {
          required: true,
          content: {
            ...json(inferBodySchema),
            'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream', description: 'Binary tensor data extension: the JSON request of Inference-Header-Content-Length bytes, then the inputs\' bytes.' } },
          },
        },
        ok: {
          '200': {
            description: 'outputs scores, class_index, label; the selection and timings as parameters',
            content: { ...json(inferResponseSchema), 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
          },
        },
        errors: [400, 404, 413, 415, 422, 503],
      }),
    },
    components: {
      schemas: { Error: errorSchema, V2Error: v2ErrorSchema, Prediction: predictionSchema, Quality: qualitySchema, Task: taskSchema, Head: headSchema, Readiness: objectOf({ ready: { type: 'boolean' }, reason: { type: 'string' } }, ['ready']) },
      headers: {
        'X-Request-Id': { description: "The request's id in the access log: the client's own when sane, else a fresh UUID.", schema: { type: 'string' } },
        'Retry-After': { description: 'Seconds to wait before retrying (RETRY_AFTER_S).', schema: { type: 'integer' } },
      },
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    },
  };
}
