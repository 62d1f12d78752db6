/**
 * The data plane: the registry of served tasks (each a zoo with its premodel), loaded and checked
 * once at start-up, and the lookups the HTTP adapters need (v1 and the Open Inference Protocol).
 * It knows nothing of HTTP; unknown names fail with NotFoundError listing the valid ones.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CORRECTION_DEFAULTS, LATENCY_DEFAULTS, SERVICE_DEFAULTS } from '../config/defaults.js';
import { DecisionSigner } from '../feedback/token.js';
import type { CorrectionOptions } from '../quality/realized.js';
import { ArtifactError, NotFoundError } from '../errors/index.js';
import { taskInputs } from '../inputs/registry.js';
import { loadPremodel } from '../premodel/premodel.js';
import { loadZoos, type Zoo, type ZooModel } from '../zoo/repository.js';
import type { BatchScheduler } from './batcher.js';
import type { Clock } from './clock.js';
import { LatencyModel } from './latency.js';
import { ServedTask, type BatchingOptions } from './task.js';

export interface DataPlaneOptions {
  zooDir: string;
  premodelDir: string;
  intraOpThreads: number;
  /** Budget applied when a request gives no maxLatencyMs (Infinity: none). */
  defaultMaxLatencyMs: number;
  /** The process's live latency model, kept across reloads; default: a fresh adaptive one. */
  latency?: LatencyModel;
  /** Retry-After of a request shed because the load leaves no model able to meet its budget, in s. */
  retryAfterS?: number;
  /** The request path's clock; default: the system's. */
  clock?: Clock;
  /** Signs every prediction's decision (its requestId); default: a random key, so feedback only reaches this process. */
  signer?: DecisionSigner;
  /** How label feedback corrects the operating points; default: CORRECTION_DEFAULTS. */
  correction?: Readonly<CorrectionOptions>;
  /** Dynamic batching (serve/batcher.ts); default: BATCHING_DEFAULTS. */
  batching?: Readonly<BatchingOptions>;
  /** When batches run; default: as the turn ends (setImmediate), or after the batch's wait (setTimeout). */
  batchScheduler?: BatchScheduler;
}

export interface TaskDescription {
  task: string;
  kind: string;
  /** What a request carries and what the models take (sizes, channels, rate), from the input kind. */
  input: Readonly<Record<string, unknown>>;
  classes: string[];
  /** The target of requests that give no constraint; per encoding group where calibration has groups. */
  defaultMinAccuracy: number;
  defaultMinAccuracyByGroup?: Record<string, number>;
  models: {
    id: string;
    method: string;
    parent: string | null;
    /** Whether accuracy targets are served from it (a rung of some calibrated ladder). */
    routed: boolean;
    accuracy: { premodel: number; test: number } | null;
    latencyMs: { p50: number; p95: number } | null;
    bytes: number;
    parameters: number;
    macs: number | null;
  }[];
}

export class DataPlane {
  private readonly byName: ReadonlyMap<string, ServedTask>;

  private constructor(tasks: ServedTask[]) {
    this.byName = new Map(tasks.map((t) => [t.name, t]));
  }

  /** Loads every zoo under zooDir with its premodel; refuses to start with any artifact broken. */
  static async load(options: DataPlaneOptions): Promise<DataPlane> {
    const zoos = await loadZoos(options.zooDir, { intraOpThreads: options.intraOpThreads });
    const latency = options.latency ?? new LatencyModel(LATENCY_DEFAULTS);
    const signer = options.signer ?? new DecisionSigner(randomBytes(32));
    const tasks: ServedTask[] = [];
    const problems: string[] = [];
    for (const zoo of zoos.values()) {
      try {
        const premodel = await loadPremodel(path.join(options.premodelDir, zoo.task), {
          task: zoo.task,
          zooHash: zoo.loaded.zooHash,
          featureNames: taskInputs(zoo.manifest).featureNames,
          modelIds: zoo.rungs.map((r) => r.id),
        });
        tasks.push(
          new ServedTask(zoo, premodel, {
            defaultMaxLatencyMs: options.defaultMaxLatencyMs,
            latency,
            retryAfterS: options.retryAfterS ?? SERVICE_DEFAULTS.retryAfterS,
            signer,
            correction: options.correction ?? CORRECTION_DEFAULTS,
            ...(options.batching === undefined ? {} : { batching: options.batching }),
            ...(options.batchScheduler === undefined ? {} : { batchScheduler: options.batchScheduler }),
            ...(options.clock === undefined ? {} : { clock: options.clock }),
          }),
        );
      } catch (err) {
        problems.push(err instanceof ArtifactError ? err.message : String(err));
      }
    }
    if (problems.length > 0) {
      for (const zoo of zoos.values()) zoo.dispose();
      throw new ArtifactError('premodels', problems);
    }
    for (const task of tasks) await task.warmUp();
    return new DataPlane(tasks);
  }

