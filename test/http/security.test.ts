/**
 * What a security review checks: the headers a scanner expects on every response (errors and
 * internal faults included), the admin token (required, compared whole, its route off without one),
 * and that no request data ever becomes a file path.
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { expect } from 'chai';
import { SECURITY_HEADERS } from '../../src/http/app.js';
import {
  SAMPLE_PNG,
  expectError,
  loadPlane,
  postBytes,
  postJson,
  request,
  serverPerSuite,
  startServer,
  validPredictBody,
  type Reply,
  type TestServer,
} from './server.js';

const ADMIN_TOKEN = 'correct-horse-battery-staple';
const MAX_BODY_BYTES = 64 * 1024;

function expectSecurityHeaders(r: Reply, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(name), `${what}: ${name}`).to.equal(value);
  expect(r.headers.get('x-powered-by'), what).to.equal(null);
}

/**
 * Runs `work` while recording the path of every file-system call of fs and fs/promises that
 * opens, reads or inspects a file (ESM named imports included: their bindings are re-synced).
 */
async function fileSystemPaths(work: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const names = ['open', 'readFile', 'stat', 'lstat', 'access', 'readdir', 'realpath', 'opendir'] as const;
  const targets: [Record<string, unknown>, string[]][] = [
    [fs as unknown as Record<string, unknown>, [...names, ...names.map((n) => `${n}Sync`), 'existsSync', 'createReadStream']],
    [fs.promises as unknown as Record<string, unknown>, [...names]],
  ];
  const originals = targets.map(([module, keys]) => keys.map((key) => [module, key, module[key]] as const)).flat();
  for (const [module, key, original] of originals) {
    module[key] = function (this: unknown, file: unknown, ...rest: unknown[]) {
      seen.push(String(file));
      return (original as (...args: unknown[]) => unknown).call(this, file, ...rest);
    };
  }
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    for (const [module, key, original] of originals) module[key] = original;
    syncBuiltinESMExports();
  }
  return seen;
}

describe('http security', function () {
  let srv: TestServer;
  let task: TestServer['tasks'][number];
  let predictUrl: string;
  serverPerSuite((server) => (srv = server), { adminToken: ADMIN_TOKEN, maxBodyBytes: MAX_BODY_BYTES }, { reload: loadPlane });

  before(() => {
    task = srv.imageTask ?? srv.windowTask!;
    predictUrl = `${srv.base}/v1/tasks/${task.task}/predict`;
  });

  describe('response headers', () => {
    it('every response, success or error, carries the security headers and no X-Powered-By', async () => {
      const body = await validPredictBody(task);
      const replies: [string, Reply][] = [
        ['GET /v1/tasks', await request(`${srv.base}/v1/tasks`)],
        ['predict', await postJson(predictUrl, body)],
        ['GET /healthz', await request(`${srv.base}/healthz`)],
        ['GET /readyz', await request(`${srv.base}/readyz`)],
        ['GET /metrics', await request(`${srv.base}/metrics`)],
        ['GET /openapi.json', await request(`${srv.base}/openapi.json`)],
        ['GET /v2/models/{task}', await request(`${srv.base}/v2/models/${task.task}`)],
        ['OPTIONS', await request(`${srv.base}/v1/tasks`, { method: 'OPTIONS' })],
        ['400', await postJson(predictUrl, { nonsense: true })],
        ['401', await request(`${srv.base}/v1/admin/reload`, { method: 'POST' })],
        ['404', await request(`${srv.base}/nothing/here`)],
        ['404 v2', await request(`${srv.base}/v2/models/nothing`)],
        ['413', await postBytes(predictUrl, Buffer.alloc(MAX_BODY_BYTES + 1), 'image/png')],
        ['415', await postBytes(predictUrl, Buffer.from('x'), 'text/plain')],
        ['422', await postJson(predictUrl, { input: task.kind === 'image' ? { window: [[1]] } : { image: 'aGVsbG8=' } })],
      ];
      const served = srv.app.service.plane.task(task.task);
      const predict = served.predict;
      served.predict = () => Promise.reject(new Error(`exploded at ${process.cwd()}/src/serve/task.ts:1:1`));
      try {
        const fault = await postJson(predictUrl, body);
        expectError(fault, 500, 'INTERNAL', /request id/);
        replies.push(['500', fault]);
      } finally {
        served.predict = predict;
      }
      for (const [what, r] of replies) expectSecurityHeaders(r, what);
    });
  });

  describe('admin', () => {
    const reload = (headers: Record<string, string>, query = '') =>
      request(`${srv.base}/v1/admin/reload${query}`, { method: 'POST', headers });

    it('401, with a Bearer challenge, for any credentials but the whole token', async () => {
      const refused: Record<string, string>[] = [
        { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
        { authorization: `Bearer ${ADMIN_TOKEN}x` },
        { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` },
        { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
        { authorization: ADMIN_TOKEN },
        { authorization: 'Bearer' },
        { 'x-admin-token': ADMIN_TOKEN },
      ];
      for (const headers of refused) {
        const r = await reload(headers);
        expectError(r, 401, 'UNAUTHORIZED', /Bearer/);
        expect(r.headers.get('www-authenticate')).to.match(/^Bearer /);
      }
      expectError(await reload({}, `?token=${ADMIN_TOKEN}`), 401, 'UNAUTHORIZED');
    });

    it('takes the token with the scheme in any case (RFC 9110) and spaces around it', async () => {
      const r = await reload({ authorization: `bearer   ${ADMIN_TOKEN}  ` });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.reloaded).to.equal(true);
    });

    it('is off (404) without a token, whatever the credentials', async () => {
      const off = await startServer({ adminToken: '' }, { reload: loadPlane });
      try {
        const r = await request(`${off.base}/v1/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer ' } });
        expectError(r, 404, 'NOT_FOUND', /ADMIN_TOKEN/);
      } finally {
        await off.close();
      }
    });
  });

  describe('file paths', () => {
    it('builds no file path from request data: path-like ids are 404 and touch no file', async () => {
      const body = await validPredictBody(task);
      const hostile = ['../../etc/passwd', '/etc/passwd', '..%2F..%2Fetc%2Fpasswd', 'cnn-small.onnx', '../premodel/premodel.json'];
      const send = async (id: string) => {
        const escaped = encodeURIComponent(id);
        expectError(await postJson(predictUrl, { ...body, model: id }), 404, 'NOT_FOUND');
        expect((await request(`${srv.base}/v2/models/${escaped}`)).status).to.equal(404);
        expect((await postJson(`${srv.base}/v2/models/${escaped}/infer`, {})).status).to.equal(404);
        expect((await postJson(`${srv.base}/v1/tasks/${escaped}/predict`, body)).status).to.equal(404);
      };
      await send('warm-up'); // anything loaded lazily on a first request is loaded now
      const paths = await fileSystemPaths(async () => {
        for (const id of hostile) await send(id);
      });
      expect(paths).to.deep.equal([]);
      // The recorder sees reads through an ESM named import, as the service's modules make them.
      expect(await fileSystemPaths(() => readFile(SAMPLE_PNG).then(() => undefined))).to.deep.equal([SAMPLE_PNG]);
    });
  });
});
