/**
 * npm run rebuild-zoo -- --task fashion|har|har-acc [--data DIR] [--epochs N] [--seed N] [--no-profile]
 *
 * Retrains a built-in zoo with its Python recipe (zoo/recipes/<task>.py, on CPU, with Debian's
 * python3-torch and python3-onnx), then takes it the path every task takes (src/pipeline/
 * task-steps.ts): profile on this machine, premodel, report. For har and har-acc the windows are
 * cut first by the service's own code (npm run export-har-windows), so that training and serving
 * share one windowing implementation. har-acc is the worked example of a brought zoo: its recipe
 * writes the files a team would bring, and npm run add-task imports them. har is cross-fitted too
 * (pipeline/cross-fit.ts): its recipe once more per fold of the zoo's volunteers, measured on the
 * volunteers each fold held out, before its premodel is trained.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { buildTask, crossFitStep, DEFAULT_PREMODEL_OPTIONS } from '../src/pipeline/task-steps.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { parseCli, runMain } from './cli.js';

const HAPT = '../shared/data/hapt';
const WINDOWS = '.cache/har-windows';
const CROSS_FIT = '.cache/har-cross-fit';
/** Each built-in zoo's data set, and how many folds of its zoo's people it is cross-fitted over (0: none). */
const RECIPES = {
  fashion: { data: '/usr/share/datasets/fashion-mnist', crossFitFolds: 0 },
  har: { data: HAPT, crossFitFolds: 2 },
  'har-acc': { data: HAPT, crossFitFolds: 0 },
} as const;

const command = {
  name: 'npm run rebuild-zoo --',
  summary: 'Retrains a built-in zoo with its Python recipe (offline, CPU), then profiles it on this machine, trains its premodel and writes its report.',
  options: {
    task: { type: 'string', required: true, choices: Object.keys(RECIPES), placeholder: 'TASK', help: 'the zoo to rebuild' },
    data: { type: 'string', placeholder: 'DIR', help: `the task's data set (default: ${RECIPES.fashion.data} for fashion, ${HAPT} for the others)` },
    epochs: { type: 'int', min: 1, max: 10_000, help: "epochs of the full CNN (default: the recipe's)" },
    seed: { type: 'int', help: "the recipe's random seed (default: the recipe's)" },
    python: { type: 'string', default: '/usr/bin/python3', placeholder: 'PATH', help: 'the Python with torch and onnx' },
    'no-profile': { type: 'boolean', help: 'train and export only' },
  },
} as const;

function run(program: string, args: readonly string[]): void {
  process.stderr.write(`$ ${program} ${args.join(' ')}\n`);
  const result = spawnSync(program, args, { stdio: 'inherit' });
  if (result.error !== undefined) throw new Error(`cannot run ${program}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${program} ${args[0] ?? ''} failed (exit ${result.status ?? result.signal})`);
}

runMain(command.name, async () => {
  const values = parseCli(command);
  const task = values.task as keyof typeof RECIPES;
  const data = values.data ?? RECIPES[task].data;
  const tuning = [...(values.epochs === undefined ? [] : ['--epochs', String(values.epochs)]), ...(values.seed === undefined ? [] : ['--seed', String(values.seed)])];
  if (task !== 'fashion') run('npx', ['tsx', 'scripts/export-har-windows.ts', '--data', data, '--out', WINDOWS]);
  if (task === 'har-acc') {
    run(values.python, ['zoo/recipes/har_acc.py', '--windows', WINDOWS, '--out', '.cache/har-acc', ...tuning]);
    if (!values['no-profile']) run('npx', ['tsx', 'scripts/add-task.ts', '--task', task, '--models', '.cache/har-acc/models', '--data', '.cache/har-acc/data', '--replace']);
    return;
  }
  const recipe = [`zoo/recipes/${task}.py`, ...(task === 'har' ? ['--windows', WINDOWS] : ['--data', data]), ...tuning];
  run(values.python, [...recipe, '--out', `zoo/${task}`]);
  const folds = RECIPES[task].crossFitFolds;
  if (folds > 0) {
    await rm(CROSS_FIT, { recursive: true, force: true });
    for (let k = 0; k < folds; k++) run(values.python, [...recipe, '--fold', `${k}/${folds}`, '--out', path.join(CROSS_FIT, `fold-${k}`)]);
  }
  if (values['no-profile']) return;
  const paths = { zooDir: path.join('zoo', task), premodelDir: path.join('premodel', task), reportsDir: 'reports' };
  const { manifest } = await loadManifest(paths.zooDir);
  const splits = await loadSplits(manifest, data);
  if (folds > 0) for (const line of (await crossFitStep(paths.zooDir, CROSS_FIT, splits, DEFAULTS.intraOpThreads)).lines) console.log(line);
  const profile = { intraOpThreads: DEFAULTS.intraOpThreads, runs: DEFAULTS.profileRuns, warmupRuns: DEFAULTS.profileWarmupRuns };
  await buildTask(paths, splits, { profile, premodel: DEFAULT_PREMODEL_OPTIONS, command: `npm run evaluate -- --task ${task}` }, (line) => console.log(line));
});
