/**
 * The v1 REST adapter (the brief's API): list the tasks, and predict with the premodel choosing
 * the model, from JSON (base64 image or window) or from raw image bytes with the constraint in
 * the query string; a task's heads (split computing): list them, download one, and predict from
 * its bottleneck (`input.bottleneck` with `input.head`), which the head's tails answer. Thin:
 * validation here, everything else in the data plane.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import { BadRequestError, NotFoundError, UnauthorizedError, UnsupportedMediaTypeError } from '../errors/index.js';
import type { WireInput } from '../inputs/kind.js';
import { kindOfUpload, UPLOAD_TYPES } from '../inputs/registry.js';
import type { Constraint } from '../select/policy.js';
import type { ServedHead, ServedTask } from '../serve/task.js';
import { bodyReader, jsonOnly } from './body.js';
import { exchangeOf, leaseOf, sendJson } from './exchange.js';
import { taskQuality } from '../serve/quality.js';
import { admit, type AppContext } from './context.js';
import { validateFeedbackBody, validatePredictBody, validatePredictQuery } from './schemas.js';

function constraintOf(c: { minAccuracy?: number; maxLatencyMs?: number }, model: string | undefined): Constraint {
  return {
    ...(c.minAccuracy === undefined ? {} : { minAccuracy: c.minAccuracy }),
    ...(c.maxLatencyMs === undefined ? {} : { maxLatencyMs: c.maxLatencyMs }),
    ...(model === undefined ? {} : { model }),
  };
}

/** Fails fast (404) on a forced model the task does not have, before any decoding. */
function checkModel(task: ServedTask, model: string | undefined): void {
  if (model !== undefined) task.zoo.model(model);
}

/** Constant-time: hashing first gives equal lengths, so not even the token's length leaks. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The credentials of an `Authorization: Bearer <token>` header (the scheme is case-insensitive, RFC 9110). */
function bearerToken(authorization: string | undefined): string {
  const text = (authorization ?? '').trim();
  const space = text.search(/\s/);
  return space > 0 && text.slice(0, space).toLowerCase() === 'bearer' ? text.slice(space).trim() : '';
}

/** 415 for an upload of a media type that some kind takes, but not this task's. */
function refuseUpload(task: ServedTask, mediaType: string): UnsupportedMediaTypeError {
  const owner = kindOfUpload(mediaType)?.name ?? mediaType;
  return new UnsupportedMediaTypeError(
    `task "${task.name}" takes ${task.inputs.kind}s as JSON (Content-Type: application/json), not ${owner} uploads`,
  );
}

/** Where a head's ONNX file is downloaded from. */
export const headPath = (task: string, head: string) => `/v1/tasks/${encodeURIComponent(task)}/heads/${encodeURIComponent(head)}`;

/**
 * The head's ONNX file as loaded and verified: its sha256 as the ETag and as the digest of the
 * representation (RFC 9530 Repr-Digest, and the older RFC 3230 Digest), so that a device checks
 * what it got (and one holding a copy of that hash needs not download it again).
 */
function sendHead(res: express.Response, task: string, head: ServedHead): void {
  const digest = Buffer.from(head.entry.sha256, 'hex').toString('base64');
  res.setHeader('ETag', `"${head.entry.sha256}"`);
  res.setHeader('Repr-Digest', `sha-256=:${digest}:`);
  res.setHeader('Digest', `sha-256=${digest}`);
  res.setHeader('Content-Disposition', `attachment; filename="${task}-${head.id}.onnx"`);
  res.type('application/octet-stream').send(Buffer.from(head.bytes.buffer, head.bytes.byteOffset, head.bytes.byteLength));
}

