import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FeedbackService } from '../../src/feedback/index.js';
import { base64, TINY_HEAD, tinyBottlenecks } from '../helpers/bottleneck.js';
import { expectError, loadPlane, postJson, request, serverPerSuite, startServer, TINY_ZOO, windowArray, type TestServer } from './server.js';

const predict = (srv: TestServer, task: string, body: unknown) => postJson(`${srv.base}/v1/tasks/${task}/predict`, body);
const infer = (srv: TestServer, task: string, body: unknown) => postJson(`${srv.base}/v2/models/${task}/infer`, body);

/** A v2 error: the protocol's `{"error": "..."}`. */
function expectV2Error(r: Awaited<ReturnType<typeof infer>>, status: number, message: RegExp): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.body.error).to.match(message);
}

describe('http: heads (split computing)', () => {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));
  const { codes } = tinyBottlenecks(8);
  const body = (c: Uint8Array, extra: object = {}) => ({ input: { bottleneck: base64(c), head: TINY_HEAD.id }, ...extra });

  it('GET /v1/tasks/{task}/heads lists each head: what it takes and sends, its file, its tails', async () => {
    const r = await request(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads`);
    expect(r.status).to.equal(200);
    const manifest = JSON.parse(await readFile(path.join(TINY_HEAD.dir, 'manifest.json'), 'utf8'));
    const [head] = r.body.heads;
    expect(r.body.heads).to.have.length(1);
    expect(head).to.include({ id: TINY_HEAD.id, parent: 'motion', sha256: manifest.head.sha256, bytes: manifest.head.bytes, served: true, bytesPerRequest: 6, inputBytesPerRequest: 40 * 3 * 4 });
    expect(head.download).to.equal(`/v1/tasks/${TINY_HEAD.task}/heads/${TINY_HEAD.id}`);
    expect(head.bottleneck).to.deep.equal({ name: 'bottleneck', shape: [2, 3], dtype: 'uint8', scale: manifest.head.bottleneck.scale, zeroPoint: manifest.head.bottleneck.zeroPoint });
    expect(head.input.preprocessing.type).to.equal('window');
    expect(head.tails.map((t: { id: string }) => t.id)).to.deep.equal(TINY_HEAD.tails);
    expect(head.tails[0].accuracy.test).to.be.a('number');
    // The task names its heads; a task without any lists none.
    expect((await request(`${srv.base}/v1/tasks/${TINY_HEAD.task}`)).body.heads).to.deep.equal([{ id: TINY_HEAD.id, served: true }]);
    expect((await request(`${srv.base}/v1/tasks/tiny-image/heads`)).body.heads).to.deep.equal([]);
    expectError(await request(`${srv.base}/v1/tasks/nope/heads`), 404, 'NOT_FOUND', /the tasks are/);
  });

  it('GET /v1/tasks/{task}/heads/{id} downloads the head: its sha256 is the manifest\'s, the listing\'s, the ETag and the digest', async () => {
    const res = await fetch(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads/${TINY_HEAD.id}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const listed = (await request(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads`)).body.heads[0];
    const digest = createHash('sha256').update(bytes).digest();
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/octet-stream');
    expect(Number(res.headers.get('content-length'))).to.equal(bytes.length);
    expect(digest.toString('hex')).to.equal(listed.sha256);
    expect(bytes.equals(await readFile(path.join(TINY_HEAD.dir, 'head.onnx')))).to.equal(true);
    expect(res.headers.get('etag')).to.equal(`"${listed.sha256}"`);
    expect(res.headers.get('repr-digest')).to.equal(`sha-256=:${digest.toString('base64')}:`);
    expect(res.headers.get('digest')).to.equal(`sha-256=${digest.toString('base64')}`);
    expectError(await request(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads/nope`), 404, 'NOT_FOUND', /no head "nope"; its heads are: motion-bn/);
    expectError(await request(`${srv.base}/v1/tasks/tiny-image/heads/motion-bn`), 404, 'NOT_FOUND', /task "tiny-image" has no heads/);
  });

  it('predicts from a bottleneck: the head\'s tails answer, routed under the constraint', async () => {
    const cheap = await predict(srv, TINY_HEAD.task, body(codes[0]!, { constraint: { minAccuracy: 0 } }));
    expect(cheap.status).to.equal(200);
    expect(cheap.body.task).to.equal(TINY_HEAD.task);
    expect(TINY_HEAD.tails).to.include(cheap.body.model);
    expect(cheap.body.selection.ran[0]).to.equal('tail-x');
    expect(cheap.body.scores).to.have.length(3);
    expect(cheap.body.timing).to.have.keys('queuedMs', 'decodeMs', 'featuresMs', 'selectMs', 'inferenceMs', 'totalMs');
    const best = await predict(srv, TINY_HEAD.task, body(codes[0]!, { constraint: { minAccuracy: 1 } }));
    expect(best.body.selection.ran).to.include('tail-all');
    expect(best.body.selection.constraintMet).to.equal(false);
    const forced = await predict(srv, TINY_HEAD.task, body(codes[1]!, { model: 'tail-all' }));
    expect(forced.body.model).to.equal('tail-all');
    expect(forced.body.selection.ran).to.deep.equal(['tail-all']);
    // A tail is no model of the task's own zoo, nor the reverse.
    expectError(await predict(srv, TINY_HEAD.task, { input: { window: windowArray(40, 3) }, model: 'tail-all' }), 404, 'NOT_FOUND', /no model "tail-all"/);
    expectError(await predict(srv, TINY_HEAD.task, body(codes[1]!, { model: 'motion' })), 404, 'NOT_FOUND', /no model "motion"; its models are: tail-x, tail-all/);
  });

  it('refuses a bottleneck of the wrong size, bad base64, an unknown head, a head on a task without heads, a head without a bottleneck', async () => {
    expectError(await predict(srv, TINY_HEAD.task, body(new Uint8Array(24))), 422, 'INVALID_INPUT', /24 bytes; this head's bottleneck \[2, 3\] of uint8 takes 6 \(float32 values\?/);
    expectError(await predict(srv, TINY_HEAD.task, body(new Uint8Array(5))), 422, 'INVALID_INPUT', /5 bytes/);
    expectError(await predict(srv, TINY_HEAD.task, { input: { bottleneck: 'not base64!', head: TINY_HEAD.id } }), 400, 'BAD_REQUEST', /input.bottleneck is not valid base64/);
    expectError(await predict(srv, TINY_HEAD.task, { input: { bottleneck: base64(codes[0]!), head: 'nope' } }), 404, 'NOT_FOUND', /no head "nope"; its heads are: motion-bn/);
    expectError(await predict(srv, 'tiny-image', { input: { bottleneck: base64(codes[0]!), head: TINY_HEAD.id } }), 404, 'NOT_FOUND', /task "tiny-image" has no heads \(split computing\): send it images/);
    expectError(await predict(srv, TINY_HEAD.task, { input: { bottleneck: base64(codes[0]!) } }), 400, 'BAD_REQUEST', /required property 'head'/);
    expectError(await predict(srv, TINY_HEAD.task, { input: { window: windowArray(40, 3), head: TINY_HEAD.id } }), 400, 'BAD_REQUEST', /required property 'bottleneck'/);
  });

  it('v2: a UINT8 tensor "bottleneck" with parameters.head (the request\'s or the input\'s); FP32 or no head refused', async () => {
    const tensor = (c: Uint8Array[], datatype = 'UINT8', parameters: object = {}) => ({ name: 'bottleneck', shape: [c.length, 2, 3], datatype, data: c.flatMap((x) => Array.from(x)), parameters });
    const r = await infer(srv, TINY_HEAD.task, { parameters: { head: TINY_HEAD.id, minAccuracy: 0 }, inputs: [tensor([codes[0]!, codes[1]!])] });
    expect(r.status).to.equal(200);
    expect(r.body.parameters).to.include({ routing: 'premodel', head: TINY_HEAD.id, batch: 2 });
    expect(r.body.outputs.find((o: { name: string }) => o.name === 'scores').shape).to.deep.equal([2, 3]);
    const v1 = await predict(srv, TINY_HEAD.task, body(codes[0]!, { constraint: { minAccuracy: 0 } }));
    const one = await infer(srv, TINY_HEAD.task, { parameters: { minAccuracy: 0 }, inputs: [tensor([codes[0]!], 'UINT8', { head: TINY_HEAD.id })] });
    expect(one.body.outputs.find((o: { name: string }) => o.name === 'class_index').data).to.deep.equal([v1.body.classIndex]);
    expectV2Error(await infer(srv, TINY_HEAD.task, { parameters: { head: TINY_HEAD.id }, inputs: [tensor([codes[0]!], 'FP32')] }), 400, /uint8 bottleneck: send datatype UINT8 \[N, 2, 3\], not FP32/);
    expectV2Error(await infer(srv, TINY_HEAD.task, { parameters: { head: TINY_HEAD.id }, inputs: [{ ...tensor([codes[0]!]), data: [1, 2, 300, 4, 5, 6] }] }), 400, /integers from 0 to 255/);
    expectV2Error(await infer(srv, TINY_HEAD.task, { inputs: [tensor([codes[0]!])] }), 400, /parameters.head \(heads: motion-bn\)/);
    expectV2Error(await infer(srv, TINY_HEAD.task, { parameters: { head: 'nope' }, inputs: [tensor([codes[0]!])] }), 404, /its heads are: motion-bn/);
    expectV2Error(await infer(srv, TINY_HEAD.task, { parameters: { head: TINY_HEAD.id }, inputs: [{ name: 'bottleneck', shape: [1, 6], datatype: 'UINT8', data: Array.from(codes[0]!) }] }), 422, /takes \[N, 2, 3\]/);
  });
});

describe('http: heads, label feedback and a head without a premodel', () => {
  it("takes labels for a head's answers into its tails' quality, not the task's", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-heads-'));
    const feedback = await FeedbackService.open({ dir, replica: 'test', key: 'a key of sixteen characters or more', maxBatch: 10, maxBytes: 1 << 20 });
    const srv = await startServer({}, { feedback }, () => loadPlane(TINY_ZOO, { signer: feedback.signer }));
    try {
      const { codes, labels } = tinyBottlenecks(3);
      const items = [];
      for (const [i, c] of codes.entries()) {
        const r = await predict(srv, TINY_HEAD.task, { input: { bottleneck: base64(c), head: TINY_HEAD.id } });
        items.push({ requestId: r.body.requestId, classIndex: labels[i]! });
      }
      const taken = await postJson(`${srv.base}/v1/tasks/${TINY_HEAD.task}/feedback`, items);
      expect(taken.status).to.equal(202);
      expect(taken.body).to.deep.equal({ accepted: 3, duplicates: 0 });
      const task = srv.app.service.plane.task(TINY_HEAD.task);
      expect(task.head(TINY_HEAD.id).quality.snapshot().labelled).to.equal(3);
      expect(task.quality.snapshot().labelled).to.equal(0);
      // Issued for the head of tiny-window: another task refuses it.
      expectError(await postJson(`${srv.base}/v1/tasks/tiny-image/feedback`, items[0]), 400, 'BAD_REQUEST', /issued by head "motion-bn" of task "tiny-window", not by task "tiny-image"/);
    } finally {
      await srv.close();
      await feedback.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists a head without a premodel and serves its file, but refuses its bottlenecks (503) saying how to train it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-heads-'));
    await cp(TINY_ZOO.zooDir, path.join(root, 'zoo'), { recursive: true });
    await cp(TINY_ZOO.premodelDir, path.join(root, 'premodel'), { recursive: true, filter: (src) => !src.includes('heads') });
    const srv = await startServer({}, {}, () => loadPlane({ zooDir: path.join(root, 'zoo'), premodelDir: path.join(root, 'premodel') }));
    try {
      const [head] = (await request(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads`)).body.heads;
      expect(head).to.include({ id: TINY_HEAD.id, served: false });
      expect(head.unavailable).to.match(/has no premodel yet .*npm run train-premodel -- --task tiny-window --head motion-bn/);
      expect((await fetch(`${srv.base}/v1/tasks/${TINY_HEAD.task}/heads/${TINY_HEAD.id}`)).status).to.equal(200);
      const [codes] = tinyBottlenecks(1).codes;
      expectError(await predict(srv, TINY_HEAD.task, { input: { bottleneck: base64(codes!), head: TINY_HEAD.id } }), 503, 'UNAVAILABLE', /has no premodel yet/);
      // The task's own route serves on.
      expect((await predict(srv, TINY_HEAD.task, { input: { window: windowArray(40, 3) } })).status).to.equal(200);
    } finally {
      await srv.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
