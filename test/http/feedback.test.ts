/**
 * Label feedback over HTTP: every prediction's requestId takes a label (202), a repeat is
 * idempotent, forged ids, other tasks' ids, unknown labels and oversized batches are refused with
 * nothing stored, the labels count in GET /v1/tasks/{task}/quality and /metrics, and they are
 * there again after a restart. The service as `npm start` runs it keeps them through kill -9.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FeedbackService } from '../../src/feedback/index.js';
import { expectError, loadPlane, postJson, request, startServer, TINY_ZOO, validPredictBody, windowArray, windowShape, type TestServer } from './server.js';

const MAX_BATCH = 4;

async function openFeedback(dir: string): Promise<FeedbackService> {
  return FeedbackService.open({ dir, replica: 'test', key: 'a key of sixteen characters or more', maxBatch: MAX_BATCH, maxBytes: 1024 * 1024 });
}

async function serveWithFeedback(dir: string): Promise<{ srv: TestServer; feedback: FeedbackService }> {
  const feedback = await openFeedback(dir);
  const srv = await startServer({}, { feedback }, async () => {
    const plane = await loadPlane(TINY_ZOO, { signer: feedback.signer });
    await feedback.replay(plane.tasks);
    return plane;
  });
  return { srv, feedback };
}

async function storedLabels(feedback: FeedbackService): Promise<number> {
  let n = 0;
  for await (const _ of feedback.records()) n++;
  return n;
}

describe('http feedback', () => {
  let dir: string;
  let srv: TestServer;
  let feedback: FeedbackService;
  let task: string;
  let classes: string[];

  const predict = async (minAccuracy = 0.8) => {
    const { length, channels } = windowShape(srv.windowTask!);
    const reply = await postJson(`${srv.base}/v1/tasks/${task}/predict`, { input: { window: windowArray(length, channels) }, constraint: { minAccuracy } });
    expect(reply.status).to.equal(200);
    return reply.body as { requestId: string; label: string; classIndex: number; selection: { reason: string; constraintMet: boolean } };
  };
  const send = (body: unknown, name = task) => postJson(`${srv.base}/v1/tasks/${name}/feedback`, body);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'feedback-http-'));
    ({ srv, feedback } = await serveWithFeedback(dir));
    task = srv.windowTask!.task;
    classes = srv.windowTask!.classes;
  });
  afterEach(async () => {
    await srv.close();
    await feedback.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('every prediction carries a requestId; a label for it is stored (202) and counted in quality and metrics', async () => {
    const answer = await predict();
    expect(answer.requestId).to.match(/^[A-Za-z0-9_-]{40,}$/);
    const reply = await send({ requestId: answer.requestId, label: answer.label });
    expect(reply.status).to.equal(202);
    expect(reply.body).to.deep.equal({ accepted: 1, duplicates: 0 });
    const quality = await request(`${srv.base}/v1/tasks/${task}/quality`);
    expect(quality.status).to.equal(200);
    expect(quality.body).to.include({ task, labelled: 1 });
    expect(quality.body.bands).to.have.length(1);
    expect(quality.body.bands[0]).to.include({ band: '0.80', meanTarget: 0.8, labelled: 1, accuracy: 1, upperBound: 1 });
    // One right answer in one: the Wilson bound of 1 of 1 at 95%.
    expect(quality.body.bands[0].lowerBound).to.be.closeTo(0.2699, 1e-3);
    expect(quality.body.points).to.have.length(1);
    expect(quality.body.points[0]).to.include.keys('ladder', 'promised');
    expect(quality.body.feedback).to.include({ accepted: 1, duplicates: 0 });
    expect(quality.body.correction).to.include({ enabled: true });
    const metrics = await request(`${srv.base}/metrics`);
    expect(metrics.text).to.contain(`adaptive_zoo_labelled_requests{task="${task}",band="0.80"} 1`);
    expect(metrics.text).to.contain(`adaptive_zoo_feedback_labels_total{task="${task}",result="accepted"} 1`);
    expect(await storedLabels(feedback)).to.equal(1);
  });

  it('takes the class by index, and batches, whole', async () => {
    const [a, b] = [await predict(), await predict()];
    const reply = await send([{ requestId: a.requestId, classIndex: 0 }, { requestId: b.requestId, label: classes[1] }]);
    expect(reply.status).to.equal(202);
    expect(reply.body).to.deep.equal({ accepted: 2, duplicates: 0 });
    const quality = await request(`${srv.base}/v1/tasks/${task}/quality`);
    expect(quality.body.labelled).to.equal(2);
  });

  it('a repeat is idempotent; another label for the same id is a conflict (409)', async () => {
    const answer = await predict();
    const label = classes[0]!;
    expect((await send({ requestId: answer.requestId, label })).status).to.equal(202);
    const again = await send({ requestId: answer.requestId, label });
    expect(again.status).to.equal(202);
    expect(again.body).to.deep.equal({ accepted: 0, duplicates: 1 });
    const other = await send({ requestId: answer.requestId, label: classes[1] });
    expectError(other, 409, 'CONFLICT');
    expect(other.body.error.message).to.contain('already labelled');
    expect(await storedLabels(feedback)).to.equal(1);
  });

  it('refuses forged and altered ids, ids of another task, unknown labels and classes, bad bodies and huge batches: nothing stored', async () => {
    const answer = await predict();
    const bytes = Buffer.from(answer.requestId, 'base64url');
    bytes[20] = bytes[20]! ^ 0x40;
    const imageAnswer = await postJson(`${srv.base}/v1/tasks/${srv.imageTask!.task}/predict`, await validPredictBody(srv.imageTask!));
    expect(imageAnswer.status).to.equal(200);
    const cases: [unknown, number, string, RegExp][] = [
      [{ requestId: bytes.toString('base64url'), label: classes[0] }, 400, 'BAD_REQUEST', /signature/],
      [{ requestId: 'made-up', label: classes[0] }, 400, 'BAD_REQUEST', /not a requestId/],
      [{ requestId: answer.requestId, label: 'no such class' }, 400, 'BAD_REQUEST', /not a class/],
      [{ requestId: answer.requestId, classIndex: classes.length }, 400, 'BAD_REQUEST', /not a class/],
      [{ requestId: answer.requestId }, 400, 'BAD_REQUEST', /invalid/],
      [{ requestId: answer.requestId, label: classes[0], classIndex: 0 }, 400, 'BAD_REQUEST', /invalid/],
      [[], 400, 'BAD_REQUEST', /empty/],
      [Array.from({ length: MAX_BATCH + 1 }, () => ({ requestId: answer.requestId, label: classes[0] })), 400, 'BAD_REQUEST', /at most 4/],
      // One bad item refuses the whole batch, the good one with it.
      [[{ requestId: answer.requestId, label: classes[0] }, { requestId: 'made-up', label: classes[0] }], 400, 'BAD_REQUEST', /item 1/],
    ];
    for (const [body, status, code, message] of cases) {
      const reply = await send(body);
      expectError(reply, status, code);
      expect(reply.body.error.message, JSON.stringify(body).slice(0, 80)).to.match(message);
    }
    const other = await send({ requestId: imageAnswer.body.requestId, label: classes[0] });
    expectError(other, 400, 'BAD_REQUEST', /issued by task/);
    expectError(await send({ requestId: answer.requestId, label: classes[0] }, 'no-such-task'), 404, 'NOT_FOUND');
    expect(await storedLabels(feedback)).to.equal(0);
    expect((await request(`${srv.base}/v1/tasks/${task}/quality`)).body.labelled).to.equal(0);
  });

  it('labels showing a band missed serve it from a stronger point, say so in the reason, and stop vouching for it', async () => {
    const served = srv.app.service.plane.task(task);
    const target = served.premodel.file.calibration[0]!.accuracyLowerBound;
    const first = await predict(target);
    expect(first.selection.reason).to.not.contain('raised');
    // Every answer of the band turns out wrong.
    for (let i = 0; i < 60; i++) {
      const answer = await predict(target);
      const wrong = (answer.classIndex + 1) % classes.length;
      expect((await send({ requestId: answer.requestId, classIndex: wrong })).status).to.equal(202);
    }
    const after = await predict(target);
    expect(after.selection.reason).to.match(/label feedback raised the target to/);
    expect(after.selection.reason).to.contain('not vouched for');
    expect(after.selection.constraintMet).to.equal(false);
    expect(served.quality.effectiveTarget(target, undefined)).to.be.above(target);
    const pointOf = (answer: { requestId: string }) => served.premodel.file.calibration[served.signer.verify(answer.requestId).decision.point!]!;
    expect(pointOf(after).accuracy).to.be.above(pointOf(first).accuracy);
    const quality = (await request(`${srv.base}/v1/tasks/${task}/quality`)).body;
    expect(quality.corrections[0]).to.include({ missed: true });
    expect(quality.corrections[0].raise).to.be.above(0);
    const metrics = await request(`${srv.base}/metrics`);
    expect(metrics.text).to.match(new RegExp(`adaptive_zoo_target_raise\\{task="${task}",band="[0-9.]+",group=""\\} 0\\.[0-9]*[1-9]`));
  });

  it('labels are there after a restart, and a repeat is still a repeat', async () => {
    const answer = await predict();
    expect((await send({ requestId: answer.requestId, label: answer.label })).status).to.equal(202);
    await srv.close();
    await feedback.close();
    ({ srv, feedback } = await serveWithFeedback(dir));
    expect((await request(`${srv.base}/v1/tasks/${task}/quality`)).body.labelled).to.equal(1);
    const again = await send({ requestId: answer.requestId, label: answer.label });
    expect(again.body).to.deep.equal({ accepted: 0, duplicates: 1 });
  });

  it('v2 answers carry the requestId in their parameters', async () => {
    const { length, channels } = windowShape(srv.windowTask!);
    const reply = await postJson(`${srv.base}/v2/models/${task}/infer`, {
      inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', data: windowArray(length, channels).flat() }],
    });
    expect(reply.status, reply.text).to.equal(200);
    expect((await send({ requestId: reply.body.parameters.requestId, classIndex: 0 })).status).to.equal(202);
  });
});

describe('http feedback, off', () => {
  it('without a feedback store the route answers 404, and predictions still carry a requestId', async () => {
    const srv = await startServer();
    try {
      const reply = await postJson(`${srv.base}/v1/tasks/${srv.windowTask!.task}/feedback`, { requestId: 'x', classIndex: 0 });
      expectError(reply, 404, 'NOT_FOUND');
      expect(reply.body.error.message).to.contain('FEEDBACK_DIR');
      const answer = await postJson(`${srv.base}/v1/tasks/${srv.windowTask!.task}/predict`, await validPredictBody(srv.windowTask!));
      expect(answer.body.requestId).to.be.a('string').that.is.not.empty;
    } finally {
      await srv.close();
    }
  });
});

describe('http feedback, kill -9', function () {
  this.timeout(60_000);

  it('every label acknowledged before the service is killed is there after its restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'feedback-kill-'));
    const env = { ...process.env, HOST: '127.0.0.1', PORT: '0', WORKERS: '1', LOG_LEVEL: 'info', ZOO_DIR: TINY_ZOO.zooDir, PREMODEL_DIR: TINY_ZOO.premodelDir, FEEDBACK_DIR: dir, FEEDBACK_REPLICA: 'killed' };
    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const address = new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const line = out.split('\n').find((l) => l.includes('"listening"'));
          if (line !== undefined) resolve(`http://${(JSON.parse(line) as { address: string }).address}`);
        });
        child.on('exit', (code) => reject(new Error(`the service exited (${code}) before listening`)));
      });
      return { child, address };
    };
    try {
      const first = start();
      const base = await first.address;
      const tasks = (await request(`${base}/v1/tasks`)).body.tasks as { task: string; kind: string; input: { length: number; channels: number }; classes: string[] }[];
      const window = tasks.find((t) => t.kind === 'window')!;
      const acknowledged: string[] = [];
      for (let i = 0; i < 20; i++) {
        const answer = await postJson(`${base}/v1/tasks/${window.task}/predict`, { input: { window: windowArray(window.input.length, window.input.channels) } });
        const reply = await postJson(`${base}/v1/tasks/${window.task}/feedback`, { requestId: answer.body.requestId, classIndex: i % window.classes.length });
        if (reply.status === 202) acknowledged.push(answer.body.requestId as string);
      }
      const exited = new Promise((resolve) => first.child.on('exit', resolve));
      first.child.kill('SIGKILL');
      await exited;
      expect(acknowledged).to.have.length(20);
      const second = start();
      try {
        const again = await second.address;
        expect((await request(`${again}/v1/tasks/${window.task}/quality`)).body.labelled).to.equal(20);
        // Every one of them is known: sent again, each is a repeat.
        const repeat = await postJson(`${again}/v1/tasks/${window.task}/feedback`, acknowledged.slice(0, 4).map((requestId, i) => ({ requestId, classIndex: i % window.classes.length })));
        expect(repeat.body).to.deep.equal({ accepted: 0, duplicates: 4 });
      } finally {
        second.child.kill('SIGTERM');
      }
      expect((await readdir(dir)).some((f) => f.startsWith('killed.'))).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
