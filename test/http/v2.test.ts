import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import sharp from 'sharp';
import { FULL_ZOO, loadPlane, postJson, request, windowArray, type TestServer, serverPerSuite } from './server.js';

const FIXTURE = 'test/fixtures/fashion/test-0-class-9.png';

/** The fixture as the preprocessed tensor of a grey 28x28 model with mean 0, std 1: pixel / 255. */
async function fixtureTensor(): Promise<number[]> {
  const { data } = await sharp(await readFile(FIXTURE)).greyscale().resize(28, 28).raw().toBuffer({ resolveWithObject: true });
  return Array.from(data, (p) => p / 255);
}

describe('http v2 (Open Inference Protocol)', function () {
  let srv: TestServer;
  // The real zoos: these tests hold the API to what fashion and har answer.
  serverPerSuite((server) => (srv = server), {}, {}, () => loadPlane(FULL_ZOO));

  it('GET /v2/health/live and /v2/health/ready', async () => {
    expect((await request(`${srv.base}/v2/health/live`)).body).to.deep.equal({ live: true });
    const ready = await request(`${srv.base}/v2/health/ready`);
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ ready: true });
  });

  it('GET /v2 gives the server metadata', async () => {
    const r = await request(`${srv.base}/v2`);
    expect(r.body).to.have.keys('name', 'version', 'extensions');
  });

  it('GET /v2/models/{task} gives the metadata of a task: name, platform, inputs and outputs', async () => {
    for (const t of srv.tasks) {
      const r = await request(`${srv.base}/v2/models/${t.task}`);
      expect(r.status).to.equal(200);
      expect(r.body).to.have.keys('name', 'versions', 'platform', 'inputs', 'outputs');
      expect(r.body.versions).to.deep.equal(['1']);
      expect(r.body.name).to.equal(t.task);
      expect(r.body.inputs).to.have.length(1);
      const input = r.body.inputs[0];
      expect(input).to.have.keys('name', 'datatype', 'shape');
      expect(input.datatype).to.equal('FP32');
      // A batch of any size: -1.
      expect(input.shape[0]).to.equal(-1);
      if (t.kind === 'window') {
        // The first model's layout: samples by channels, or channels by samples (har-acc).
        const { length, channels } = t.input as { length: number; channels: number };
        expect([[-1, length, channels], [-1, channels, length]]).to.deep.include(input.shape);
      }
      const scores = r.body.outputs.find((o: any) => o.name === 'scores');
      expect(scores).to.deep.equal({ name: 'scores', datatype: 'FP32', shape: [-1, t.classes.length] });
      for (const o of r.body.outputs) expect(o).to.have.keys('name', 'datatype', 'shape');
    }
  });

  it('GET /v2/models/{model} resolves task.model and a unique bare id; 404 lists valid names', async () => {
    const t = srv.tasks[0]!;
    const m = t.models[0]!;
    const full = await request(`${srv.base}/v2/models/${t.task}.${m.id}`);
    expect(full.status).to.equal(200);
    expect(full.body.name).to.equal(`${t.task}.${m.id}`);
    expect(full.body.platform).to.equal('onnxruntime_onnx');
    const ids = srv.tasks.flatMap((x) => x.models.map((y) => y.id));
    if (ids.filter((id) => id === m.id).length === 1) {
      expect((await request(`${srv.base}/v2/models/${m.id}`)).body.name).to.equal(`${t.task}.${m.id}`);
    }
    const missing = await request(`${srv.base}/v2/models/no-such-model`);
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.be.a('string').that.contains(t.task);
    expect((await request(`${srv.base}/v2/models/${t.task}/ready`)).body).to.deep.equal({ name: t.task, ready: true });
  });

  describe('infer on an image task', function () {
    before(function () {
      if (srv.imageTask === undefined || srv.imageTask.classes.length !== 10) this.skip();
    });

    it('routes a [1,1,28,28] FP32 tensor through the premodel, nested or flat, with an id and parameters', async () => {
      const t = srv.imageTask!;
      const meta = (await request(`${srv.base}/v2/models/${t.task}`)).body;
      expect(meta.inputs[0].shape).to.deep.equal([-1, 1, 28, 28]);
      const flat = await fixtureTensor();
      const nested = [[Array.from({ length: 28 }, (_, y) => flat.slice(y * 28, (y + 1) * 28))]];
      const replies = [];
      for (const data of [flat, nested]) {
        const r = await postJson(`${srv.base}/v2/models/${t.task}/infer`, {
          id: 'req-1',
          parameters: { minAccuracy: 0.5, maxLatencyMs: 1000 },
          inputs: [{ name: meta.inputs[0].name, shape: [1, 1, 28, 28], datatype: 'FP32', data }],
        });
        expect(r.status, r.text).to.equal(200);
        expect(r.body.model_name).to.equal(t.task);
        expect(r.body.id).to.equal('req-1');
        expect(r.body.parameters).to.include.keys('model', 'constraintMet', 'predictedAccuracy', 'predictedLatencyMs', 'reason', 'queuedMs', 'totalMs');
        const names = r.body.outputs.map((o: any) => o.name);
        expect(names).to.deep.equal(['scores', 'class_index', 'label']);
        const scores = r.body.outputs[0];
        expect(scores.shape).to.deep.equal([1, 10]);
        expect(scores.datatype).to.equal('FP32');
        expect(scores.data).to.have.length(10);
        replies.push(r.body);
      }
      expect(replies[0].outputs[0].data).to.deep.equal(replies[1].outputs[0].data);
      // The same image as a PNG through v1 answers the same (the tensor round-trips exactly).
      const v1 = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, {
        input: { image: (await readFile(FIXTURE)).toString('base64') },
        constraint: { minAccuracy: 0.5, maxLatencyMs: 1000 },
      });
      expect(v1.body.model).to.equal(replies[0].parameters.model);
      for (let i = 0; i < 10; i++) expect(replies[0].outputs[0].data[i]).to.be.closeTo(v1.body.scores[i], 1e-5);
    });

    it('runs a named zoo model, returning only the outputs asked for', async () => {
      const t = srv.imageTask!;
      const m = t.models[0]!;
      const meta = (await request(`${srv.base}/v2/models/${t.task}.${m.id}`)).body;
      expect(meta.inputs[0].shape).to.deep.equal([-1, 1, 28, 28]);
      const r = await postJson(`${srv.base}/v2/models/${t.task}.${m.id}/infer`, {
        inputs: [{ name: meta.inputs[0].name, shape: [1, 1, 28, 28], datatype: 'FP32', data: await fixtureTensor() }],
        outputs: [{ name: 'label' }],
      });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.model_name).to.equal(`${t.task}.${m.id}`);
      expect(r.body.parameters.model).to.equal(m.id);
      expect(r.body.outputs).to.have.length(1);
      expect(r.body.outputs[0]).to.deep.include({ name: 'label', datatype: 'BYTES', shape: [1] });
      expect(t.classes).to.include(r.body.outputs[0].data[0]);
      expect(r.body).not.to.have.key('id');
    });

    it('refuses wrong shapes (422), datatypes, names and outputs (400), values out of range (422)', async () => {
      const t = srv.imageTask!;
      const url = `${srv.base}/v2/models/${t.task}/infer`;
      const data = await fixtureTensor();
      const input = { name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32', data };
      const cases: [unknown, number][] = [
        [{ inputs: [{ ...input, shape: [1, 28, 28] }] }, 422],
        [{ inputs: [{ ...input, data: data.slice(1) }] }, 422],
        [{ inputs: [{ ...input, data: data.map(() => 7) }] }, 422],
        [{ inputs: [{ ...input, datatype: 'FP16' }] }, 400],
        [{ inputs: [{ ...input, shape: [0, 1, 28, 28], data: [] }] }, 422],
        [{ inputs: [{ ...input, shape: [65, 1, 28, 28] }] }, 422],
        [{ inputs: [{ name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32' }] }, 400],
        [{ inputs: [{ ...input, name: 'pixels' }] }, 400],
        [{ inputs: [{ ...input, data: ['x'] }] }, 400],
        [{ inputs: [] }, 400],
        [{ inputs: [input], outputs: [{ name: 'logits' }] }, 400],
        [{ inputs: [input], parameters: { minAccuracy: 3 } }, 400],
      ];
      for (const [body, status] of cases) {
        const r = await postJson(url, body);
        expect(r.status, r.text).to.equal(status);
        expect(r.body.error).to.be.a('string');
      }
      const notJson = await request(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
      expect(notJson.status).to.equal(415);
      const garbage = await request(url, { method: 'POST', body: new Uint8Array(Buffer.from('not json')) });
      expect(garbage.status).to.equal(400);
    });
  });

  describe('infer on a window task', function () {
    before(function () {
      if (srv.windowTask === undefined) this.skip();
    });

    it('routes a [1,128,6] window tensor through the premodel and runs a named model', async () => {
      const t = srv.windowTask!;
      const window = windowArray(128, 6);
      const r = await postJson(`${srv.base}/v2/models/${t.task}/infer`, {
        parameters: { maxLatencyMs: 1000 },
        inputs: [{ name: 'window', shape: [1, 128, 6], datatype: 'FP32', data: [window] }],
      });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.outputs[0].shape).to.deep.equal([1, t.classes.length]);
      const v1 = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { input: { window }, constraint: { maxLatencyMs: 1000 } });
      expect(v1.body.model).to.equal(r.body.parameters.model);
      expect(v1.body.classIndex).to.equal(r.body.outputs[1].data[0]);
      const m = t.models[0]!;
      const named = await postJson(`${srv.base}/v2/models/${t.task}.${m.id}/infer`, {
        inputs: [{ name: 'window', shape: [1, 128, 6], datatype: 'FP32', data: window.flat() }],
      });
      expect(named.status, named.text).to.equal(200);
      expect(named.body.parameters.model).to.equal(m.id);
    });
  });
});
