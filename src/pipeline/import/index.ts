/**
 * A team's zoo, brought as files, becomes a task of the model repository: `<models>/` holds
 * `<id>.onnx` classifiers (one class-score output each), `labels.txt` (a class a line, in output
 * order) and optionally `zoo.json` (spec.ts); `<data>/` holds the labelled premodel and test parts
 * (datasets/folder.ts). Everything is checked before any long work: the labels, zoo.json, every
 * graph (input kind, size, layout and channels read from its input; one output of one score per
 * label; a trial run on the first input), every data file; all problems are reported at once
 * (ImportError). Then the manifest is written and the models copied; task-steps.ts does the rest.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inputKind } from '../../inputs/registry.js';
import { compileSchema } from '../../schema/index.js';
import { manifestProblems, MANIFEST_FILE, type ZooManifest } from '../../zoo/manifest.js';
import { FLOAT32, openOnnxModel, type OnnxModel } from '../../zoo/onnx.js';
import { scanFolderData, type ScannedData } from '../datasets/folder.js';
import type { EvaluationSplits } from '../datasets/splits.js';
import type { TaskPaths } from '../task-steps.js';
import { KIND_IMPORTERS } from './kinds.js';
import { onnxInfo } from './onnx-info.js';
import { zooSpecSchema, type ModelSpec, type PreprocessingHints, type ZooSpec } from './spec.js';

/** Every problem of an import, one line each: nothing was written. */
export class ImportError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export interface ImportRequest {
  task: string;
  modelsDir: string;
  dataDir: string;
  /** Writes `<out>/zoo/<task>`, `<out>/premodel/<task>`, `<out>/reports/<task>.md`. */
  outDir: string;
  /** Preprocessing given on the command line: over zoo.json's top level, under a model's own. */
  hints: PreprocessingHints;
  /** Replace a task of that name already in `<out>/zoo`. */
  replace: boolean;
}

export interface ImportPlan {
  manifest: ZooManifest;
  /** Each model's file as the team gave it, by model id. */
  sources: Readonly<Record<string, string>>;
  paths: TaskPaths;
  splits: EvaluationSplits;
}

const TASK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const specValidator = compileSchema<ZooSpec>(zooSpecSchema);

