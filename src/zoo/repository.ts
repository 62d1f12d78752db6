/**
 * The zoo of one task, loaded: its validated manifest and one onnxruntime session per model,
 * opened at start-up and checked against what the manifest declares. `loadZoos` finds every task
 * under the zoo folder, `loadHeads` a task's split routes (heads/<id>/: a head the device runs and
 * the zoo of its tails). Unknown ids fail with the list of valid ones.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError, NotFoundError } from '../errors/index.js';
import { loadManifest, MANIFEST_FILE, rungsOf, type HeadEntry, type LoadedManifest, type ModelEntry } from './manifest.js';
import { describeOnnxFile, openOnnxModel, UINT8, type OnnxModel, type SessionOptions, type TensorInfo } from './onnx.js';
import { softmaxRows } from './scores.js';

export class ZooModel {
  readonly classes: number;

  constructor(
    readonly entry: ModelEntry,
    private readonly session: OnnxModel,
  ) {
    this.classes = entry.output.labels.length;
  }

  get id(): string {
    return this.entry.id;
  }

  /** Class probabilities of `batch` examples (softmax of the logits when the model gives logits). */
  classify(input: Float32Array, batch = 1): Float32Array {
    const out = this.session.run(input, [batch, ...this.entry.input.shape]);
    if (out.length !== batch * this.classes) {
      throw new Error(`model ${this.id} returned ${out.length} values for ${batch} x ${this.classes}`);
    }
    return this.entry.output.kind === 'logits' ? softmaxRows(out, this.classes) : out;
  }

  dispose(): void {
    this.session.dispose();
  }
}/** A rung of the ladders (zoo/manifest.ts, RungSpec) with its model's session. */
export interface Rung {
  readonly id: string;
  readonly model: ZooModel;
  /** The view of the input whose answer is averaged with the model's plain one; none: the plain rung. */
  readonly view?: string;
}

export class Zoo {
  private readonly byId: ReadonlyMap<string, ZooModel>;
  private readonly rungById: ReadonlyMap<string, Rung>;
  /** Every model as a rung, then every test-time augmentation the manifest declares. */
  readonly rungs: readonly Rung[];

  constructor(
    readonly loaded: LoadedManifest,
    readonly models: readonly ZooModel[],
  ) {
    this.byId = new Map(models.map((m) => [m.id, m]));
    this.rungs = rungsOf(loaded.manifest).map((r) => ({ id: r.id, model: this.byId.get(r.model)!, ...(r.view === undefined ? {} : { view: r.view }) }));
    this.rungById = new Map(this.rungs.map((r) => [r.id, r]));
  }

  rung(id: string): Rung {
    const rung = this.rungById.get(id);
    if (rung === undefined) {
      throw new NotFoundError(`task "${this.task}" has no rung "${id}"; its rungs are: ${[...this.rungById.keys()].join(', ')}`);
    }
    return rung;
  }

  get task(): string {
    return this.loaded.manifest.task;
  }

  get manifest() {
    return this.loaded.manifest;
  }

  /** The head whose bottleneck this zoo's models take, for a split route's zoo of tails. */
  get head(): HeadEntry | undefined {
    return this.loaded.manifest.head;
  }

  model(id: string): ZooModel {
    const model = this.byId.get(id);
    if (model === undefined) {
      throw new NotFoundError(
        `task "${this.task}" has no model "${id}"; its models are: ${[...this.byId.keys()].join(', ')}`,
      );
    }
    return model;
  }

  dispose(): void {
    for (const m of this.models) m.dispose();
  }
}

