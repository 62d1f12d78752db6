/**
 * Request validation over generated input (fast-check): whatever JSON or query string arrives, the
 * validators either accept it or raise the catalogue's BadRequestError, and the API answers a 4xx
 * with a JSON error, never a 5xx; generated valid requests are served (200).
 */
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import fc from 'fast-check';
import sharp from 'sharp';
import { BadRequestError } from '../../src/errors/index.js';
import { validateInferBody, validatePredictBody, validatePredictQuery } from '../../src/http/schemas.js';
import {
  SAMPLE_PNG,
  expectError,
  expectV2Error,
  postBytes,
  postJson,
  serverPerSuite,
  type TestServer,
  windowShape,
} from './server.js';

const CLIENT_ERRORS = [400, 404, 413, 415, 422];

/** Any JSON value, biased towards the request's own field names so that some get past the first check. */
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(
      fc.constantFrom('input', 'image', 'window', 'constraint', 'minAccuracy', 'maxLatencyMs', 'model', 'inputs', 'name', 'shape', 'datatype', 'data', 'parameters', 'outputs', '__proto__'),
      tie('value'),
      { maxKeys: 4 },
    ),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
})).value;

/** Throws only what the catalogue says a validator may throw. */
function validatesOrRefuses(validate: () => unknown): void {
  try {
    validate();
  } catch (err) {
    expect(err).to.be.instanceOf(BadRequestError);
  }
}

describe('http validation properties', function () {
  it('the validators accept a value or refuse it with BadRequestError, nothing else', () => {
    fc.assert(
      fc.property(jsonish, (value) => {
        validatesOrRefuses(() => validatePredictBody(value));
        validatesOrRefuses(() => validateInferBody(value));
      }),
      { numRuns: 500 },
    );
    const query = fc.dictionary(fc.constantFrom('minAccuracy', 'maxLatencyMs', 'model', '__proto__', 'x'), fc.oneof(fc.string(), fc.array(fc.string())));
    fc.assert(fc.property(query, (q) => validatesOrRefuses(() => validatePredictQuery(q))), { numRuns: 500 });
  });

  describe('over HTTP', () => {
    let srv: TestServer;
    let image: NonNullable<TestServer['imageTask']>;
    let window: NonNullable<TestServer['windowTask']>;
    serverPerSuite((server) => (srv = server));
    before(function () {
      if (srv.imageTask === undefined || srv.windowTask === undefined) this.skip();
      image = srv.imageTask;
      window = srv.windowTask;
    });

    it('any JSON body gets a 4xx JSON error, a prediction, or a shed 503, never another 5xx', async () => {
      const target = fc.constantFrom(
        `${srv.base}/v1/tasks/${image.task}/predict`,
        `${srv.base}/v1/tasks/${window.task}/predict`,
        `${srv.base}/v2/models/${window.task}/infer`,
      );
      await fc.assert(
        fc.asyncProperty(target, jsonish, async (url, body) => {
          const r = await postJson(url, body);
          if (r.status === 200) return;
          // A valid budget that the load of the moment leaves no model able to meet is shed: 503, with its error.
          if (r.status === 503) return url.includes('/v2/') ? expectV2Error(r, 503) : expectError(r, 503, 'OVERLOADED');
          expect(CLIENT_ERRORS).to.include(r.status);
          if (url.includes('/v2/')) expectV2Error(r, r.status);
          else expectError(r, r.status, r.body.error.code);
        }),
        { numRuns: 150 },
      );
    });

    it('any query string on an upload gets a 400 JSON error or a prediction', async () => {
      const sample = await readFile(SAMPLE_PNG);
      const key = fc.oneof(fc.constantFrom('minAccuracy', 'maxLatencyMs', 'model'), fc.string({ maxLength: 8 }));
      const value = fc.oneof(fc.string({ maxLength: 8 }), fc.double().map(String), fc.constantFrom('NaN', 'Infinity', '1e999', '0x10', '-0', ''));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 3 }), async (pairs) => {
          const query = new URLSearchParams(pairs).toString();
          const r = await postBytes(`${srv.base}/v1/tasks/${image.task}/predict?${query}`, sample, 'image/png');
          // A valid budget that the load of the moment leaves no model able to meet is shed (503), not refused.
          const budgeted = new URLSearchParams(query).has('maxLatencyMs');
          if (r.status === 503 && budgeted) return expectError(r, 503, 'OVERLOADED');
          if (r.status !== 200) expectError(r, r.status, r.body.error.code);
          expect(r.status, query).to.be.oneOf([200, 400, 404]);
        }),
        { numRuns: 100 },
      );
    });

    it('any valid window with any valid constraint is served', async () => {
      const { length, channels } = windowShape(window);
      const sample = fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: channels, maxLength: channels });
      const windowArb = fc.array(sample, { minLength: length, maxLength: length });
      const constraint = fc.record(
        { minAccuracy: fc.double({ min: 0, max: 1, noNaN: true }), maxLatencyMs: fc.double({ min: Number.MIN_VALUE, max: 1e6, noNaN: true }) },
        { requiredKeys: [] },
      );
      const model = fc.option(fc.constantFrom(...window.models.map((m) => m.id)), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(windowArb, constraint, model, async (w, c, m) => {
          const r = await postJson(`${srv.base}/v1/tasks/${window.task}/predict`, { input: { window: w }, constraint: c, ...(m === undefined ? {} : { model: m }) });
          // A budget that the current load makes unreachable is shed (fast 503), not answered late.
          if (r.status === 503 && c.maxLatencyMs !== undefined) return expectError(r, 503, 'OVERLOADED');
          expect(r.status, r.text).to.equal(200);
          if (m !== undefined) expect(r.body.model).to.equal(m);
          expect(window.classes).to.include(r.body.label);
        }),
        { numRuns: 40 },
      );
    });

    it('any small image in any accepted format, grey or colour, with or without alpha, uploaded or in base64, is served', async () => {
      const picture = fc.record({
        width: fc.integer({ min: 1, max: 48 }),
        height: fc.integer({ min: 1, max: 48 }),
        channels: fc.constantFrom<1 | 2 | 3 | 4>(1, 2, 3, 4),
        format: fc.constantFrom('png', 'jpeg', 'webp'),
        stride: fc.integer({ min: 1, max: 255 }),
        base64: fc.boolean(),
      });
      const url = `${srv.base}/v1/tasks/${image.task}/predict`;
      await fc.assert(
        fc.asyncProperty(picture, async ({ width, height, channels, format, stride, base64 }) => {
          const pixels = Buffer.alloc(width * height * channels).map((_, i) => (i * stride) % 256);
          const bytes = await sharp(pixels, { raw: { width, height, channels } }).toFormat(format).toBuffer();
          const r = base64 ? await postJson(url, { input: { image: bytes.toString('base64') } }) : await postBytes(url, bytes, `image/${format}`);
          expect(r.status, r.text).to.equal(200);
          expect(r.body.scores).to.have.length(image.classes.length);
        }),
        { numRuns: 30 },
      );
    });
  });
});
