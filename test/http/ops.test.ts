import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ENV_VARIABLES, ConfigError, configFromEnv } from '../../src/config/env.js';
import { SERVICE_DEFAULTS } from '../../src/config/defaults.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { inferBodySchema, predictBodySchema, predictQuerySchema } from '../../src/http/schemas.js';
import { DataPlane } from '../../src/serve/dataplane.js';
import { heldRequest, loadPlane, postJson, request, startServer, until, validPredictBody, type TestServer, serverPerSuite } from './server.js';


async function someInput(srv: TestServer): Promise<{ url: string; body: string }> {
  const t = srv.imageTask ?? srv.windowTask!;
  return { url: `${srv.base}/v1/tasks/${t.task}/predict`, body: JSON.stringify(await validPredictBody(t)) };
}

describe('http operations', function () {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  it('GET /healthz and /readyz answer 200 when loaded', async () => {
    expect((await request(`${srv.base}/healthz`)).status).to.equal(200);
    const ready = await request(`${srv.base}/readyz`);
    expect(ready.status).to.equal(200);
    expect(ready.body.ready).to.equal(true);
  });

  it('GET /metrics counts requests by task, model and status, stage latencies, selections, misses', async () => {
    const { url, body } = await someInput(srv);
    const ok = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(ok.status).to.equal(200);
    await postJson(url, { nonsense: true });
    const r = await request(`${srv.base}/metrics`);
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/text\/plain/);
    const task = ok.body.task as string;
    const model = ok.body.model as string;
    expect(r.text).to.contain(`adaptive_zoo_requests_total{endpoint="v1_predict",task="${task}",model="${model}",status="200"} 1`);
    expect(r.text).to.contain(`adaptive_zoo_requests_total{endpoint="v1_predict",task="${task}",model="",status="400"} 1`);
    for (const stage of ['queued', 'decode', 'select', 'inference', 'total']) {
      expect(r.text).to.contain(`adaptive_zoo_stage_duration_seconds_count{task="${task}",stage="${stage}"} 1`);
    }
    // Features only where the route consulted the premodel (a plain cascade computes none).
    const computed = ok.body.timing.featuresMs > 0;
    expect(r.text.includes(`adaptive_zoo_stage_duration_seconds_count{task="${task}",stage="features"} 1`)).to.equal(computed);
    expect(r.text).to.contain(`adaptive_zoo_selections_total{task="${task}",model="${model}",forced="false"} 1`);
    expect(r.text).to.contain('# TYPE adaptive_zoo_constraint_misses_total counter');
    expect(r.text).to.contain('adaptive_zoo_http_request_duration_seconds_bucket');
    expect(r.text).to.contain('adaptive_zoo_process_cpu_seconds_total');
  });

  it('GET /openapi.json is an OpenAPI 3.1 document of every route', async () => {
    const r = await request(`${srv.base}/openapi.json`);
    expect(r.status).to.equal(200);
    expect(r.body.openapi).to.equal('3.1.0');
    expect(r.body.info).to.include.keys('title', 'version');
    for (const p of [
      '/v1/tasks',
      '/v1/tasks/{task}/predict',
      '/healthz',
      '/readyz',
      '/metrics',
      '/openapi.json',
      '/v2/health/ready',
      '/v2/models/{name}',
      '/v2/models/{name}/infer',
    ]) {
      expect(r.body.paths, p).to.have.property(p);
    }
    const predict = r.body.paths['/v1/tasks/{task}/predict'].post;
    expect(predict.requestBody.content).to.include.keys('application/json', 'image/png', 'image/jpeg', 'image/webp');
    expect(predict.requestBody.content['application/json'].schema).to.deep.equal(JSON.parse(JSON.stringify(predictBodySchema)));
    expect(Object.keys(predict.responses)).to.include.members(['200', '400', '404', '413', '415', '422', '503']);
  });

  it('the OpenAPI request schemas are the very objects ajv validates with', () => {
    const doc = openApiDocument('test') as any;
    expect(doc.paths['/v1/tasks/{task}/predict'].post.requestBody.content['application/json'].schema).to.equal(predictBodySchema);
    expect(doc.paths['/v2/models/{name}/infer'].post.requestBody.content['application/json'].schema).to.equal(inferBodySchema);
    const query = doc.paths['/v1/tasks/{task}/predict'].post.parameters.filter((p: any) => p.in === 'query');
    for (const p of query) expect(p.schema).to.equal((predictQuerySchema.properties as any)[p.name]);
  });

  it('echoes a sane X-Request-Id and makes one otherwise', async () => {
    const given = await request(`${srv.base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).to.equal('abc-123');
    const made = await request(`${srv.base}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
  });
});

