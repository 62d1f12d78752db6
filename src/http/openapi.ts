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
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: STATUS_TEXT[s], content: json({ $ref: '#/components/schemas/Error' }) }]));
const v2Errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: STATUS_TEXT[s], content: json({ $ref: '#/components/schemas/V2Error' }) }]));

/** Each status's description: the codes of the catalogue that answer with it. */
const STATUS_TEXT: Record<number, string> = {};
for (const code of ERROR_CODES) {
  const { status, description } = ERROR_CATALOGUE[code];
  STATUS_TEXT[status] = `${STATUS_TEXT[status] === undefined ? '' : `${STATUS_TEXT[status]} `}${code}: ${description}`;
}

const nameParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });

export function openApiDocument(version: string): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'adaptive-zoo',
      version,
      description:
        'Routes each request to the cheapest DNN of a model zoo that a learned premodel predicts will still be right on it, ' +
        'under an accuracy and/or latency constraint.',
    },
    paths: {
      '/v1/tasks': {
        get: {
          summary: 'The tasks, their models (id, compression, accuracy, latency, size) and classes',
          responses: { '200': { description: 'The tasks', content: json({ type: 'object', properties: { tasks: { type: 'array' } } }) } },
        },
      },
      '/v1/tasks/{task}': {
        get: {
          summary: 'One task',
          parameters: [nameParam('task', 'A task name of GET /v1/tasks')],
          responses: { '200': { description: 'The task' }, ...errors(404) },
        },
      },
      '/v1/tasks/{task}/predict': {
        post: {
          summary: 'Classify one input with the cheapest model predicted right under the constraint',
          parameters: [
            nameParam('task', 'A task name of GET /v1/tasks'),
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
          responses: {
            '200': { description: 'The prediction, the selection and its reason, and the time of each stage', content: json({ $ref: '#/components/schemas/Prediction' }) },
            ...errors(400, 404, 413, 415, 422, 503),
          },
        },
      },
      '/v1/tasks/{task}/feedback': {
        post: {
          summary: 'The true labels of answers given: stored durably, counted, and used to keep the accuracy promise',
          parameters: [nameParam('task', 'A task name of GET /v1/tasks')],
          requestBody: { required: true, content: json(feedbackBodySchema) },
          responses: {
            '202': {
              description: 'Stored (on disk) and counted',
              content: json({ type: 'object', required: ['accepted', 'duplicates'], properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' } } }),
            },
            ...errors(400, 404, 409, 413, 415, 503),
          },
        },
      },
      '/v1/tasks/{task}/quality': {
        get: {
          summary: 'What label feedback shows: realized accuracy per target band, operating point and group; the online correction; drift',
          parameters: [nameParam('task', 'A task name of GET /v1/tasks')],
          responses: { '200': { description: 'The quality report', content: json({ $ref: '#/components/schemas/Quality' }) }, ...errors(404) },
        },
      },
      '/v1/admin/reload': {
        post: {
          summary: 'Reload the zoos and premodels from disk; a broken artifact is refused and the loaded ones keep serving',
          security: [{ adminToken: [] }],
          responses: { '200': { description: 'Reloaded' }, ...errors(401, 404, 422, 503) },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'Alive' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: loaded and not shutting down',
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready' } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/v2': { get: { summary: 'Open Inference Protocol: server metadata', responses: { '200': { description: 'name, version, extensions' } } } },
      '/v2/health/live': { get: { summary: 'Open Inference Protocol: liveness', responses: { '200': { description: '{"live": true}' } } } },
      '/v2/health/ready': {
        get: { summary: 'Open Inference Protocol: readiness', responses: { '200': { description: '{"ready": true}' }, '503': { description: '{"ready": false}' } } },
      },
      '/v2/models/{name}': {
        get: {
          summary: 'Open Inference Protocol: model metadata (a task, or a zoo model as task.model or its bare id)',
          parameters: [nameParam('name', 'A task ("fashion") or a zoo model ("fashion.f", or "f" where unique)')],
          responses: {
            '200': {
              description: 'Metadata',
              content: json({
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  platform: { type: 'string' },
                  inputs: { type: 'array', items: metadataTensorSchema },
                  outputs: { type: 'array', items: metadataTensorSchema },
                },
              }),
            },
            ...v2Errors(404),
          },
        },
      },
      '/v2/models/{name}/ready': {
        get: {
          summary: 'Open Inference Protocol: model readiness',
          parameters: [nameParam('name', 'A task or a zoo model')],
          responses: { '200': { description: '{"name", "ready": true}' }, ...v2Errors(404, 503) },
        },
      },
      '/v2/models/{name}/infer': {
        post: {
          summary: 'Open Inference Protocol: inference on one FP32 tensor (a task routes through the premodel)',
          parameters: [nameParam('name', 'A task or a zoo model')],
          requestBody: { required: true, content: json(inferBodySchema) },
          responses: {
            '200': { description: 'outputs scores, class_index, label; the selection and timings as parameters' },
            ...v2Errors(400, 404, 413, 415, 422, 503),
          },
        },
      },
    },
    components: {
      schemas: { Error: errorSchema, V2Error: v2ErrorSchema, Prediction: predictionSchema, Quality: qualitySchema },
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    },
  };
}
