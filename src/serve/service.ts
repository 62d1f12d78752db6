/**
 * The service's lifecycle around its data plane: readiness, shutdown, load shedding and hot
 * reload. Each inference request leases the data plane current when it starts and keeps it to
 * the end, so a reload swaps planes atomically (new requests see the new one) and disposes the
 * old one only once its last request has finished. A reload that fails leaves the old plane
 * serving. Knows nothing of HTTP.
 */
import { ArtifactError, OverloadedError, ReloadRefusedError, UnavailableError } from '../errors/index.js';
import type { Metrics } from '../metrics/index.js';
import type { DataPlane } from './dataplane.js';
import { MODEL_RUNS, type InferenceRequest, type Prediction } from './request.js';
import type { ServedTask } from './task.js';

export interface Lease {
  readonly plane: DataPlane;
  /** Ends the request's hold (idempotent); the lease ends once work it pinned has settled too. */
  release(): void;
  /** Keeps the plane (and the in-flight slot) until `work` settles, even if the client went away. */
  pin<T>(work: Promise<T>): Promise<T>;
}

/** Each input group's drift PSIs (null under the monitor's minimum rows). */
export function driftOf(task: ServedTask): { group: string; featurePsi: number | null; feature: string | null; confidencePsi: number | null; drifted: boolean; rows: number }[] {
  const groups = task.drift?.snapshot().groups ?? {};
  return Object.entries(groups).map(([group, g]) => ({
    group,
    featurePsi: g.featurePsi?.psi ?? null,
    feature: g.featurePsi?.feature ?? null,
    confidencePsi: g.confidencePsi ?? null,
    drifted: g.drifted,
    rows: g.confidenceRows,
  }));
}

export type PlaneLoader = () => Promise<DataPlane>;

export class Service {
  private current: DataPlane;
  private readonly leases = new Map<DataPlane, number>();
  /** Planes swapped out while requests still held them. */
  private readonly retired = new Set<DataPlane>();
  private reloading: Promise<unknown> = Promise.resolve();
  private closing = false;
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    plane: DataPlane,
    private readonly limits: { maxInFlight: number; retryAfterS: number },
    private readonly metrics: Metrics,
  ) {
    this.current = plane;
    metrics.watchLatency(() => this.current.expectedLatencies());
    metrics.watchQuality(() => this.current.tasks.map((t) => ({ task: t.name, ...t.quality.snapshot(), drift: driftOf(t) })));
  }

  get plane(): DataPlane {
    return this.current;
  }

  /** Ready to take inference requests: loaded (it is, once constructed) and not shutting down. */
  get ready(): boolean {
    return !this.closing;
  }

  get shuttingDown(): boolean {
    return this.closing;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Admits one inference request or refuses it (503): shutting down, or too many in flight. */
  admit(): Lease {
    if (this.closing) {
      this.metrics.rejected.inc({ reason: 'shutting_down' });
      throw new UnavailableError('the service is shutting down; retry on another instance');
    }
    if (this.inFlight >= this.limits.maxInFlight) {
      this.metrics.rejected.inc({ reason: 'overloaded' });
      throw new OverloadedError(
        `${this.inFlight} requests are in flight, the limit (MAX_IN_FLIGHT) is ${this.limits.maxInFlight}; retry in ${this.limits.retryAfterS} s`,
        this.limits.retryAfterS,
      );
    }
    const plane = this.current;
    this.inFlight++;
    this.metrics.inFlight.set(this.inFlight);
    this.leases.set(plane, (this.leases.get(plane) ?? 0) + 1);
    let released = false;
    let holds = 1;
    const drop = () => {
      if (--holds === 0) this.end(plane);
    };
    return {
      plane,
      release: () => {
        if (released) return;
        released = true;
        drop();
      },
      pin: (work) => {
        holds++;
        return work.finally(drop);
      },
    };
  }

  /** A request's lease ended: free its slot, and dispose its plane if retired and now idle. */
  private end(plane: DataPlane): void {
    this.inFlight--;
    this.metrics.inFlight.set(this.inFlight);
    const left = (this.leases.get(plane) ?? 1) - 1;
    if (left > 0) {
      this.leases.set(plane, left);
    } else {
      this.leases.delete(plane);
      if (this.retired.delete(plane)) plane.dispose();
    }
    if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
  }

  /**
   * Answers `request` on `task` of the plane `lease` holds, pinned: a client that goes away
   * mid-inference does not free the plane under the sessions. Records the prediction, and the
   * requests shed because the load leaves no model able to answer within their budget.
   */
  async infer(lease: Lease, task: ServedTask, request: InferenceRequest): Promise<Prediction> {
    const prediction = await lease.pin(task.predict(request)).catch((err: unknown) => {
      if (err instanceof OverloadedError) this.metrics.rejected.inc({ reason: 'deadline' });
      throw err;
    });
    this.metrics.observePrediction(prediction, prediction[MODEL_RUNS], request.constraint.model !== undefined);
    return prediction;
  }

  /**
   * Loads a new data plane and swaps it in; the old one is disposed once idle. Reloads run one at
   * a time. A broken artifact refuses the reload (ReloadRefusedError) and the old plane serves on.
   */
  reload(load: PlaneLoader): Promise<DataPlane> {
    const run = this.reloading.then(async () => {
      if (this.closing) throw new UnavailableError('the service is shutting down');
      let next: DataPlane;
      try {
        next = await load();
      } catch (err) {
        this.metrics.reloads.inc({ result: 'refused' });
        const problems = err instanceof ArtifactError ? err.message : String(err);
        throw new ReloadRefusedError(`reload refused, the loaded artifacts keep serving: ${problems}`);
      }
      if (this.closing) {
        next.dispose();
        throw new UnavailableError('the service is shutting down');
      }
      const old = this.current;
      this.current = next;
      this.metrics.reloads.inc({ result: 'ok' });
      if ((this.leases.get(old) ?? 0) > 0) this.retired.add(old);
      else old.dispose();
      return next;
    });
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /** Stops admitting requests (readiness turns false); in-flight ones carry on. */
  beginShutdown(): void {
    this.closing = true;
  }

  /** Resolves when no inference request is in flight (or after `timeoutMs`: false). */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Shuts down: refuses new requests, waits for a reload under way, disposes every plane. */
  async close(): Promise<void> {
    this.beginShutdown();
    await this.reloading;
    const planes = new Set([this.current, ...this.retired]);
    this.retired.clear();
    for (const plane of planes) plane.dispose();
  }
}