/** Problems of a session against its manifest entry: names, and dims after the batch. */
function sessionProblems(entry: ModelEntry, session: OnnxModel): string[] {
  const where = `model "${entry.id}"`;
  const problems: string[] = [];
  const input = session.inputs[0];
  const output = session.outputs[0];
  if (session.inputs.length !== 1 || input === undefined) {
    return [`${where}: expected one input, the ONNX file has ${session.inputs.length}`];
  }
  if (input.name !== entry.input.name) {
    problems.push(`${where}: input is named "${input.name}" in the ONNX file, "${entry.input.name}" in the manifest`);
  }
  const dims = input.shape.slice(1);
  const declared = entry.input.shape;
  if (dims.length !== declared.length || dims.some((d, i) => typeof d === 'number' && d !== declared[i])) {
    problems.push(
      `${where}: input shape [${declared.join(', ')}] does not match the ONNX file's [${input.shape.join(', ')}]`,
    );
  }
  if (output === undefined || output.name !== entry.output.name) {
    problems.push(`${where}: ONNX output "${output?.name}" is not the manifest's "${entry.output.name}"`);
  } else {
    const classes = output.shape[output.shape.length - 1];
    if (typeof classes === 'number' && classes !== entry.output.labels.length) {
      problems.push(`${where}: the ONNX file has ${classes} outputs for ${entry.output.labels.length} labels`);
    }
  }
  return problems;
}

/** Loads one task's zoo from `dir`: validates the manifest, opens and checks every session. */
export async function loadZoo(dir: string, options: SessionOptions): Promise<Zoo> {
  const loaded = await loadManifest(dir);
  const models: ZooModel[] = [];
  const problems: string[] = [];
  for (const entry of loaded.manifest.models) {
    let session: OnnxModel;
    try {
      session = openOnnxModel(path.join(dir, entry.file), options);
    } catch (err) {
      problems.push(`model "${entry.id}": onnxruntime cannot load it: ${(err as Error).message}`);
      continue;
    }
    models.push(new ZooModel(entry, session));
    problems.push(...sessionProblems(entry, session));
  }
  if (problems.length > 0) {
    for (const m of models) m.dispose();
    throw new ArtifactError(path.join(dir, MANIFEST_FILE), problems);
  }
  return new Zoo(loaded, models);
}

/** Every task under `root` (each sub-folder with a manifest.json), keyed by task name. */
export async function loadZoos(root: string, options: SessionOptions): Promise<Map<string, Zoo>> {
  const names = (await readdir(root)).sort();
  const dirs: string[] = [];
  for (const name of names) {
    const manifest = path.join(root, name, MANIFEST_FILE);
    if (await stat(manifest).then((s) => s.isFile(), () => false)) dirs.push(path.join(root, name));
  }
  const zoos = new Map<string, Zoo>();
  try {
    for (const dir of dirs) {
      const zoo = await loadZoo(dir, options);
      zoos.set(zoo.task, zoo);
    }
  } catch (err) {
    for (const zoo of zoos.values()) zoo.dispose();
    throw err;
  }
  if (zoos.size === 0) throw new ArtifactError(root, [`no task folder with a ${MANIFEST_FILE}`]);
  return zoos;
}

/** The folder of a task's split routes, inside its zoo folder: heads/<head-id>/manifest.json. */
export const HEADS_DIR = 'heads';

/** A split route of a task, loaded: its head (checked, its bytes as verified) and the zoo of its tails. */
export interface LoadedHead {
  readonly entry: HeadEntry;
  /** head.onnx as loaded and hashed: what a device downloads. */
  readonly bytes: Uint8Array;
  readonly tails: Zoo;
}

