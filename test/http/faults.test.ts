/**
 * Faults an operator meets: reloads under load, broken artifacts on reload, a broken zoo at
 * start-up, SIGTERM with requests in flight. The last two run the real entry point (src/main.ts)
 * as a child process. test/http/ops.test.ts covers a reload with a request held across it and a
 * reload refused for an empty folder; these add load and real corruptions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DataPlane } from '../../src/serve/dataplane.js';
import { copyZoo, type ZooCopy } from '../helpers/zoo-copy.js';
import {
  expectError,
  heldRequest,
  postJson,
  request,
  startServer,
  TINY_ZOO,
  until,
  validPredictBody,
  type Reply,
  type TestServer,
} from './server.js';

const ADMIN_TOKEN = 'fault-test-token';
/** The tiny zoo's window task: each reload loads the zoo whole. */
const TASK = 'tiny-window';

function reload(srv: TestServer): Promise<Reply> {
  return request(`${srv.base}/v1/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
}

/** A task's zoo and premodel copied into temp folders, to be broken one file at a time. */
interface ArtifactCopy {
  zoo: ZooCopy;
  zooDir: string;
  premodelDir: string;
  /** The copy of `file`, a path relative to the task's zoo folder or, under premodel/, its premodel folder. */
  file(file: string): string;
  remove(): Promise<void>;
}

async function copyArtifacts(task: string): Promise<ArtifactCopy> {
  const zoo = await copyZoo(task, TINY_ZOO.zooDir);
  const premodelDir = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-premodel-'));
  await cp(path.join(TINY_ZOO.premodelDir, task), path.join(premodelDir, task), { recursive: true });
  return {
    zoo,
    zooDir: path.dirname(zoo.dir),
    premodelDir,
    file: (file) => (file.startsWith('premodel/') ? path.join(premodelDir, task, file.slice('premodel/'.length)) : path.join(zoo.dir, file)),
    async remove() {
      await zoo.remove();
      await rm(premodelDir, { recursive: true, force: true });
    },
  };
}

/**
 * The service as `npm start` runs it, in a child process, with JSON logs on stdout: one serving
 * process (WORKERS=1), whose requests in flight its /metrics count.
 */
interface ServiceProcess {
  child: ChildProcess;
  /** Resolves with the first log line whose msg starts with `msg`; rejects if the service exits first. */
  logLine(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', WORKERS: '1', LOG_LEVEL: 'info', FEEDBACK_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: Record<string, unknown>[] = [];
  const waiting: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  const matches = (line: Record<string, unknown>, msg: string) => typeof line.msg === 'string' && line.msg.startsWith(msg);
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const complete = (stdout.slice(stdout.lastIndexOf('\n') + 1) + chunk).split('\n').slice(0, -1);
    stdout += chunk;
    for (const text of complete) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const w of waiting.filter((x) => matches(line, x.msg))) w.resolve(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    child,
    exited,
    logLine: (msg) =>
      Promise.race([
        new Promise<Record<string, unknown>>((resolve) => {
          const seen = lines.find((line) => matches(line, msg));
          if (seen === undefined) waiting.push({ msg, resolve });
          else resolve(seen);
        }),
        exited.then(({ code, stderr: err }) => Promise.reject(new Error(`the service exited (${code}) before logging "${msg}": ${err}`))),
      ]),
  };
}

/** Whether `address` (host:port) accepts a new TCP connection: 'connected', or the error code. */
function tryConnect(address: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('http faults', function () {
  describe('reload', () => {
    let srv: TestServer;
    let copy: ArtifactCopy;
    let url: string;
    before(async () => {
      copy = await copyArtifacts(TASK);
      const load = () => DataPlane.load({ zooDir: copy.zooDir, premodelDir: copy.premodelDir, intraOpThreads: 1, defaultMaxLatencyMs: Infinity });
      srv = await startServer({ adminToken: ADMIN_TOKEN, maxInFlight: 10_000 }, { reload: load }, load);
      url = `${srv.base}/v1/tasks/${TASK}/predict`;
    });
    after(async () => {
      await srv.close();
      await copy.remove();
    });

    it('loses no request across several reloads under load', async () => {
      const body = await validPredictBody(srv.tasks[0]!);
      const planes = new Set([srv.app.service.plane]);
      let reloading = true;
      const reloads = (async () => {
        const statuses: number[] = [];
        try {
          for (let i = 0; i < 3; i++) {
            statuses.push((await reload(srv)).status);
            planes.add(srv.app.service.plane);
          }
        } finally {
          reloading = false;
        }
        return statuses;
      })();
      // Waves of concurrent requests for as long as the reloads last, and 200 requests at least.
      const statuses: number[] = [];
      while (reloading || statuses.length < 200) {
        const wave = await Promise.all(Array.from({ length: 20 }, () => postJson(url, body)));
        statuses.push(...wave.map((r) => r.status));
      }
      expect(await reloads).to.deep.equal([200, 200, 200]);
      expect(planes.size).to.equal(4);
      expect(statuses.filter((s) => s !== 200)).to.deep.equal([]);
      const metrics = await request(`${srv.base}/metrics`);
      expect(metrics.text).to.contain('adaptive_zoo_reloads_total{result="ok"} 3');
    });

    /** Breaks one file of the copy, reloads, and restores the file. */
    async function reloadWith(file: string, breakIt: (bytes: Buffer) => Buffer | undefined): Promise<Reply> {
      const target = copy.file(file);
      const good = await readFile(target);
      const broken = breakIt(Buffer.from(good));
      if (broken === undefined) await unlink(target);
      else await writeFile(target, broken);
      try {
        return await reload(srv);
      } finally {
        await writeFile(target, good);
      }
    }

    const model = () => copy.zoo.manifest.models[copy.zoo.manifest.models.length - 1]!;
    const cases: [string, () => string, (bytes: Buffer) => Buffer | undefined, () => RegExp][] = [
      ['a model file with changed bytes', () => model().file, (b) => b.fill(7, 100, 200), () => new RegExp(`${model().id}.*sha256`)],
      ['a missing model file', () => model().file, () => undefined, () => new RegExp(model().file)],
      ['a manifest that is not JSON', () => 'manifest.json', (b) => b.subarray(0, b.length / 2), () => /manifest\.json/],
      ['a premodel that is not JSON', () => 'premodel/premodel.json', (b) => b.subarray(0, b.length / 2), () => /premodel\.json/],
      [
        'a premodel trained for another zoo',
        () => 'premodel/premodel.json',
        (b) => Buffer.from(JSON.stringify({ ...JSON.parse(b.toString()), zooHash: '0'.repeat(64) })),
        () => /premodel\.json[\s\S]*zoo/,
      ],
    ];
    for (const [what, file, breakIt, message] of cases) {
      it(`refuses ${what} (422) and serves on with the loaded artifacts`, async () => {
        const serving = srv.app.service.plane;
        expectError(await reloadWith(file(), breakIt), 422, 'RELOAD_REFUSED', message());
        expect(srv.app.service.plane).to.equal(serving);
        const r = await postJson(url, await validPredictBody(srv.tasks[0]!));
        expect(r.status, r.text).to.equal(200);
      });
    }
  });

  describe('the service process', () => {
    it('refuses to start with a model file missing: a non-zero exit naming the file', async () => {
      const copy = await copyArtifacts(TASK);
      try {
        const missing = copy.zoo.manifest.models[0]!.file;
        await unlink(copy.file(missing));
        const { code, stderr } = await startService({ ZOO_DIR: copy.zooDir, PREMODEL_DIR: copy.premodelDir }).exited;
        expect(code).to.not.equal(0);
        expect(stderr).to.contain('cannot start').and.contain(missing);
      } finally {
        await copy.remove();
      }
    });

    it('on SIGTERM finishes the requests in flight, refuses new connections, and exits 0', async () => {
      const service = startService({ ZOO_DIR: TINY_ZOO.zooDir, PREMODEL_DIR: TINY_ZOO.premodelDir });
      try {
        const { address } = (await service.logLine('listening')) as { address: string };
        const base = `http://${address}`;
        const tasks = (await request(`${base}/v1/tasks`)).body.tasks as TestServer['tasks'];
        const inFlight = await Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            const t = tasks[i % tasks.length]!;
            return heldRequest(`${base}/v1/tasks/${t.task}/predict`, Buffer.from(JSON.stringify(await validPredictBody(t))), 'application/json');
          }),
        );
        let held = 0;
        const metric = /^adaptive_zoo_requests_in_flight (\d+)$/m;
        const poll = setInterval(() => void request(`${base}/metrics`).then((r) => (held = Number(metric.exec(r.text)?.[1] ?? 0)), () => undefined), 20);
        try {
          await until(() => held === inFlight.length, 5000);
        } finally {
          clearInterval(poll);
        }
        const stopping = service.logLine('shutting down');
        service.child.kill('SIGTERM');
        await stopping;
        // The listening socket closes right after that line is logged.
        let connection = await tryConnect(address);
        for (const end = Date.now() + 2000; connection !== 'ECONNREFUSED' && Date.now() < end; ) connection = await tryConnect(address);
        expect(connection).to.equal('ECONNREFUSED');
        const replies = await Promise.all(inFlight.map((h) => h.finish()));
        expect(replies.map((r) => r.status)).to.deep.equal(inFlight.map(() => 200));
        const { code, stdout } = await service.exited;
        expect(code).to.equal(0);
        expect(stdout).to.contain('"msg":"stopped"');
      } finally {
        service.child.kill('SIGKILL');
      }
    });
  });
});
