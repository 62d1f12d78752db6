import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import {
  expectError,
  heldRequest,
  postBytes,
  postJson,
  request,
  startServer,
  syntheticImage,
  until,
  SAMPLE_PNG,
  validPredictBody,
  windowArray,
  windowShape,
  type TestServer,
} from './server.js';

describe('http errors and limits', function () {
  let srv: TestServer;
  let predictUrl: string;
  before(async () => {
    srv = await startServer({ maxBodyBytes: 64 * 1024, maxInputPixels: 100 * 100 });
    predictUrl = `${srv.base}/v1/tasks/${srv.tasks[0]!.task}/predict`;
  });
  after(async () => {
    await srv.close();
  });

  it('400 for malformed JSON', async () => {
    const r = await request(predictUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": ' });
    expectError(r, 400, 'BAD_REQUEST', /not valid JSON/);
  });

  it('400 for wrong types, missing or unknown fields, constraints out of range', async () => {
    const bad = [
      {},
      { input: 'x' },
      { input: { image: 42 } },
      { input: { image: 'aGVsbG8=', window: [] } },
      { input: { window: [['a', 'b']] } },
      { input: { window: [] }, constraint: { minAccuracy: 1.5 } },
      { input: { window: [] }, constraint: { maxLatencyMs: 0 } },
      { input: { window: [] }, constraint: { maxLatencyMs: '2' } },
      { input: { window: [] }, constraint: { speed: 1 } },
      { input: { window: [] }, extra: true },
      { input: { window: [] }, model: 7 },
      [1, 2],
    ];
    for (const body of bad) expectError(await postJson(predictUrl, body), 400, 'BAD_REQUEST');
  });

  it('400 for an empty body and for invalid base64', async () => {
    expectError(await request(predictUrl, { method: 'POST' }), 400, 'BAD_REQUEST', /no body/);
    if (srv.imageTask) {
      const url = `${srv.base}/v1/tasks/${srv.imageTask.task}/predict`;
      expectError(await postJson(url, { input: { image: '***not base64***' } }), 400, 'BAD_REQUEST', /base64/);
    }
  });

  it('400 for a bad query string on an upload, or a query string with a JSON body', async () => {
    if (!srv.imageTask) return;
    const url = `${srv.base}/v1/tasks/${srv.imageTask.task}/predict`;
    const png = await readFile(SAMPLE_PNG);
    for (const q of ['?minAccuracy=high', '?minAccuracy=2', '?maxLatencyMs=-1', '?speed=1', '?minAccuracy=0.5&minAccuracy=0.6']) {
      expectError(await postBytes(url + q, png, 'image/png'), 400, 'BAD_REQUEST');
    }
    expectError(await postJson(`${url}?minAccuracy=0.5`, { input: { image: png.toString('base64') } }), 400, 'BAD_REQUEST', /query/);
  });

  it('404 for an unknown task, listing the valid ones', async () => {
    const r = await postJson(`${srv.base}/v1/tasks/no-such-task/predict`, { input: { window: [] } });
    expectError(r, 404, 'NOT_FOUND');
    for (const t of srv.tasks) expect(r.body.error.message).to.contain(t.task);
  });

  it('404 for an unknown model, listing the task\'s models', async () => {
    const t = srv.imageTask ?? srv.windowTask!;
    const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { ...(await validPredictBody(t)), model: 'no-such-model' });
    expectError(r, 404, 'NOT_FOUND');
    for (const m of t.models) expect(r.body.error.message).to.contain(m.id);
  });

  it('404 for an unknown route', async () => {
    expectError(await request(`${srv.base}/v1/nothing`), 404, 'NOT_FOUND', /openapi/);
  });

  it('415 for an unsupported content type', async () => {
    const r = await request(predictUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json/);
    expectError(await postBytes(predictUrl, Buffer.from('GIF89a'), 'image/gif'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('415 for an image upload to a window task', async function () {
    if (!srv.windowTask) this.skip();
    const r = await postBytes(`${srv.base}/v1/tasks/${srv.windowTask!.task}/predict`, await readFile(SAMPLE_PNG), 'image/png');
    expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('413 for a body over MAX_BODY_BYTES, JSON or image', async () => {
    const big = Buffer.alloc(100 * 1024, 1);
    expectError(await postBytes(predictUrl, big, 'image/png'), 413, 'PAYLOAD_TOO_LARGE', /65536/);
    const r = await postJson(predictUrl, { input: { image: big.toString('base64') } });
    expectError(r, 413, 'PAYLOAD_TOO_LARGE', /MAX_BODY_BYTES/);
  });

  it('413 for an image over MAX_INPUT_PIXELS', async function () {
    if (!srv.imageTask) this.skip();
    const png = await syntheticImage(200, 200);
    const r = await postBytes(`${srv.base}/v1/tasks/${srv.imageTask!.task}/predict`, png, 'image/png');
    expectError(r, 413, 'PAYLOAD_TOO_LARGE', /200x200/);
  });

  it('422 for a broken image', async function () {
    if (!srv.imageTask) this.skip();
    const url = `${srv.base}/v1/tasks/${srv.imageTask!.task}/predict`;
    const png = await readFile(SAMPLE_PNG);
    expectError(await postBytes(url, Buffer.from('definitely not a png'), 'image/png'), 422, 'INVALID_INPUT');
    expectError(await postBytes(url, png.subarray(0, 60), 'image/png'), 422, 'INVALID_INPUT');
    expectError(await postJson(url, { input: { image: Buffer.from('nope').toString('base64') } }), 422, 'INVALID_INPUT');
  });

  it('422 for a window of the wrong shape, and for a window sent to an image task', async function () {
    if (srv.windowTask) {
      const url = `${srv.base}/v1/tasks/${srv.windowTask.task}/predict`;
      const { length, channels } = windowShape(srv.windowTask);
      expectError(await postJson(url, { input: { window: windowArray(length + 7, channels) } }), 422, 'INVALID_INPUT', new RegExp(`${length + 7} samples`));
      expectError(await postJson(url, { input: { window: windowArray(length, channels + 1) } }), 422, 'INVALID_INPUT', new RegExp(`${channels} numbers`));
      expectError(await postJson(url, { input: { image: 'aGVsbG8=' } }), 422, 'INVALID_INPUT', /windows/);
    }
    if (srv.imageTask) {
      const url = `${srv.base}/v1/tasks/${srv.imageTask.task}/predict`;
      expectError(await postJson(url, { input: { window: windowArray(8, 3) } }), 422, 'INVALID_INPUT', /images/);
    }
  });

  it('500 for an internal fault, with no stack trace or path in the body', async () => {
    const plane = srv.app.service.plane;
    const task = plane.task(srv.tasks[0]!.task);
    const original = task.predict;
    task.predict = () => Promise.reject(new Error('onnxruntime exploded at /secret/path/model.onnx'));
    try {
      const r = await postJson(predictUrl, await validPredictBody(srv.tasks[0]!));
      expectError(r, 500, 'INTERNAL');
      expect(r.text).not.to.contain('/secret');
      expect(r.text).not.to.contain('at ');
      expect(r.body.error.message).to.contain(r.headers.get('x-request-id')!);
    } finally {
      task.predict = original;
    }
  });
});

describe('http load shedding', function () {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ maxInFlight: 1, retryAfterS: 3 });
  });
  after(async () => {
    await srv.close();
  });

  it('503 with Retry-After when more than MAX_IN_FLIGHT requests are in flight', async function () {
    const t = srv.imageTask ?? srv.windowTask!;
    const url = `${srv.base}/v1/tasks/${t.task}/predict`;
    const body = JSON.stringify(await validPredictBody(t));
    const held = heldRequest(url, Buffer.from(body), 'application/json');
    await until(() => srv.app.service.requestsInFlight === 1);
    const r = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expectError(r, 503, 'OVERLOADED', /MAX_IN_FLIGHT/);
    expect(r.headers.get('retry-after')).to.equal('3');
    const first = await held.finish();
    expect(first.status, first.body).to.equal(200);
    await until(() => srv.app.service.requestsInFlight === 0);
    expect((await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).to.equal(200);
    const metrics = await request(`${srv.base}/metrics`);
    expect(metrics.text).to.match(/adaptive_zoo_requests_rejected_total\{reason="overloaded"\} 1/);
  });
});
