/**
 * Warm start: before a worker listens, its whole request path (HTTP parsing, routing, body parsing
 * and validation, the stages, the JSON answer) serves a few requests of every task, so that the
 * code the engine compiles on first use is compiled before the first client's request: without it
 * the first predict of a fresh worker took about 10 ms more on the server than the tenth.
 *
 * The app that will serve clients answers them itself: the engine keeps its type feedback per
 * closure, so a throwaway app of the same code warms the shared functions but not the handlers
 * the real app made for itself. They go to a loopback port of this process alone (exclusive: in a
 * cluster the shared port could hand them to another worker); the app keeps them out of its logs,
 * metrics and wait estimates (App.warmUp), and the drift monitors start afresh after.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataPlane } from '../serve/dataplane.js';

/** Rounds of requests per task: the engine optimises a function after a few calls. */
export const WARM_UP_ROUNDS = 5;

/** Serves the warm-up requests of every task of `plane` on a fresh server of the app (`createServer`), on a port of its own. */
export async function serveWarmUpRequests(createServer: () => Server, plane: DataPlane): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve());
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
