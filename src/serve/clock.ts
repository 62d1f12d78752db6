/**
 * The clock of the request path, injected wherever behaviour depends on time (the latency model's
 * moments, the wait to be read, the stages' timings), so that tests drive time instead of waiting
 * for it.
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds on a monotonic clock (performance.now()). */
  now(): number;
}

/** What the wait-to-be-read estimate also reads of the process: the event loop. */
export interface LoopClock extends Clock {
  /** The event loop's idle time so far, in ms (performance.eventLoopUtilization().idle). */
  idleMs(): number;
  /** Runs `callback` once the current turn of the event loop has read and served what was ready. */
  afterTurn(callback: () => void): void;
}

export const systemClock: LoopClock = Object.freeze({
  now: () => performance.now(),
  idleMs: () => performance.eventLoopUtilization().idle,
  // The check phase: after this turn's poll, so after every request that was ready was read.
  afterTurn: (callback: () => void) => void setImmediate(callback),
});
