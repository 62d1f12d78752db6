/**
 * A bounded fuzz run over the whole HTTP API (fast-check): random methods, paths (known routes with
 * segments swapped for junk), query strings, content types and encodings, and bodies that are random
 * bytes, random JSON or mutations of valid requests. No answer may be a 5xx other than 503, every
 * error is the API's JSON error with nothing internal in it, and the server serves on afterwards.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import { SECURITY_HEADERS } from '../../src/http/app.js';
import { isV2 } from '../../src/http/errors.js';
import { SAMPLE_PNG, expectNoInternals, postJson, request, serverPerSuite, validPredictBody, windowArray, windowShape, type TestServer } from './server.js';

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

interface FuzzReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

const ROUTES = [
  '/v1/tasks',
  '/v1/tasks/{task}',
  '/v1/tasks/{task}/predict',
  '/v1/admin/reload',
  '/v2',
  '/v2/health/live',
  '/v2/health/ready',
  '/v2/models/{name}',
  '/v2/models/{name}/ready',
  '/v2/models/{name}/infer',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
];

/** One edit of a valid body; positions wrap around its length. */
type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat({ max: 64 }) }),
);

function mutate(valid: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(valid);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'set') out[at] = m.byte;
    else if (m.kind === 'truncate') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
  }
  return out;
}

/** Sends exactly what it is given (fetch would normalise the path and refuse some headers). */
function send(base: string, agent: http.Agent, r: FuzzRequest): Promise<FuzzReply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, agent, method: r.method, path: r.path, headers: r.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

function expectApiAnswer(reply: FuzzReply, r: FuzzRequest): void {
  const what = `${r.method} ${r.path} (${r.headers['content-type'] ?? 'no type'}): ${reply.text.slice(0, 300)}`;
  expect(reply.status < 500 || reply.status === 503, what).to.equal(true);
  expect(reply.headers['x-content-type-options'], what).to.equal(SECURITY_HEADERS['X-Content-Type-Options']);
  if (reply.status < 400 || r.method === 'HEAD') return;
  expect(reply.headers['content-type'], what).to.match(/^application\/json/);
  const { error } = JSON.parse(reply.text) as { error: unknown };
  if (isV2(r.path.split('?')[0]!)) expect(error, what).to.be.a('string').that.is.not.empty;
  else expect(error, what).to.have.keys('code', 'message');
  expectNoInternals(reply.text);
}

describe('http fuzz', function () {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server), { maxBodyBytes: 64 * 1024 });

  it('answers a few hundred random requests with no 5xx but 503, each error as JSON, and serves on', async () => {
    const names = srv.tasks.flatMap((t) => [t.task, ...t.models.map((m) => `${t.task}.${m.id}`)]);
    const { length, channels } = windowShape(srv.windowTask!);
    const validBodies = [
      Buffer.from(JSON.stringify(await validPredictBody(srv.tasks[0]!))),
      Buffer.from(JSON.stringify({ input: { window: windowArray(length, channels) }, constraint: { minAccuracy: 0.9, maxLatencyMs: 2 } })),
      Buffer.from(JSON.stringify({ inputs: [{ name: 'window', shape: [1, length, channels], datatype: 'FP32', data: windowArray(length, channels).flat() }] })),
      await readFile(SAMPLE_PNG),
    ];
    const segment = fc.oneof(
      fc.constantFrom(...names, '..', '.', '%2e%2e', '%00', '%ZZ', '%E0%A4%A', ''),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.string({ unit: fc.constantFrom(...'%./-_~!$&()*+,;=:@0123456789abcdefABCDEF'), maxLength: 12 }),
    );
    const path = fc
      .tuple(fc.constantFrom(...ROUTES), segment, fc.option(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), { maxLength: 3 })))
      .map(([route, name, query]) => `${route.replace(/\{\w+\}/, name)}${query === null ? '' : `?${new URLSearchParams(query)}`}`);
    const contentType = fc.option(
      fc.oneof(
        fc.constantFrom('application/json', 'application/json; charset=latin1', 'image/png', 'image/jpeg', 'image/webp', 'text/plain', 'application/octet-stream'),
        fc.string({ maxLength: 24 }),
      ),
    );
    const body = fc.option(
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? '')),
        fc.tuple(fc.constantFrom(...validBodies), fc.array(mutation, { maxLength: 4 })).map(([valid, edits]) => mutate(valid, edits)),
      ),
      { nil: undefined },
    );
    const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        path,
        contentType,
        encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress'), { freq: 8 }),
        authorization: fc.option(fc.string({ maxLength: 24 }).map((s) => `Bearer ${s}`), { freq: 8 }),
        body,
      })
      .map(({ method, path: p, contentType: type, encoding, authorization, body: b }) => ({
        method,
        path: p,
        headers: {
          ...(type === null ? {} : { 'content-type': type }),
          ...(encoding === null ? {} : { 'content-encoding': encoding }),
          ...(authorization === null ? {} : { authorization }),
          // Framed, whatever the method: node's client sends a GET's body unframed, as the next request.
          ...(b === undefined ? {} : { 'content-length': String(b.length) }),
        },
        body: b,
      }));

    const agent = new http.Agent({ keepAlive: true });
    try {
      await fc.assert(
        fc.asyncProperty(fuzzRequest, async (r) => expectApiAnswer(await send(srv.base, agent, r), r)),
        { numRuns: 300 },
      );
    } finally {
      agent.destroy();
    }
    expect((await request(`${srv.base}/healthz`)).status).to.equal(200);
    const ok = await postJson(`${srv.base}/v1/tasks/${srv.tasks[0]!.task}/predict`, await validPredictBody(srv.tasks[0]!));
    expect(ok.status, ok.text).to.equal(200);
    expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
  });
});
