import { expect } from 'chai';
import { LATENCY_DEFAULTS } from '../../src/config/defaults.js';
import { OverloadedError } from '../../src/errors/index.js';
import { LatencyModel } from '../../src/serve/latency.js';
import { ManualClock } from '../helpers/clock.js';
import { config, expectError, loadPlane, postJson, request, serverPerSuite, startServer, validPredictBody, type TestServer } from '../http/server.js';

/**
 * The service runs on a clock the tests move: every duration it plans with is what the test set,
 * not what a busy machine happened to take.
 */
const clock = new ManualClock();

/** Teaches the service's latency model that every model now runs `factor` times slower than profiled. */
function slowDown(srv: TestServer, factor: number): void {
  for (const task of srv.app.service.plane.tasks) for (let i = 0; i < 200; i++) task.latency.observeRun(1, factor, clock.now());
}

/** Runs 2,000 times slower than profiled: even the fastest model (tens of us) takes tens of ms. */
const OVERLOAD = 2000;

function fastestP50(srv: TestServer): number {
  return Math.min(...srv.tasks[0]!.models.map((m) => m.latencyMs?.p50 ?? Infinity));
}

describe('serve: maxLatencyMs under load (HTTP)', function () {
  let srv: TestServer;
  let url: string;
  let body: object;
  serverPerSuite((server) => (srv = server), {}, { clock }, () => loadPlane(undefined, { clock }));
  before(async () => {
    url = `${srv.base}/v1/tasks/${srv.tasks[0]!.task}/predict`;
    body = await validPredictBody(srv.tasks[0]!);
  });

  it('sheds with a fast 503 what the load leaves no model able to answer in time', async () => {
    slowDown(srv, OVERLOAD);
    const r = await postJson(url, { ...body, constraint: { maxLatencyMs: 20 } });
    expectError(r, 503, 'OVERLOADED', /no model can answer within maxLatencyMs 20 ms under the current load/);
    expect(r.headers.get('retry-after')).to.equal(String(config.retryAfterS));
    const metrics = await request(`${srv.base}/metrics`);
    expect(metrics.text).to.match(/adaptive_zoo_requests_rejected_total\{reason="deadline"\} [1-9]/);
  });

  it('serves a budget below every model: the fastest, constraint not met, never shed', async () => {
    slowDown(srv, OVERLOAD);
    const r = await postJson(url, { ...body, constraint: { maxLatencyMs: fastestP50(srv) / 2 } });
    expect(r.status, r.text).to.equal(200);
    expect(r.body.selection.constraintMet).to.equal(false);
  });

  it('a request read after the service idled had waited for nothing (timing.queuedMs 0)', async () => {
    for (let i = 0; i < 3; i++) {
      clock.advance(20); // idle, waiting for the next request
      const r = await postJson(url, body);
      expect(r.status, r.text).to.equal(200);
      expect(r.body.timing.queuedMs).to.equal(0);
    }
  });

  it('plans on the wait before the request was read: one that waited out its budget is shed', async () => {
    slowDown(srv, 1);
    const task = srv.app.service.plane.tasks.find((t) => t.inputs.kind === 'window')!;
    const waited = async (waitedMs: number) => ({
      wire: (await task.inputs.warmUpInputs())[0]!,
      limits: { maxPixels: 1 },
      constraint: { maxLatencyMs: 20 },
      readAtMs: clock.now(),
      waitedMs,
    });
    const shed = await task.predict(await waited(25)).catch((err: unknown) => err);
    expect(shed).to.be.instanceOf(OverloadedError);
    const answered = await task.predict(await waited(5));
    expect(answered.timing.queuedMs).to.equal(5);
    expect(answered.timing.totalMs, 'totalMs counts from the read').to.equal(0);
  });

  it('plans with the latency expected now, and says so', async () => {
    slowDown(srv, OVERLOAD);
    const r = await postJson(url, { ...body, constraint: { maxLatencyMs: 1000 } });
    expect(r.status, r.text).to.equal(200);
    const p50 = new Map(srv.tasks[0]!.models.map((m) => [m.id, m.latencyMs!.p50]));
    for (const c of r.body.selection.candidates as { model: string; latencyMs: number }[]) {
      // One real run since (at its p50 or so) moves the slowdown by a tenth of the way.
      expect(c.latencyMs, c.model).to.be.above(p50.get(c.model)! * OVERLOAD * 0.8);
    }
    expect(r.body.selection.reason).to.match(/expected \d+\.\d{3} ms now \(profiled \d+\.\d{3} ms\)/);
  });

  it('reports each model\'s expected latency now in /metrics', async () => {
    slowDown(srv, OVERLOAD);
    const text = (await request(`${srv.base}/metrics`)).text;
    const task = srv.tasks[0]!;
    const model = task.models[0]!;
    const line = new RegExp(`adaptive_zoo_expected_latency_seconds\\{task="${task.task}",model="${model.id}"\\} ([\\d.e-]+)`).exec(text);
    expect(line, 'gauge line').to.not.equal(null);
    expect(Number(line![1])).to.be.above((model.latencyMs!.p50 * OVERLOAD * 0.8) / 1000);
  });
});

describe('serve: maxLatencyMs with adaptation off (HTTP)', function () {
  let srv: TestServer;
  before(async () => {
    const latency = new LatencyModel({ ...LATENCY_DEFAULTS, adaptive: false });
    srv = await startServer({}, { clock }, () => loadPlane(undefined, { latency, clock }));
  });
  after(() => srv.close());

  it('judges the budget on the profiled p50 alone and sheds nothing', async () => {
    slowDown(srv, OVERLOAD);
    const task = srv.tasks[0]!;
    const r = await postJson(`${srv.base}/v1/tasks/${task.task}/predict`, { ...(await validPredictBody(task)), constraint: { maxLatencyMs: 20 } });
    expect(r.status, r.text).to.equal(200);
    expect(r.body.selection.constraintMet).to.equal(true);
    const p50 = new Map(task.models.map((m) => [m.id, m.latencyMs!.p50]));
    for (const c of r.body.selection.candidates as { model: string; latencyMs: number }[]) expect(c.latencyMs).to.equal(p50.get(c.model));
  });
});
