import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Express } from 'express';
import { buildApp } from '../../src/http/app.js';
import { createAppServer, listenOn } from '../../src/http/server.js';
import { config, loadPlane, validPredictBody } from './server.js';

function listening(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function closed(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What a client sees of an answer, less the Date header and the length (a prediction's timings differ in digits). */
async function seen(url: string, init: RequestInit = {}): Promise<{ status: number; headers: [string, string][]; body: string }> {
  // One request id for both servers: a fresh one differs per answer.
  const res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'x-request-id': 'same-id' } });
  const headers = [...res.headers].filter(([name]) => name !== 'date' && name !== 'content-length');
  return { status: res.status, headers, body: await res.text() };
}

describe('http/server (requests and responses made with the app\'s prototypes)', () => {
  it('hands the app requests and responses that already have its prototypes, as node made them', async () => {
    const seenBy: { request: boolean; response: boolean; incoming: boolean; url: string }[] = [];
    const request = Object.create(IncomingMessage.prototype) as object;
    const response = Object.create(ServerResponse.prototype) as object;
    const app = Object.assign(
      (req: IncomingMessage, res: ServerResponse) => {
        seenBy.push({ request: Object.getPrototypeOf(req) === request, response: Object.getPrototypeOf(res) === response, incoming: req instanceof IncomingMessage, url: req.url ?? '' });
        res.end('ok');
      },
      { request, response },
    ) as unknown as Express;
    const server = createAppServer(app);
    const base = await listening(server);
    try {
      expect(await (await fetch(`${base}/a?b=1`)).text()).to.equal('ok');
      expect(seenBy).to.deep.equal([{ request: true, response: true, incoming: true, url: '/a?b=1' }]);
    } finally {
      await closed(server);
    }
  });

  it("answers as express's own server does: the same status, headers and body, predictions and errors alike", async () => {
    const plane = await loadPlane();
    const app = buildApp(plane, config);
    const ours = app.listen(0, '127.0.0.1');
    const plain = http.createServer(app);
    const [a, b] = await Promise.all([new Promise<string>((resolve) => ours.once('listening', () => resolve(`http://127.0.0.1:${(ours.address() as AddressInfo).port}`))), listening(plain)]);
    try {
      const task = plane.describe()[0]!;
      const predict = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...(await validPredictBody(task)), model: task.models[0]!.id }) };
      for (const [path, init] of [['/healthz'], ['/no-such-route'], ['/v1/tasks'], [`/v1/tasks/${task.task}/predict`, predict], [`/v1/tasks/${task.task}/predict`, { ...predict, body: '{' }]] as [string, RequestInit?][]) {
        const [mine, theirs] = [await seen(a + path, init), await seen(b + path, init)];
        // A prediction's signed decision and its timings differ per answer; all else is the same.
        const strip = (body: string) => body.replace(/"requestId":"[^"]*"/, '').replace(/"(\w+Ms)":[\d.e-]+/g, '"$1":0').replace(/[\d.]+ ms/g, 'ms');
        expect({ ...mine, body: strip(mine.body) }, path).to.deep.equal({ ...theirs, body: strip(theirs.body) });
      }
    } finally {
      await Promise.all([closed(ours), closed(plain)]);
      await app.service.close();
    }
  });

  it("listens as express's app.listen does: the callback once, with the error when the port is taken", async () => {
    const taken = http.createServer();
    const base = await listening(taken);
    const port = Number(new URL(base).port);
    try {
      const calls: (Error | undefined)[] = [];
      const app = buildApp(await loadPlane(), config);
      await new Promise<void>((resolve) => {
        listenOn(app, [port, '127.0.0.1', (err?: Error) => {
          calls.push(err);
          resolve();
        }]);
      });
      expect(calls).to.have.length(1);
      expect((calls[0] as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
      await app.service.close();
    } finally {
      await closed(taken);
    }
  });
});
