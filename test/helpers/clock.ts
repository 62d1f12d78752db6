/**
 * A clock that moves only when a test says so, with an event loop whose idle time the test sets:
 * what the request path plans with (stage timings, the latency model's moments, the wait to be
 * read) is then exact, however busy the machine running the tests is.
 */
import type { LoopClock } from '../../src/serve/clock.js';

export class ManualClock implements LoopClock {
  private nowMs = 1000;
  private idle = 0;

  now(): number {
    return this.nowMs;
  }

  idleMs(): number {
    return this.idle;
  }

  afterTurn(callback: () => void): void {
    setImmediate(callback);
  }

  /** Moves the clock by `ms`, of which the event loop spent `idleMs` idle (all of it by default: the service waited). */
  advance(ms: number, idleMs = ms): void {
    this.nowMs += ms;
    this.idle += idleMs;
  }
}
