/**
 * How long a request had waited before this process read it.
 *
 * Models run to completion (zoo/onnx.ts), so a busy worker reads the next request only once it has
 * answered the ones before: under load the queue is in the kernel's socket buffers, where the
 * server's clock cannot see it. Two estimates of the wait, of which the smaller counts:
 * - The event loop: each turn reads every request that is ready and serves them one after the
 *   other. A request read now waited for the requests of this turn served before it and, if the
 *   turn began without a pause (no idle time since the last turn ended: the request was already
 *   there), for the part of the turn before that followed its arrival: half of it, expected. The
 *   loop's idle time tells the cases apart. (The latency model's margin, steered by the answers
 *   that came late counting this wait, covers what the expectation misses.)
 * - The connection: an HTTP/1.1 client sends its next request on a connection once it has the
 *   answer to the one before, so a request waited at most since the last answer on its connection.
 *   This one is tight for a client that asks again at once (one that arrived at the very end of the
 *   last turn is not charged the whole turn), the first for a client that pauses.
 * `ReadWait` is pure: the caller brings the clock, the loop's idle time and the time of the
 * connection's last answer, and calls `endTurn` once per turn that read a request. `ReadWaitClock`
 * is that caller, on an injected clock and event loop (serve/clock.ts) and the service's connections.
 */
import type { LoopClock } from './clock.js';

/** Idle time, in ms, below which the loop did not pause between two turns (a poll that found work). */
const NO_PAUSE_MS = 0.05;

export class ReadWait {
  private turnEndedAtMs = 0;
  private idleAtTurnEndMs = 0;
  private lastTurnMs = 0;
  private firstReadOfTurn = true;
  /** Since when this turn's requests have waited to be read, and for how much of the last turn. */
  private turnStartAtMs = 0;
  private carryMs = 0;

  /**
   * Estimated wait, in ms, of a request read at `atMs`, the loop's idle counter at `idleMs`, on a
   * connection last answered at `lastAnswerAtMs` (none: a new connection, or none answered yet).
   */
  waitedMs(atMs: number, idleMs: number, lastAnswerAtMs?: number): number {
    if (this.firstReadOfTurn) {
      this.firstReadOfTurn = false;
      // After a pause the requests of this turn arrived during it: they wait from the turn's first
      // read. Without one they were there when the last turn ended, and arrived while it ran: on
      // average half-way through it.
      const paused = idleMs - this.idleAtTurnEndMs > NO_PAUSE_MS;
      this.turnStartAtMs = paused ? atMs : this.turnEndedAtMs;
      this.carryMs = paused ? 0 : this.lastTurnMs / 2;
    }
    const byLoop = atMs - this.turnStartAtMs + this.carryMs;
    return lastAnswerAtMs === undefined ? byLoop : Math.min(byLoop, Math.max(0, atMs - lastAnswerAtMs));
  }

  /** A turn of the loop that read requests ended at `atMs`, the loop's idle counter at `idleMs`. */
  endTurn(atMs: number, idleMs: number): void {
    this.lastTurnMs = atMs - this.turnStartAtMs;
    this.turnEndedAtMs = atMs;
    this.idleAtTurnEndMs = idleMs;
    this.firstReadOfTurn = true;
  }
}

/** `ReadWait` on a process's clock, event loop and connections: one per app, so that each turn ends once. */
export class ReadWaitClock {
  private readonly estimate = new ReadWait();
  private turnEndPending = false;
  /** Keyed by connection (a socket), forgotten with it. */
  private readonly lastAnswerAt = new WeakMap<object, number>();

  constructor(private readonly clock: LoopClock) {}

  /** Estimated wait, in ms, of a request read at `atMs` on `connection`. */
  waitedMs(atMs: number, connection: object): number {
    const waited = this.estimate.waitedMs(atMs, this.clock.idleMs(), this.lastAnswerAt.get(connection));
    if (!this.turnEndPending) {
      this.turnEndPending = true;
      this.clock.afterTurn(() => {
        this.turnEndPending = false;
        this.estimate.endTurn(this.clock.now(), this.clock.idleMs());
      });
    }
    return waited;
  }

  /** The answer to a request on `connection` went out at `atMs`. */
  answered(connection: object, atMs: number): void {
    this.lastAnswerAt.set(connection, atMs);
  }
}