/** A model's id from its file name: lower case, anything else than [a-z0-9._-] a dash. */
export function modelIdOf(file: string): string {
  return path.basename(file, path.extname(file)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
}

export function taskPaths(outDir: string, task: string): TaskPaths {
  return { zooDir: path.join(outDir, 'zoo', task), premodelDir: path.join(outDir, 'premodel', task), reportsDir: path.join(outDir, 'reports') };
}

async function readLabels(modelsDir: string, problems: string[]): Promise<string[]> {
  const file = path.join(modelsDir, 'labels.txt');
  if (!existsSync(file)) {
    problems.push(`${file} is missing: one class name a line, in the order of the models' outputs`);
    return [];
  }
  const labels = (await readFile(file, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const repeated = labels.filter((l, i) => labels.indexOf(l) !== i);
  if (labels.length < 2) problems.push(`${file} names ${labels.length} class(es); a classifier needs at least 2`);
  if (repeated.length > 0) problems.push(`${file} names "${repeated[0]}" twice`);
  const long = labels.find((l) => l.length > 64);
  if (long !== undefined) problems.push(`${file}: "${long.slice(0, 20)}..." is longer than 64 characters`);
  return labels;
}

async function readSpec(modelsDir: string, problems: string[]): Promise<ZooSpec> {
  const file = path.join(modelsDir, 'zoo.json');
  if (!existsSync(file)) return {};
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    problems.push(`${file} is not JSON: ${(err as Error).message}`);
    return {};
  }
  const found = specValidator.problems(value);
  problems.push(...found.map((p) => `${file}: ${p}`));
  return found.length === 0 ? (value as ZooSpec) : {};
}

interface ModelFacts {
  id: string;
  file: string;
  session: OnnxModel;
}

/** What one graph's input and output say, and the one problem that stops it, if any. */
function graphProblem(model: ModelFacts, classes: number): string | undefined {
  const { session } = model;
  const input = session.inputs[0]!;
  const output = session.outputs[0];
  if (session.inputs.length !== 1) return `has ${session.inputs.length} inputs; the service feeds one`;
  if (session.outputs.length !== 1 || output === undefined) return `has ${session.outputs.length} outputs; export one, the class scores`;
  if (input.elementType !== FLOAT32) return `input "${input.name}" is not float32 (ONNX type ${input.elementType})`;
  if (output.elementType !== FLOAT32) return `output "${output.name}" is not float32 (ONNX type ${output.elementType})`;
  const batch = input.shape[0];
  if (typeof batch === 'number' && batch !== 1) return `input "${input.name}" has a fixed batch of ${batch}; export it with a batch of 1 or a dynamic one`;
  const scores = output.shape.slice(1).filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
  if (output.shape.slice(1).every((d) => typeof d === 'number') && scores !== classes) {
    return `output "${output.name}" [${output.shape.join(', ')}] has ${scores} scores; labels.txt names ${classes} classes`;
  }
  return undefined;
}

/** Checks every file and builds the manifest; throws ImportError with every problem. Writes nothing. */
export async function planImport(request: ImportRequest): Promise<ImportPlan> {
  const { task, modelsDir, dataDir } = request;
  const problems: string[] = [];
  if (!TASK_NAME.test(task)) problems.push(`--task "${task}" must be lower case letters, digits and dashes, starting with a letter (at most 32)`);
  const paths = taskPaths(request.outDir, task);
  if (existsSync(path.join(paths.zooDir, MANIFEST_FILE)) && !request.replace) problems.push(`${paths.zooDir} already holds a task "${task}": choose another name, or --replace it`);
  if (!existsSync(modelsDir)) throw new ImportError([...problems, `the models folder ${modelsDir} does not exist`]);

  const classes = await readLabels(modelsDir, problems);
  const spec = await readSpec(modelsDir, problems);
  // The models in zoo.json's order (cheapest first, say), then the rest by name.
  const order = Object.keys(spec.models ?? {});
  const rank = (f: string) => (order.includes(modelIdOf(f)) ? order.indexOf(modelIdOf(f)) : order.length);
  const files = (await readdir(modelsDir)).filter((f) => f.toLowerCase().endsWith('.onnx')).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  if (files.length === 0) problems.push(`${modelsDir} holds no .onnx file`);
  const ids = files.map(modelIdOf);
  ids.forEach((id, i) => {
    if (id === '') problems.push(`${files[i]}: its name gives no model id (letters, digits, dots, dashes)`);
    else if (ids.indexOf(id) !== i) problems.push(`${files[i]} and ${files[ids.indexOf(id)]} both give the model id "${id}"`);
  });
  for (const named of Object.keys(spec.models ?? {})) {
    if (!ids.includes(named)) problems.push(`zoo.json describes a model "${named}" that has no .onnx file (models: ${ids.join(', ')})`);
  }

  const scanned = classes.length >= 2 ? await scanFolderData(dataDir, classes) : { format: undefined, problems: [] };
  problems.push(...scanned.problems);
  const data = scanned.format === undefined ? undefined : scanned;

  const models: ModelFacts[] = [];
  const entries: ZooManifest['models'][number][] = [];
  try {
    for (const [i, name] of files.entries()) {
      const id = ids[i]!;
      const file = path.join(modelsDir, name);
      const where = `model "${id}" (${name})`;
      let session: OnnxModel;
      try {
        session = openOnnxModel(file, { intraOpThreads: 1 });
      } catch (err) {
        problems.push(`${where}: onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      const facts = { id, file, session };
      models.push(facts);
      const problem = graphProblem(facts, classes.length);
      if (problem !== undefined) {
        problems.push(`${where} ${problem}`);
        continue;
      }
      if (data === undefined || data.problems.length > 0) continue;
      const entry = await modelEntry(facts, spec.models?.[id] ?? {}, { ...spec.preprocessing, ...request.hints }, classes, data);
      if (typeof entry === 'string') problems.push(`${where}: ${entry}`);
      else entries.push(entry);
    }
  } finally {
    for (const m of models) m.session.dispose();
  }
  if (data === undefined || entries.length < files.length) throw new ImportError(problems);

  const kind = KIND_IMPORTERS[data.format].kind;
  const count = (part: 'premodel' | 'test') => `${data.parts[part].labels.length} ${kind}s of ${path.join(dataDir, data.format === 'image' ? part : `${part}.jsonl`)}`;
  const manifest: ZooManifest = {
    $comment: `Imported by \`npm run add-task -- --task ${task}\`; accuracy and latency are added by its profile step (\`npm run profile -- --task ${task}\`).`,
    task,
    kind,
    classes,
    splits: {
      zoo: spec.splits?.zoo ?? "the team's own training data (not imported)",
      premodel: spec.splits?.premodel ?? count('premodel'),
      test: spec.splits?.test ?? count('test'),
    },
    models: entries,
  };
  // What only the whole zoo shows: parents, views, labels against classes.
  problems.push(...manifestProblems(manifest).map((p) => `zoo.json: ${p}`));
  if (problems.length > 0) throw new ImportError(problems);
  return { manifest, sources: Object.fromEntries(models.map((m) => [m.id, m.file])), paths, splits: data.parts };
}

/** A model's manifest entry, after a trial run on the first premodel input; or why it cannot be fed. */
async function modelEntry(
  model: ModelFacts,
  spec: ModelSpec,
  shared: PreprocessingHints,
  classes: readonly string[],
  data: ScannedData,
): Promise<ZooManifest['models'][number] | string> {
  const { session } = model;
  const input = session.inputs[0]!;
  const output = session.outputs[0]!;
  const importer = KIND_IMPORTERS[data.format];
  const prep = importer.preprocessing(input.shape.slice(1), { ...shared, ...spec.preprocessing }, data.sample);
  if (typeof prep === 'string') return prep;
  const kind = inputKind(importer.kind);
  const shape = kind.shapeOf(prep as never);
  const bytes = await readFile(model.file);
  const info = onnxInfo(bytes);
  try {
    const tensor = await kind.bind([prep as never]).modelTensor(await data.parts.premodel.input(0), prep);
    const scores = session.run(tensor, [1, ...shape]);
    if (scores.length !== classes.length) return `a trial run gave ${scores.length} scores for ${classes.length} classes`;
    if (!scores.every(Number.isFinite)) return 'a trial run on the first premodel input gave scores that are not finite';
  } catch (err) {
    return `a trial run on the first premodel input failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    id: model.id,
    description: spec.description ?? `${path.basename(model.file)}, imported`,
    file: `${model.id}.onnx`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    parameters: info.parameters,
    ...(spec.macs === undefined ? {} : { macs: spec.macs }),
    input: { name: input.name, shape, dtype: 'float32', preprocessing: prep },
    output: { name: output.name, kind: spec.output ?? (info.outputOp === 'Softmax' ? 'probabilities' : 'logits'), labels: [...classes] },
    compression: { method: spec.compression?.method ?? 'none', parent: spec.compression?.parent ?? null },
    trainedOn: { split: 'zoo' },
    ...(spec.testTimeAugmentation === undefined ? {} : { testTimeAugmentation: [...spec.testTimeAugmentation] }),
  } as ZooManifest['models'][number];
}

/** Writes the plan's manifest and copies its models into `<out>/zoo/<task>/` (replacing a task of that name). */
export async function writeImport(plan: ImportPlan): Promise<void> {
  const { zooDir } = plan.paths;
  await rm(zooDir, { recursive: true, force: true });
  await mkdir(zooDir, { recursive: true });
  for (const model of plan.manifest.models) await copyFile(plan.sources[model.id]!, path.join(zooDir, model.file));
  await writeFile(path.join(zooDir, MANIFEST_FILE), `${JSON.stringify(plan.manifest, null, 2)}\n`);
}
