/**
 * The data plane: the registry of served tasks (each a zoo with its premodel, and its split routes:
 * heads with their tails' zoo and premodel), loaded and checked once at start-up, and the lookups
 * the HTTP adapters need (v1 and the Open Inference Protocol). It knows nothing of HTTP; unknown
 * names fail with NotFoundError listing the valid ones.
 *
 * A head's premodel is `<premodelDir>/<task>/heads/<head>/premodel.json`, beside the task's own.
 * A head without one yet is listed, and its ONNX file can be downloaded, but its requests are
 * refused (503 UNAVAILABLE, saying how to train it): a head trained before its premodel must not
 * keep the task's other routes from starting. A broken premodel stops the start, as a task's does.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CORRECTION_DEFAULTS, LATENCY_DEFAULTS, SERVICE_DEFAULTS } from '../config/defaults.js';
import { DecisionSigner } from '../feedback/token.js';
import type { CorrectionOptions } from '../quality/realized.js';
import { ArtifactError, NotFoundError } from '../errors/index.js';
import { taskInputs } from '../inputs/registry.js';
import { loadPremodel, PREMODEL_FILE, type Premodel } from '../premodel/premodel.js';
import { HEADS_DIR, loadHeads, loadZoos, type LoadedHead, type Zoo, type ZooModel } from '../zoo/repository.js';
import type { BatchScheduler } from './batcher.js';
import type { Clock } from './clock.js';
import { LatencyModel } from './latency.js';
import { ServedTask, type BatchingOptions, type ServedHead, type ServedTaskOptions } from './task.js';

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

export interface ModelDescription {
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
  models: ModelDescription[];
  /** Its split routes (GET /v1/tasks/{task}/heads has the details): each head's id, and whether its tails are served. */
  heads: { id: string; served: boolean }[];
}

/** A split route as a device needs to know it: the head to run, what it sends, and the tails that answer. */
export interface HeadDescription {
  id: string;
  description: string;
  /** The model of the task whose first layers the head is. */
  parent: string;
  /** What the head takes: the parent model's input, and how the raw input becomes it (its kind's preprocessing). */
  input: { name: string; shape: number[]; dtype: string; preprocessing: Readonly<Record<string, unknown>> };
  bottleneck: { name: string; shape: number[]; dtype: 'uint8'; scale: number; zeroPoint: number };
  /** Bytes of one request's bottleneck (one per code), against the float32 input's. */
  bytesPerRequest: number;
  inputBytesPerRequest: number;
  /** The head's ONNX file: its size, sha256 and size of the graph. */
  bytes: number;
  sha256: string;
  parameters: number;
  macs: number | null;
  /** Whether its requests are served (a head without a premodel yet is not), and why not. */
  served: boolean;
  unavailable?: string;
  /** The target of its requests that give no constraint, where served. */
  defaultMinAccuracy?: number;
  tails: ModelDescription[];
}
export class DataPlane {
  private readonly byName: ReadonlyMap<string, ServedTask>;

  private constructor(tasks: ServedTask[]) {
    this.byName = new Map(tasks.map((t) => [t.name, t]));
  }

