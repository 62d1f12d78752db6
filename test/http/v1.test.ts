import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { FULL_ZOO, loadPlane, postBytes, postJson, request, SAMPLE_PNG, syntheticImage, windowArray, type TestServer, serverPerSuite } from './server.js';

/** Checks a 200 body against the brief's contract. */
function expectPrediction(body: any, task: { task: string; classes: string[]; models: { id: string }[] }): void {
  expect(body).to.include.keys('task', 'model', 'label', 'classIndex', 'scores', 'selection', 'timing');
  expect(body.task).to.equal(task.task);
  expect(task.models.map((m) => m.id)).to.include(body.model);
  expect(body.scores).to.have.length(task.classes.length);
  const sum = (body.scores as number[]).reduce((a, b) => a + b, 0);
  expect(sum).to.be.closeTo(1, 1e-3);
  expect(body.label).to.equal(task.classes[body.classIndex]);
  const s = body.selection;
  expect(s).to.include.keys('constraintMet', 'predictedAccuracy', 'predictedLatencyMs', 'candidates', 'reason');
  expect(s.constraintMet).to.be.a('boolean');
  expect(s.reason).to.be.a('string').and.not.equal('');
  for (const c of s.candidates) expect(c).to.have.keys('model', 'pCorrect', 'latencyMs');
  for (const k of ['queuedMs', 'decodeMs', 'featuresMs', 'selectMs', 'inferenceMs', 'totalMs']) {
    expect(body.timing[k], k).to.be.a('number').and.at.least(0);
  }
  expect(body.timing.totalMs).to.be.at.least(body.timing.inferenceMs);
}

