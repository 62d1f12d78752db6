/**
 * Imported into a service by `npm run bench:server` (node --import) to measure src/http/server.ts
 * against: the service's server made as express's own app.listen makes it, with node's request and
 * response constructors, which express then re-prototypes per request.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type * as Http from 'node:http';

const http = createRequire(import.meta.url)('node:http') as typeof Http;
const createServer = http.createServer;
// The options that carry the constructors are dropped; the app, the listener, is kept.
http.createServer = ((...args: unknown[]) => createServer(args.find((a) => typeof a === 'function') as Http.RequestListener)) as typeof http.createServer;
syncBuiltinESMExports();