  /** Loads every zoo under zooDir with its premodel and its heads; refuses to start with any artifact broken. */
  static async load(options: DataPlaneOptions): Promise<DataPlane> {
    const sessions = { intraOpThreads: options.intraOpThreads };
    const zoos = await loadZoos(options.zooDir, sessions);
    const latency = options.latency ?? new LatencyModel(LATENCY_DEFAULTS);
    const signer = options.signer ?? new DecisionSigner(randomBytes(32));
    const served: Omit<ServedTaskOptions, 'heads' | 'head'> = {
      defaultMaxLatencyMs: options.defaultMaxLatencyMs,
      latency,
      retryAfterS: options.retryAfterS ?? SERVICE_DEFAULTS.retryAfterS,
      signer,
      correction: options.correction ?? CORRECTION_DEFAULTS,
      ...(options.batching === undefined ? {} : { batching: options.batching }),
      ...(options.batchScheduler === undefined ? {} : { batchScheduler: options.batchScheduler }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    };
    const tasks: ServedTask[] = [];
    const problems: string[] = [];
    const opened: Zoo[] = [...zoos.values()];
    for (const zoo of zoos.values()) {
      try {
        const loaded = await loadHeads(zoo, sessions);
        opened.push(...loaded.map((h) => h.tails));
        const heads = await Promise.all(loaded.map((head) => serveHead(zoo.task, head, path.join(options.premodelDir, zoo.task, HEADS_DIR, head.entry.id), served)));
        const premodel = await premodelOf(zoo, path.join(options.premodelDir, zoo.task));
        tasks.push(new ServedTask(zoo, premodel, { ...served, heads }));
      } catch (err) {
        problems.push(err instanceof ArtifactError ? err.message : String(err));
      }
    }
    if (problems.length > 0) {
      for (const zoo of opened) zoo.dispose();
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

  /** The split routes of task `name` (NotFoundError listing the tasks). */
  describeHeads(name: string): HeadDescription[] {
    return [...this.task(name).heads.values()].map(describeHead);
  }

  dispose(): void {
    for (const t of this.tasks) t.dispose();
  }
}

/** The premodel in `dir` for `zoo`, checked against it as the service checks it. */
function premodelOf(zoo: Zoo, dir: string): Promise<Premodel> {
  return loadPremodel(dir, {
    task: zoo.task,
    zooHash: zoo.loaded.zooHash,
    featureNames: taskInputs(zoo.manifest).featureNames,
    modelIds: zoo.rungs.map((r) => r.id),
  });
}

/** A loaded head served with its premodel in `dir`; without one, listed but refused, saying how to train it. */
async function serveHead(task: string, head: LoadedHead, dir: string, options: Omit<ServedTaskOptions, 'heads' | 'head'>): Promise<ServedHead> {
  const { entry, bytes, tails: zoo } = head;
  const base = { id: entry.id, entry, bytes, zoo };
  if (!existsSync(path.join(dir, PREMODEL_FILE))) {
    const steps = `npm run profile -- --task ${task} --head ${entry.id}, then npm run train-premodel -- --task ${task} --head ${entry.id}`;
    return { ...base, tails: undefined, unavailable: `head "${entry.id}" of task "${task}" has no premodel yet (${path.join(dir, PREMODEL_FILE)}): ${steps}` };
  }
  return { ...base, tails: new ServedTask(zoo, await premodelOf(zoo, dir), { ...options, head: entry.id }) };
}

function describeModels(zoo: Zoo, premodel: Premodel | undefined): ModelDescription[] {
  return zoo.models.map(({ entry }) => ({
    id: entry.id,
    method: entry.compression.method,
    parent: entry.compression.parent,
    routed: premodel !== undefined && zoo.rungs.some((r) => r.model.id === entry.id && premodel.ladderModels.has(r.id)),
    accuracy: entry.accuracy ?? null,
    latencyMs: entry.latency ? { p50: entry.latency.p50Ms, p95: entry.latency.p95Ms } : null,
    bytes: entry.bytes,
    parameters: entry.parameters,
    macs: entry.macs ?? null,
  }));
}

function describeTask(zoo: Zoo, task: ServedTask): TaskDescription {
  return {
    task: zoo.task,
    kind: zoo.manifest.kind,
    input: task.inputs.description,
    classes: [...zoo.manifest.classes],
    defaultMinAccuracy: task.premodel.defaultTarget(),
    ...(task.premodel.file.defaultTargets === undefined ? {} : { defaultMinAccuracyByGroup: { ...task.premodel.file.defaultTargets } }),
    models: describeModels(zoo, task.premodel),
    heads: [...task.heads.values()].map((h) => ({ id: h.id, served: h.tails !== undefined })),
  };
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function describeHead(head: ServedHead): HeadDescription {
  const { entry, tails } = head;
  const { name, shape, scale, zeroPoint } = entry.bottleneck;
  return {
    id: entry.id,
    description: entry.description,
    parent: entry.parent,
    input: { name: entry.input.name, shape: [...entry.input.shape], dtype: entry.input.dtype, preprocessing: entry.input.preprocessing },
    bottleneck: { name, shape: [...shape], dtype: 'uint8', scale, zeroPoint },
    bytesPerRequest: elements(shape),
    inputBytesPerRequest: elements(entry.input.shape) * Float32Array.BYTES_PER_ELEMENT,
    bytes: entry.bytes,
    sha256: entry.sha256,
    parameters: entry.parameters,
    macs: entry.macs ?? null,
    served: tails !== undefined,
    ...(head.unavailable === undefined ? {} : { unavailable: head.unavailable }),
    ...(tails === undefined ? {} : { defaultMinAccuracy: tails.premodel.defaultTarget() }),
    tails: describeModels(head.zoo, tails?.premodel),
  };
}
