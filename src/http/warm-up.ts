/**
 * Warm start: before a worker listens, its whole request path (HTTP parsing, routing, body parsing
 * and validation, the stages, the JSON answer) serves a few requests of every task, so that the
 * code the engine compiles on first use is compiled before the first client's request: without it
 * the first predict of a fresh worker took about 10 ms more on the server than the tenth.
 *
 * The requests go to a throwaway app over the same data plane, on a loopback port of this process
 * alone (exclusive: in a cluster the shared port could hand them to another worker), so the real
 * app's metrics, logs and wait estimates never see them; the drift monitors start afresh after.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataPlane } from '../serve/dataplane.js';
import { buildApp, type HttpConfig } from './app.js';

/** Rounds of requests per task: the engine optimises a function after a few calls. */
export const WARM_UP_ROUNDS = 5;

export async function warmUpRequestPath(plane: DataPlane, config: Readonly<HttpConfig>): Promise<void> {
  const app = buildApp(plane, config);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(s));
    s.once('error', reject);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const inputs = await Promise.all(plane.tasks.map(async (task) => ({ name: task.name, wires: await task.inputs.warmUpInputs() })));
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      await fetch(`${base}/v1/tasks`).then((r) => r.arrayBuffer());
      for (const { name, wires } of inputs) {
        const url = `${base}/v1/tasks/${encodeURIComponent(name)}/predict`;
        for (const wire of wires) {
          const request: RequestInit =
            wire.form === 'upload'
              ? { method: 'POST', headers: { 'content-type': wire.mediaType }, body: new Uint8Array(wire.bytes) as BodyInit }
              : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: wire.form === 'json' ? { [wire.field]: wire.value } : {} }) };
          // Every answer is read to its end; a warm-up request that fails is no reason not to serve.
          await fetch(url, request).then((r) => r.arrayBuffer(), () => undefined);
        }
      }
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    for (const task of plane.tasks) task.resetDrift();
  }
}
