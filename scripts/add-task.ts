/**
 * npm run add-task -- --task <name> --models <dir> --data <dir> [--out .] [--mean 0.5] [--std 0.25]
 *                     [--image-size WxH] [--sample-rate HZ] [--replace] [--threads 1] [--runs 500] [--warmup 50]
 *
 * A team's own zoo becomes a served, routed task: checks every model, label and data file first
 * (every problem on one line, exit 2, nothing written), then writes <out>/zoo/<task>/ (manifest and
 * models), profiles every model on this machine, trains and calibrates the premodel into
 * <out>/premodel/<task>/, and evaluates it on the test part into <out>/reports/<task>.md.
 */
import path from 'node:path';
import { DEFAULTS } from '../src/config/defaults.js';
import { ImportError, planImport, writeImport } from '../src/pipeline/import/index.js';
import type { PreprocessingHints } from '../src/pipeline/import/spec.js';
import { buildTask, DEFAULT_PREMODEL_OPTIONS } from '../src/pipeline/task-steps.js';
import { parseCli, runMain, UsageError } from './cli.js';

const command = {
  name: 'npm run add-task --',
  summary: "Imports a team's ONNX classifiers and labelled data as a new task: checks, writes the zoo, profiles it, trains the premodel, evaluates it.",
  options: {
    task: { type: 'string', required: true, placeholder: 'NAME', help: 'the new task: lower case letters, digits, dashes' },
    models: { type: 'string', required: true, placeholder: 'DIR', help: 'the <id>.onnx files, labels.txt and optionally zoo.json' },
    data: { type: 'string', required: true, placeholder: 'DIR', help: 'premodel/ and test/ (image folders, one per class) or premodel.jsonl and test.jsonl (windows)' },
    out: { type: 'string', default: '.', placeholder: 'DIR', help: 'writes <DIR>/zoo/<task>, <DIR>/premodel/<task> and <DIR>/reports/<task>.md' },
    mean: { type: 'string', placeholder: 'M[,M,M]', help: 'images: tensor = (pixel / 255 - mean) / std, per channel or one for all (default 0)' },
    std: { type: 'string', placeholder: 'S[,S,S]', help: 'images: see --mean (default 1)' },
    'image-size': { type: 'string', placeholder: 'WxH', help: 'images: the model size where the graph leaves it open (a flat input)' },
    'sample-rate': { type: 'number', min: 0, exclusiveMin: true, placeholder: 'HZ', help: 'windows: the rate the samples were taken at (or preprocessing.sampleRateHz in zoo.json)' },
    replace: { type: 'boolean', help: 'replace a task of the same name' },
    threads: { type: 'int', default: DEFAULTS.intraOpThreads, min: 1, max: 256, help: 'onnxruntime intra-op threads while profiling' },
    runs: { type: 'int', default: DEFAULTS.profileRuns, min: 1, max: 1_000_000, help: 'timed latency runs per model' },
    warmup: { type: 'int', default: DEFAULTS.profileWarmupRuns, min: 0, max: 1_000_000, help: 'untimed warm-up runs per model' },
  },
} as const;

function numbers(option: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.length > 3 || values.some((v) => !Number.isFinite(v))) throw new UsageError(`--${option} must be one to three numbers separated by commas, not "${text}"`);
  return values;
}

function hintsOf(values: { mean?: string; std?: string; 'image-size'?: string; 'sample-rate'?: number }): PreprocessingHints {
  const hints: PreprocessingHints = {};
  const mean = numbers('mean', values.mean);
  const std = numbers('std', values.std);
  if (mean !== undefined) hints.mean = mean;
  if (std !== undefined) {
    if (std.some((s) => s <= 0)) throw new UsageError(`--std must be above 0, not "${values.std}"`);
    hints.std = std;
  }
  if (values['image-size'] !== undefined) {
    const size = /^(\d{1,4})x(\d{1,4})$/.exec(values['image-size']);
    if (size === null || Number(size[1]) < 1 || Number(size[2]) < 1) throw new UsageError(`--image-size must be WIDTHxHEIGHT, like 32x32, not "${values['image-size']}"`);
    hints.width = Number(size[1]);
    hints.height = Number(size[2]);
  }
  if (values['sample-rate'] !== undefined) hints.sampleRateHz = values['sample-rate'];
  return hints;
}

runMain(command.name, async () => {
  const values = parseCli(command);
  const started = performance.now();
  const say = (line: string) => console.log(line);
  let plan;
  try {
    plan = await planImport({ task: values.task, modelsDir: values.models, dataDir: values.data, outDir: values.out, hints: hintsOf(values), replace: values.replace });
  } catch (err) {
    if (!(err instanceof ImportError)) throw err;
    for (const problem of err.problems) process.stderr.write(`${command.name}: ${problem}\n`);
    process.stderr.write(`${command.name}: nothing was written (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'})\n`);
    process.exit(2);
  }
  const { manifest, paths } = plan;
  say(`${manifest.task}: ${manifest.models.length} ${manifest.kind} models (${manifest.models.map((m) => m.id).join(', ')}), ${manifest.classes.length} classes; ` +
    `premodel part ${plan.splits.premodel.labels.length}, test part ${plan.splits.test.labels.length}`);
  await writeImport(plan);
  say(`wrote ${path.join(paths.zooDir, 'manifest.json')} and the models`);
  const zooRoot = path.dirname(paths.zooDir);
  const premodelRoot = path.dirname(paths.premodelDir);
  const evaluate = `npm run evaluate -- --task ${manifest.task} --data ${values.data} --zoo-dir ${zooRoot} --premodel-dir ${premodelRoot} --out ${paths.reportsDir}`;
  await buildTask(
    paths,
    plan.splits,
    { profile: { intraOpThreads: values.threads, runs: values.runs, warmupRuns: values.warmup }, premodel: DEFAULT_PREMODEL_OPTIONS, command: evaluate },
    say,
  );
  const serve = values.out === '.' ? 'npm start' : `ZOO_DIR=${zooRoot} PREMODEL_DIR=${premodelRoot} npm start`;
  say(`report: ${path.join(paths.reportsDir, `${manifest.task}.md`)}`);
  say(`serve it: ${serve} (a running service takes it on reload: SIGHUP, or POST /v1/admin/reload)`);
  say(`added task "${manifest.task}" in ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
