/**
 * A real listening service for the HTTP tests: a data plane (by default the tiny zoo of
 * test/fixtures/tiny, which loads in milliseconds; the real zoos for the tests about them), the app
 * on an ephemeral port of 127.0.0.1, and a close() that ends every connection, the server and the
 * sessions. Plus small request helpers, synthetic inputs (PNG made with sharp, windows from
 * test/helpers) and the assertions every error reply must pass (its JSON shape, nothing internal).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import sharp from 'sharp';
import { configFromEnv } from '../../src/config/env.js';
import { buildApp, type App, type BuildOptions, type HttpConfig } from '../../src/http/app.js';
import { DataPlane, type DataPlaneOptions, type TaskDescription } from '../../src/serve/dataplane.js';
import { syntheticWindow } from '../helpers/windows.js';

export const config = configFromEnv({});

export interface ZooFolders {
  zooDir: string;
  premodelDir: string;
}
/** Two tasks of three tiny models each (npm run make-fixtures): for the tests that only need "a zoo". */
export const TINY_ZOO: ZooFolders = Object.freeze({ zooDir: 'test/fixtures/tiny/zoo', premodelDir: 'test/fixtures/tiny/premodel' });
/** The committed zoos and premodels that `npm start` serves. */
export const FULL_ZOO: ZooFolders = Object.freeze({ zooDir: 'zoo', premodelDir: 'premodel' });

export function loadPlane(zoo: ZooFolders = TINY_ZOO, options: Partial<DataPlaneOptions> = {}): Promise<DataPlane> {
  return DataPlane.load({ ...zoo, intraOpThreads: 1, defaultMaxLatencyMs: Number.POSITIVE_INFINITY, ...options });
}

export interface TestServer {
  base: string;
  app: App;
  server: http.Server;
  tasks: TaskDescription[];
  /** The first task of each kind, if the zoo has one. */
  imageTask?: TaskDescription;
  windowTask?: TaskDescription;
  close(): Promise<void>;
}

export async function startServer(
  overrides: Partial<HttpConfig> = {},
  options: BuildOptions = {},
  load: () => Promise<DataPlane> = () => loadPlane(),
): Promise<TestServer> {
  const plane = await load();
  const app = buildApp(plane, { ...config, ...overrides }, options);
  const server = await new Promise<http.Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const tasks = plane.describe();
  const imageTask = tasks.find((t) => t.kind === 'image');
  const windowTask = tasks.find((t) => t.kind === 'window');
  return {
    base: `http://127.0.0.1:${port}`,
    app,
    server,
    tasks,
    ...(imageTask === undefined ? {} : { imageTask }),
    ...(windowTask === undefined ? {} : { windowTask }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.service.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export async function request(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

export function postJson(url: string, body: unknown): Promise<Reply> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export function postBytes(url: string, bytes: Uint8Array, type: string): Promise<Reply> {
  return request(url, { method: 'POST', headers: { 'content-type': type }, body: bytes as unknown as BodyInit });
}

/** A colour test card (a bright square on a dark field) of any size, encoded by sharp. */
export async function syntheticImage(width: number, height: number, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3, 20);
  for (let y = Math.floor(height / 4); y < Math.floor((3 * height) / 4); y++) {
    for (let x = Math.floor(width / 4); x < Math.floor((3 * width) / 4); x++) pixels.fill(230, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

/** The window a window task takes: its length and channel count. */
export function windowShape(task: TaskDescription): { length: number; channels: number } {
  const { length, channels } = task.input as { length: number; channels: number };
  return { length, channels };
}

/** A synthetic window as the nested samples x channels array clients send. */
export function windowArray(length: number, channels: number, activity: 'walking' | 'still' = 'walking'): number[][] {
  const flat = syntheticWindow(length, channels, activity);
  return Array.from({ length }, (_, t) => Array.from(flat.subarray(t * channels, (t + 1) * channels)));
}

/**
 * Starts a POST whose body is only partly sent, so that the request stays in flight until
 * `finish()` sends the rest; resolves with the reply then.
 */
export function heldRequest(url: string, body: Buffer, type: string): { finish(): Promise<{ status: number; body: string }> } {
  const u = new URL(url);
  const half = Math.floor(body.length / 2);
  let resolveReply: (r: { status: number; body: string }) => void;
  let rejectReply: (e: Error) => void;
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    resolveReply = resolve;
    rejectReply = reject;
  });
  const req = http.request(
    { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'content-type': type, 'content-length': body.length } },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, body: text }));
    },
  );
  req.on('error', (e) => rejectReply(e));
  req.write(body.subarray(0, half));
  return {
    finish() {
      req.end(body.subarray(half));
      return reply;
    },
  };
}

/** Waits until `check()` holds (polling), for server-side effects of a request being sent. */
export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One server for a describe block: started before its tests, closed after; `use` receives it. */
export function serverPerSuite(
  use: (server: TestServer) => void,
  overrides: Partial<HttpConfig> = {},
  options: BuildOptions = {},
  load?: () => Promise<DataPlane>,
): void {
  let server: TestServer | undefined;
  before(async () => {
    server = await startServer(overrides, options, load);
    use(server);
  });
  after(async () => {
    await server?.close();
  });
}

/** A committed Fashion-MNIST sample (an ankle boot), 28x28 grey PNG: any image task takes it, resized. */
export const SAMPLE_PNG = 'test/fixtures/fashion/test-0-class-9.png';

/** A JSON predict body the task serves (200): the sample image, or a synthetic walking window. */
export async function validPredictBody(task: TaskDescription): Promise<{ input: { image: string } | { window: number[][] } }> {
  if (task.kind === 'image') return { input: { image: (await readFile(SAMPLE_PNG)).toString('base64') } };
  const { length, channels } = windowShape(task);
  return { input: { window: windowArray(length, channels) } };
}

/** Asserts that a response body shows no stack frame, source location or local path. */
export function expectNoInternals(text: string): void {
  expect(text).not.to.contain(process.cwd());
  expect(text).not.to.contain('node_modules');
  expect(text).not.to.match(/\.[cm]?[jt]s:\d+/);
  expect(text).not.to.match(/^\s*at \S/m);
}

/** Asserts a v1 error reply: the status, `{"error": {"code", "message"}}` as JSON, nothing internal. */
export function expectError(r: Reply, status: number, code: string, message?: RegExp): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.match(/application\/json/);
  expect(r.body).to.have.keys('error');
  expect(r.body.error).to.have.keys('code', 'message');
  expect(r.body.error.code).to.equal(code);
  expect(r.body.error.message).to.be.a('string').that.is.not.empty;
  if (message) expect(r.body.error.message).to.match(message);
  expectNoInternals(r.text);
}

/** Asserts an Open Inference Protocol error reply: the status, `{"error": "<message>"}`, nothing internal. */
export function expectV2Error(r: Reply, status: number, message?: RegExp): void {
  expect(r.status, r.text).to.equal(status);
  expect(r.headers.get('content-type')).to.match(/application\/json/);
  expect(r.body).to.have.keys('error');
  expect(r.body.error).to.be.a('string').that.is.not.empty;
  if (message) expect(r.body.error).to.match(message);
  expectNoInternals(r.text);
}