export function v1Routes(ctx: AppContext): Router {
  const router = express.Router();
  const limits = { maxPixels: ctx.config.maxInputPixels };
  const body = bodyReader(ctx, ['application/json', ...UPLOAD_TYPES], `the request has no body; send JSON or an upload (${UPLOAD_TYPES.join(', ')})`);

  // The predict route first: the router tries its routes in order, and predict takes the load.
  router.post(
    '/v1/tasks/:task/predict',
    admit(ctx, 'v1_predict', (req, plane) => plane.task(String(req.params.task)).name),
    body,
    async (req, res) => {
      const exchange = exchangeOf(res);
      const lease = leaseOf(res);
      let task = lease.plane.task(String(req.params.task));
      let wire: WireInput;
      let constraint: Constraint;
      if (Buffer.isBuffer(req.body)) {
        const query = validatePredictQuery(req.query as Record<string, unknown>);
        constraint = constraintOf(query, query.model);
        checkModel(task, constraint.model);
        const mediaType = exchange.mediaType!;
        if (!task.inputs.uploadTypes.includes(mediaType)) throw refuseUpload(task, mediaType);
        wire = { form: 'upload', bytes: req.body, mediaType };
      } else {
        if (Object.keys(req.query as object).length > 0) {
          throw new BadRequestError('with a JSON body, give the constraint and model in the body, not the query string');
        }
        const body = validatePredictBody(req.body);
        const { head, ...fields } = body.input;
        // A bottleneck is answered by its head's tails, under the same constraint.
        if (typeof head === 'string') task = task.head(head);
        constraint = constraintOf(body.constraint ?? {}, body.model);
        checkModel(task, constraint.model);
        const [field, value] = Object.entries(fields)[0]!;
        wire = { form: 'json', field, value };
      }
      const prediction = await ctx.service.infer(lease, task, {
        wire,
        limits,
        constraint,
        readAtMs: exchange.readAtMs,
        waitedMs: exchange.waitedMs,
      });
      exchange.model = prediction.model;
      sendJson(res, prediction);
    },
  );

  router.get('/v1/tasks', (_req, res) => {
    res.json({ tasks: ctx.service.plane.describe() });
  });

  router.get('/v1/tasks/:task', (req, res) => {
    const name = req.params.task;
    const description = ctx.service.plane.describe().find((t) => t.task === name);
    if (description === undefined) ctx.service.plane.task(name); // throws NotFoundError listing the tasks
    res.json(description);
  });

  router.get('/v1/tasks/:task/heads', (req, res) => {
    const name = String(req.params.task);
    const heads = ctx.service.plane.describeHeads(name).map((h) => ({ ...h, download: headPath(name, h.id) }));
    res.json({ task: name, heads });
  });

  router.get('/v1/tasks/:task/heads/:head', (req, res) => {
    const task = ctx.service.plane.task(String(req.params.task));
    sendHead(res, task.name, task.headRoute(String(req.params.head)));
  });

  router.post('/v1/tasks/:task/feedback', jsonOnly(ctx), async (req, res) => {
    const feedback = ctx.feedback;
    if (feedback === undefined) throw new NotFoundError('feedback is off: start the service with FEEDBACK_DIR set to take labels');
    const task = ctx.service.plane.task(String(req.params.task));
    const items = validateFeedbackBody(req.body, feedback.options.maxBatch);
    const taken = await feedback.accept(task, items);
    ctx.metrics.feedback.inc({ task: task.name, result: 'accepted' }, taken.accepted);
    ctx.metrics.feedback.inc({ task: task.name, result: 'duplicate' }, taken.duplicates);
    res.status(202).json(taken);
  });

  router.get('/v1/tasks/:task/quality', (req, res) => {
    res.json(taskQuality(ctx.service.plane.task(String(req.params.task)), ctx.feedback?.counts));
  });

  router.post('/v1/admin/reload', async (req, res) => {
    const token = ctx.config.adminToken;
    if (token === '' || ctx.reload === undefined) {
      throw new NotFoundError('reload is off: start the service with ADMIN_TOKEN set to enable POST /v1/admin/reload');
    }
    const given = bearerToken(req.headers.authorization);
    if (given === '' || !sameToken(given, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="adaptive-zoo admin"');
      throw new UnauthorizedError('POST /v1/admin/reload needs "Authorization: Bearer <ADMIN_TOKEN>"');
    }
    const plane = await ctx.service.reload(ctx.reload);
    ctx.logger.info({ tasks: plane.tasks.map((t) => t.name) }, 'reloaded the zoos and premodels');
    res.json({ reloaded: true, tasks: plane.describe().map((t) => ({ task: t.task, models: t.models.map((m) => m.id) })) });
  });

  return router;
}
