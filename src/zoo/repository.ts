/**
 * The zoo of one task, loaded: its validated manifest and one onnxruntime session per model,
 * opened at start-up and checked against what the manifest declares. `loadZoos` finds every task
 * under the zoo folder. Unknown ids fail with the list of valid ones.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError, NotFoundError } from '../errors/index.js';
import { loadManifest, MANIFEST_FILE, rungsOf, type LoadedManifest, type ModelEntry } from './manifest.js';
import { openOnnxModel, type OnnxModel, type SessionOptions } from './onnx.js';
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