  get tasks(): ServedTask[] {
    return [...this.byName.values()];
  }

  task(name: string): ServedTask {
    const task = this.byName.get(name);
    if (task === undefined) {
      throw new NotFoundError(`there is no task "${name}"; the tasks are: ${[...this.byName.keys()].join(', ')}`);
    }
    return task;
  }

  /**
   * An Open Inference Protocol model name: a task ("fashion": routed by the premodel), or a zoo
   * model, as "task.model" or, where the id is unique across tasks, the bare id.
   */
  resolve(name: string): { task: ServedTask; model?: ZooModel } {
    const direct = this.byName.get(name);
    if (direct !== undefined) return { task: direct };
    const dot = name.indexOf('.');
    if (dot > 0) {
      const task = this.byName.get(name.slice(0, dot));
      if (task !== undefined) return { task, model: task.zoo.model(name.slice(dot + 1)) };
    }
    const matches = this.tasks.flatMap((task) => task.zoo.models.filter((m) => m.id === name).map((model) => ({ task, model })));
    if (matches.length === 1) return matches[0]!;
    const valid = this.tasks.flatMap((t) => [t.name, ...t.zoo.models.map((m) => `${t.name}.${m.id}`)]);
    throw new NotFoundError(
      matches.length > 1
        ? `model "${name}" exists in several tasks; name it as task.model: ${matches.map((m) => `${m.task.name}.${name}`).join(', ')}`
        : `there is no model or task "${name}"; valid names: ${valid.join(', ')}`,
    );
  }

  /** Each model's expected latency, read to answer, of a request read now. */
  *expectedLatencies(): Iterable<{ task: string; model: string; ms: number }> {
    for (const task of this.tasks) {
      const now = { atMs: task.clock.now(), elapsedMs: 0 };
      for (const model of task.zoo.models) yield { task: task.name, model: model.id, ms: task.expectedLatencyMs(model, now) };
    }
  }

  describe(): TaskDescription[] {
    return this.tasks.map((t) => describeTask(t.zoo, t));
  }

  dispose(): void {
    for (const t of this.tasks) t.zoo.dispose();
  }
}

function describeTask(zoo: Zoo, task: ServedTask): TaskDescription {
  return {
    task: zoo.task,
    kind: zoo.manifest.kind,
    input: task.inputs.description,
    classes: [...zoo.manifest.classes],
    defaultMinAccuracy: task.premodel.defaultTarget(),
    ...(task.premodel.file.defaultTargets === undefined ? {} : { defaultMinAccuracyByGroup: { ...task.premodel.file.defaultTargets } }),
    models: zoo.models.map(({ entry }) => ({
      id: entry.id,
      method: entry.compression.method,
      parent: entry.compression.parent,
      routed: zoo.rungs.some((r) => r.model.id === entry.id && task.premodel.ladderModels.has(r.id)),
      accuracy: entry.accuracy ?? null,
      latencyMs: entry.latency ? { p50: entry.latency.p50Ms, p95: entry.latency.p95Ms } : null,
      bytes: entry.bytes,
      parameters: entry.parameters,
      macs: entry.macs ?? null,
    })),
  };
}
