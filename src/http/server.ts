/**
 * The node server an app runs in, making each request and response with the app's own prototypes.
 * express gives every request and response it takes its prototypes (app.request, app.response) by
 * Object.setPrototypeOf, which moves each object to a shape of its own and leaves node's HTTP code
 * and express's own, which handle it next, handling two shapes of everything. Made with those
 * prototypes from the start, express's call changes nothing: the service answered GET /healthz
 * at 2.5 times the rate, and routed predictions at 1.05 to 1.37 times, the more so the less their
 * models and decoding cost (npm run bench:server, bench/server/RESULTS.md). express still does all it did (its request and response methods,
 * routing, errors); only where the objects get their prototypes from moves.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/**
 * A constructor of `base`'s objects whose prototype is `prototype` itself (what express sets) rather
 * than `base.prototype`: `base` called on an object made with it, as node's own subclasses of these
 * constructors do. (Reflect.construct with this constructor as new.target made objects of a slow
 * shape, slower than express's re-prototyping: measured.)
 */
function withPrototype<T extends object>(base: (this: T, ...args: never[]) => void, prototype: object): new (...args: never[]) => T {
  function made(this: T, ...args: never[]): void {
    base.apply(this, args);
  }
  made.prototype = prototype;
  return made as unknown as new (...args: never[]) => T;
}

/** Whether node's constructors are plain functions, callable on an object made elsewhere (node 20's are; a class's is not). */
const CALLABLE = [IncomingMessage, ServerResponse].every((c) => !/^class\b/.test(Function.prototype.toString.call(c)));

/**
 * Each app's two constructors, made once: the objects of every server of the app (its warm-up's,
 * then the one it listens on) then have the same shapes, which the engine's optimised code expects.
 */
const constructors = new WeakMap<Express, { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse }>();

/** A server for `app` (not yet listening) whose requests and responses express needs not re-prototype (a plain one where node's constructors are classes). */
export function createAppServer(app: Express): Server {
  if (!CALLABLE) return createServer(app);
  let made = constructors.get(app);
  if (made === undefined) {
    made = {
      IncomingMessage: withPrototype(IncomingMessage as unknown as (this: IncomingMessage) => void, app.request) as typeof IncomingMessage,
      ServerResponse: withPrototype(ServerResponse as unknown as (this: ServerResponse) => void, app.response) as unknown as typeof ServerResponse,
    };
    constructors.set(app, made);
  }
  return createServer(made, app);
}

/**
 * express's app.listen on such a server: the arguments of net.Server's listen, a last callback called
 * once, on listening or with the error that stopped it.
 */
export function listenOn(app: Express, args: unknown[]): Server {
  const server = createAppServer(app);
  const last = args[args.length - 1];
  if (typeof last === 'function') {
    let called = false;
    const done = (err?: Error) => {
      if (called) return;
      called = true;
      (last as (err?: Error) => void)(err);
    };
    args = [...args.slice(0, -1), done];
    server.once('error', done);
  }
  return server.listen(...(args as Parameters<Server['listen']>));
}
