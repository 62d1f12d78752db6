/**
 * Load against a live server, the one generator behind `npm run bench` and `npm run soak`:
 * autocannon keeps `connections` requests in flight over keep-alive connections, each connection
 * cycling through the given requests, until a duration or a count runs out. Every answer is
 * recorded under its request's label: its status, the latency the client saw, and, for a
 * prediction answered 200, the model that answered and the server's own stage timings.
 */
import autocannon from 'autocannon';
import type { StageTiming } from '../../src/serve/request.js';

export interface LoadRequest {
  /** What the request stands for in the results ("fashion routed", "invalid: malformed JSON"). */
  label: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LoadOptions {
  /** The server, as http://host:port. */
  base: string;
  requests: readonly LoadRequest[];
  /** Requests kept in flight. */
  connections: number;
  /** Stops after this many seconds... */
  durationS: number;
  /** ...or once this many requests are answered, whichever comes first. */
  amount?: number;
}

/** The answers to the requests of one label. */
export interface Answers {
  /** Latency of each answer as the client saw it, in ms, by HTTP status. */
  clientMs: Map<number, number[]>;
  /** The stage timings of each prediction answered 200. */
  timings: StageTiming[];
  /** Predictions answered 200, by the model that answered. */
  models: Map<string, number>;
}

export interface LoadResult {
  /** Wall time of the run, in s. */
  durationS: number;
  byLabel: Map<string, Answers>;
  /** Requests that got no answer: connection errors, timeouts. */
  errors: number;
  /** CPU time this process (the generator) spent meanwhile, in s: near the wall time, it was the bottleneck. */
  generatorCpuS: number;
}

const TIMING = /"timing":(\{[^}]*\})/;
/** The answer's top-level task and model: they come first, after the request id (a token without quotes). */
const MODEL = /^\{"requestId":"[^"]*","task":"[^"]*","model":"([^"]+)"/;

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const byLabel = new Map<string, Answers>();
  // autocannon reports an answer twice, in a row: its body to the request's onResponse, then its
  // latency to the instance's 'response' event; this carries the label from one to the other.
  let answered: Answers | undefined;
  const requests = options.requests.map((r) => {
    let answers = byLabel.get(r.label);
    if (answers === undefined) {
      answers = { clientMs: new Map(), timings: [], models: new Map() };
      byLabel.set(r.label, answers);
    }
    const mine = answers;
    return {
      method: r.method,
      path: r.path,
      ...(r.headers === undefined ? {} : { headers: r.headers }),
      ...(r.body === undefined ? {} : { body: r.body }),
      onResponse: (status: number, body: string) => {
        if (status === 200) {
          const timing = TIMING.exec(body)?.[1];
          const model = MODEL.exec(body)?.[1];
          if (timing !== undefined) mine.timings.push(JSON.parse(timing) as StageTiming);
          if (model !== undefined) mine.models.set(model, (mine.models.get(model) ?? 0) + 1);
        }
        answered = mine;
      },
    };
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.base,
        connections: options.connections,
        duration: options.durationS,
        ...(options.amount === undefined ? {} : { amount: options.amount }),
        requests,
        timeout: 10,
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else {
          const cpu = process.cpuUsage(cpuBefore);
          resolve({ durationS: (performance.now() - started) / 1000, byLabel, errors: result.errors, generatorCpuS: (cpu.user + cpu.system) / 1e6 });
        }
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (answered === undefined) return;
      const latencies = answered.clientMs.get(status);
      if (latencies === undefined) answered.clientMs.set(status, [ms]);
      else latencies.push(ms);
      answered = undefined;
    });
    // `amount` overrides `duration` in autocannon: the duration still bounds the run.
    if (options.amount !== undefined) {
      const timer = setTimeout(() => instance.stop(), options.durationS * 1000);
      instance.on('done', () => clearTimeout(timer));
    }
  });
}

/** How many answers had `status` (all of them without one). */
export function answerCount(answers: Answers, status?: number): number {
  if (status !== undefined) return answers.clientMs.get(status)?.length ?? 0;
  return [...answers.clientMs.values()].reduce((n, latencies) => n + latencies.length, 0);
}