/** Problems of a head's graph against its entry: one float32 input as declared, one uint8 output of the bottleneck's shape. */
function headGraphProblems(entry: HeadEntry, graph: { inputs: TensorInfo[]; outputs: TensorInfo[] }): string[] {
  const where = `head "${entry.id}"`;
  const problems: string[] = [];
  const [input] = graph.inputs;
  const [output] = graph.outputs;
  const dims = (t: TensorInfo, declared: readonly number[]) =>
    t.shape.length === declared.length + 1 && t.shape.slice(1).every((d, i) => typeof d !== 'number' || d === declared[i]);
  if (graph.inputs.length !== 1 || input === undefined) return [`${where}: expected one input, the ONNX file has ${graph.inputs.length}`];
  if (input.name !== entry.input.name) problems.push(`${where}: input is named "${input.name}" in the ONNX file, "${entry.input.name}" in the manifest`);
  if (!dims(input, entry.input.shape)) problems.push(`${where}: input shape [${entry.input.shape.join(', ')}] does not match the ONNX file's [${input.shape.join(', ')}]`);
  const bottleneck = entry.bottleneck;
  if (output === undefined || output.name !== bottleneck.name) {
    problems.push(`${where}: ONNX output "${output?.name}" is not the manifest's "${bottleneck.name}"`);
  } else {
    if (output.elementType !== UINT8) problems.push(`${where}: output "${output.name}" is of ONNX element type ${output.elementType}, not uint8 (${UINT8}): end the head in QuantizeLinear`);
    if (!dims(output, bottleneck.shape)) problems.push(`${where}: bottleneck shape [${bottleneck.shape.join(', ')}] does not match the ONNX file's [${output.shape.join(', ')}]`);
  }
  return problems;
}

/** Whether two JSON values are equal, whatever the order of their objects' keys. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** Problems of a split route against its task: the same task and classes, a head made of one of its models, taking that model's input. */
function routeProblems(task: Zoo, tails: Zoo, folder: string): string[] {
  const head = tails.head!;
  const where = `head "${head.id}"`;
  const problems: string[] = [];
  if (head.id !== folder) problems.push(`${where} is in folder ${HEADS_DIR}/${folder}/: name the folder after the head`);
  if (tails.task !== task.task) problems.push(`${where}: its manifest says task "${tails.task}", its folder is task "${task.task}"'s`);
  if (JSON.stringify(tails.manifest.classes) !== JSON.stringify(task.manifest.classes)) problems.push(`${where}: its tails' classes differ from task "${task.task}"'s`);
  const parent = task.manifest.models.find((m) => m.id === head.parent);
  if (parent === undefined) {
    problems.push(`${where}: parent "${head.parent}" is not a model of task "${task.task}" (its models: ${task.manifest.models.map((m) => m.id).join(', ')})`);
  } else {
    if (!sameValue(head.input.shape, parent.input.shape) || !sameValue(head.input.preprocessing, parent.input.preprocessing)) {
      problems.push(`${where}: its input (shape and preprocessing) is not that of its parent "${parent.id}"`);
    }
  }
  return problems;
}

/**
 * The split routes of `task` (each `heads/<id>/manifest.json` in its zoo folder): the zoo of its
 * tails, its sessions opened and checked, and its head checked (file, graph, against the task's
 * parent model). Refuses the lot, with every problem, if any is broken.
 */
export async function loadHeads(task: Zoo, options: SessionOptions): Promise<LoadedHead[]> {
  const root = path.join(task.loaded.dir, HEADS_DIR);
  const names = await readdir(root).then((n) => n.sort(), () => [] as string[]);
  const heads: LoadedHead[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    if (!(await stat(path.join(dir, MANIFEST_FILE)).then((s) => s.isFile(), () => false))) continue;
    let tails: Zoo;
    try {
      tails = await loadZoo(dir, options);
    } catch (err) {
      problems.push(err instanceof ArtifactError ? err.message : String(err));
      continue;
    }
    const entry = tails.head!;
    const file = path.join(dir, entry.file);
    let graphProblems: string[];
    try {
      graphProblems = headGraphProblems(entry, describeOnnxFile(file));
    } catch (err) {
      graphProblems = [`head "${entry.id}": onnxruntime cannot load it: ${(err as Error).message}`];
    }
    const bytes = await readFile(file);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) graphProblems.push(`head "${entry.id}": sha256 is ${digest}, the manifest says ${entry.sha256} (file changed?)`);
    const found = [...routeProblems(task, tails, name), ...graphProblems];
    if (found.length > 0) {
      tails.dispose();
      problems.push(new ArtifactError(path.join(dir, MANIFEST_FILE), found).message);
      continue;
    }
    heads.push({ entry, bytes, tails });
  }
  if (problems.length > 0) {
    for (const h of heads) h.tails.dispose();
    throw new ArtifactError(root, problems);
  }
  return heads;
}