describe('http shutdown', function () {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  it('stops being ready and refuses new requests, while in-flight ones finish', async () => {
    const { url, body } = await someInput(srv);
    const held = heldRequest(url, Buffer.from(body), 'application/json');
    await until(() => srv.app.service.requestsInFlight === 1);
    srv.app.service.beginShutdown();
    const ready = await request(`${srv.base}/readyz`);
    expect(ready.status).to.equal(503);
    expect((await request(`${srv.base}/v2/health/ready`)).body).to.deep.equal({ ready: false });
    expect((await request(`${srv.base}/healthz`)).status).to.equal(200);
    const refused = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal('UNAVAILABLE');
    expect(refused.headers.get('retry-after')).to.not.equal(null);
    const drained = srv.app.service.drained(5000);
    const first = await held.finish();
    expect(first.status, first.body).to.equal(200);
    expect(await drained).to.equal(true);
  });
});

describe('http reload', function () {
  let srv: TestServer;
  let empty: string;
  let broken = false;
  before(async () => {
    empty = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-empty-'));
    srv = await startServer(
      { adminToken: 'test-token' },
      {
        reload: () =>
          broken
            ? DataPlane.load({ zooDir: empty, premodelDir: empty, intraOpThreads: 1, defaultMaxLatencyMs: Infinity })
            : loadPlane(),
      },
    );
  });
  after(async () => {
    await srv.close();
    await rm(empty, { recursive: true, force: true });
  });

  const reload = (token?: string) =>
    request(`${srv.base}/v1/admin/reload`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('401 without the admin token', async () => {
    expect((await reload()).status).to.equal(401);
    const wrong = await reload('nope');
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error.code).to.equal('UNAUTHORIZED');
  });

  it('swaps in a fresh data plane; a request in flight finishes on the old one', async () => {
    const before = srv.app.service.plane;
    const { url, body } = await someInput(srv);
    const held = heldRequest(url, Buffer.from(body), 'application/json');
    await until(() => srv.app.service.requestsInFlight === 1);
    const r = await reload('test-token');
    expect(r.status, r.text).to.equal(200);
    expect(r.body.reloaded).to.equal(true);
    expect(srv.app.service.plane).to.not.equal(before);
    expect((await held.finish()).status).to.equal(200);
    expect((await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).to.equal(200);
  });

  it('refuses a broken artifact (422) and keeps serving the loaded one', async () => {
    const current = srv.app.service.plane;
    broken = true;
    try {
      const r = await reload('test-token');
      expect(r.status).to.equal(422);
      expect(r.body.error.code).to.equal('RELOAD_REFUSED');
    } finally {
      broken = false;
    }
    expect(srv.app.service.plane).to.equal(current);
    const { url, body } = await someInput(srv);
    expect((await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).to.equal(200);
  });

  it('is off (404) without an admin token', async () => {
    const off = await startServer();
    try {
      expect((await request(`${off.base}/v1/admin/reload`, { method: 'POST' })).status).to.equal(404);
    } finally {
      await off.close();
    }
  });
});

describe('config from the environment', () => {
  it('keeps the defaults when nothing is set', () => {
    const c = configFromEnv({});
    expect(c.port).to.equal(8080);
    expect(c.zooDir).to.equal('zoo');
    expect(c.premodelDir).to.equal('premodel');
    expect(c.defaultMaxLatencyMs).to.equal(Infinity);
    expect(Object.isFrozen(c)).to.equal(true);
    expect(c).to.deep.equal({ ...SERVICE_DEFAULTS });
  });

  it('reads every variable and rejects bad values, naming the variable and its limit', () => {
    const c = configFromEnv({ PORT: '9000', DEFAULT_MAX_LATENCY_MS: '2.5', MAX_IN_FLIGHT: '4', LOG_LEVEL: 'debug', ZOO_DIR: '/z' });
    expect(c).to.include({ port: 9000, defaultMaxLatencyMs: 2.5, maxInFlight: 4, logLevel: 'debug', zooDir: '/z' });
    expect(configFromEnv({ DEFAULT_MAX_LATENCY_MS: 'Infinity' }).defaultMaxLatencyMs).to.equal(Infinity);
    try {
      configFromEnv({ PORT: '70000', MAX_IN_FLIGHT: 'many', LOG_LEVEL: 'loud', DEFAULT_MAX_LATENCY_MS: '0' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).to.have.length(4);
      expect(problems.join('\n')).to.match(/PORT must be an integer from 0 to 65535/).and.match(/MAX_IN_FLIGHT/).and.match(/LOG_LEVEL/);
    }
  });

  it('documents every variable in docs/http.md', async () => {
    const doc = await readFile('docs/http.md', 'utf8');
    for (const v of ENV_VARIABLES) expect(doc, v.env).to.contain(`\`${v.env}\``);
  });
});