describe('http v1', function () {
  let srv: TestServer;
  // The real zoos: these tests hold the API to what fashion and har answer.
  serverPerSuite((server) => (srv = server), {}, {}, () => loadPlane(FULL_ZOO));

  it('GET /v1/tasks lists tasks with models (id, method, accuracy, latency, size) and classes', async () => {
    const r = await request(`${srv.base}/v1/tasks`);
    expect(r.status).to.equal(200);
    expect(r.body.tasks).to.be.an('array').that.is.not.empty;
    for (const t of r.body.tasks) {
      expect(t).to.include.keys('task', 'kind', 'classes', 'models');
      for (const m of t.models) expect(m).to.include.keys('id', 'method', 'accuracy', 'latencyMs', 'bytes');
    }
  });

  it('GET /v1/tasks/{task} describes one task, 404 for an unknown one', async () => {
    const name = srv.tasks[0]!.task;
    expect((await request(`${srv.base}/v1/tasks/${name}`)).body.task).to.equal(name);
    expect((await request(`${srv.base}/v1/tasks/no-such-task`)).status).to.equal(404);
  });

  describe('image task', function () {
    before(function () {
      if (srv.imageTask === undefined) this.skip();
    });

    it('predicts from raw PNG bytes', async () => {
      const t = srv.imageTask!;
      const r = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict`, await readFile(SAMPLE_PNG), 'image/png');
      expect(r.status, r.text).to.equal(200);
      expectPrediction(r.body, t);
    });

    it('predicts from synthetic JPEG and WebP colour images of another size', async () => {
      const t = srv.imageTask!;
      for (const [format, type] of [['jpeg', 'image/jpeg'], ['webp', 'image/webp']] as const) {
        const r = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict`, await syntheticImage(64, 48, format), type);
        expect(r.status, r.text).to.equal(200);
        expectPrediction(r.body, t);
      }
    });

    it('predicts from a base64 image in JSON, with a data: URL prefix too', async () => {
      const t = srv.imageTask!;
      const b64 = (await readFile(SAMPLE_PNG)).toString('base64');
      for (const image of [b64, `data:image/png;base64,${b64}`]) {
        const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { image } });
        expect(r.status, r.text).to.equal(200);
        expectPrediction(r.body, t);
      }
    });

    it('gives the same answer for the same image as bytes and as base64', async () => {
      const t = srv.imageTask!;
      const png = await readFile(SAMPLE_PNG);
      const a = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict`, png, 'image/png');
      const b = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { image: png.toString('base64') } });
      expect(a.body.model).to.equal(b.body.model);
      expect(a.body.scores).to.deep.equal(b.body.scores);
    });

    it('takes each constraint form in the query string of an upload', async () => {
      const t = srv.imageTask!;
      const png = await readFile(SAMPLE_PNG);
      for (const q of ['', '?minAccuracy=0.5', '?maxLatencyMs=1000', '?minAccuracy=0.5&maxLatencyMs=1000']) {
        const r = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict${q}`, png, 'image/png');
        expect(r.status, `${q}: ${r.text}`).to.equal(200);
        expectPrediction(r.body, t);
      }
    });

    it('forces a model named in the query string or the body', async () => {
      const t = srv.imageTask!;
      const png = await readFile(SAMPLE_PNG);
      for (const m of t.models) {
        const a = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict?model=${encodeURIComponent(m.id)}`, png, 'image/png');
        expect(a.status, a.text).to.equal(200);
        expect(a.body.model).to.equal(m.id);
        expect(a.body.selection.reason).to.contain('forced');
        const b = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { image: png.toString('base64') }, model: m.id });
        expect(b.body.model).to.equal(m.id);
      }
    });
  });

  describe('window task', function () {
    before(function () {
      if (srv.windowTask === undefined) this.skip();
    });

    it('predicts from a JSON window with each constraint form', async () => {
      const t = srv.windowTask!;
      const window = windowArray(128, 6);
      // Budgets roomy enough that a busy test machine does not shed them.
      const constraints = [undefined, { minAccuracy: 0.9 }, { maxLatencyMs: 50 }, { minAccuracy: 0.9, maxLatencyMs: 50 }, {}];
      for (const constraint of constraints) {
        const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window }, ...(constraint ? { constraint } : {}) });
        expect(r.status, r.text).to.equal(200);
        expectPrediction(r.body, t);
      }
    });

    it('keeps a hard latency bound: the chosen model fits, or the fastest with constraintMet false', async () => {
      const t = srv.windowTask!;
      const latencies = t.models.filter((m) => m.routed && m.latencyMs).map((m) => m.latencyMs!.p50);
      const fastest = Math.min(...latencies);
      // A hundredth of the fastest model's profiled p50: no machine runs it that fast.
      const tight = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window: windowArray(128, 6) }, constraint: { maxLatencyMs: fastest / 100 } });
      expect(tight.status).to.equal(200);
      expect(tight.body.selection.constraintMet).to.equal(false);
      expect(t.models.find((m) => m.id === tight.body.model)!.latencyMs!.p50).to.equal(fastest);
      const roomy = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window: windowArray(128, 6) }, constraint: { maxLatencyMs: 1000 } });
      expect(roomy.body.selection.predictedLatencyMs).to.be.at.most(1000);
    });

    it('predicts from a raw float32 window (application/octet-stream) as from JSON, constraint in the query string', async () => {
      const t = srv.windowTask!;
      const window = windowArray(128, 6);
      const json = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window }, constraint: { minAccuracy: 0.9 } });
      const bytes = Buffer.from(Float32Array.from(window.flat()).buffer);
      expect(bytes.length).to.equal(128 * 6 * 4);
      const raw = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict?minAccuracy=0.9`, bytes, 'application/octet-stream');
      expect(raw.status, raw.text).to.equal(200);
      expect(raw.body.model).to.equal(json.body.model);
      expect(raw.body.scores).to.deep.equal(json.body.scores);
      const short = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict`, bytes.subarray(4), 'application/octet-stream');
      expect(short.status).to.equal(422);
      expect(short.body.error.message).to.contain('3068 bytes');
      const nan = Buffer.from(bytes);
      nan.writeFloatLE(Number.NaN, 8);
      expect((await postBytes(`${srv.base}/v1/tasks/${t.task}/predict`, nan, 'application/octet-stream')).status).to.equal(422);
      // An image task takes no raw windows.
      const onImages = await postBytes(`${srv.base}/v1/tasks/${srv.imageTask!.task}/predict`, bytes, 'application/octet-stream');
      expect(onImages.status).to.equal(415);
    });

    it('forces a model named in the body', async () => {
      const t = srv.windowTask!;
      const m = t.models[t.models.length - 1]!;
      const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window: windowArray(128, 6, 'still') }, model: m.id });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.model).to.equal(m.id);
      expect(r.body.selection.ran).to.deep.equal([m.id]);
    });
  });
});
