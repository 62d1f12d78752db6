/**
 * npm run rebuild-zoo -- --task fashion|har [--data DIR] [--epochs N] [--seed N] [--no-profile]
 *
 * Retrains a built-in zoo with its Python recipe (zoo/recipes/<task>.py, on CPU, with Debian's
 * python3-torch and python3-onnx), then profiles it on this machine (npm run profile). For har,
 * the windows are cut first by the service's own code (npm run export-har-windows), so that
 * training and serving share one windowing implementation.
 */
import { spawnSync } from 'node:child_process';
import { parseCli, runMain } from './cli.js';

const RECIPES = {
  fashion: { data: '/usr/share/datasets/fashion-mnist' },
  har: { data: '../shared/data/hapt' },
} as const;

const command = {
  name: 'npm run rebuild-zoo --',
  summary: 'Retrains a built-in zoo with its Python recipe (offline, CPU), then profiles it on this machine.',
  options: {
    task: { type: 'string', required: true, choices: Object.keys(RECIPES), placeholder: 'TASK', help: 'the zoo to rebuild' },
    data: { type: 'string', placeholder: 'DIR', help: "the task's data set (default: /usr/share/datasets/fashion-mnist, ../shared/data/hapt)" },
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
  if (task === 'har') {
    run('npx', ['tsx', 'scripts/export-har-windows.ts', '--data', data, '--out', '.cache/har-windows']);
    run(values.python, ['zoo/recipes/har.py', '--windows', '.cache/har-windows', '--out', 'zoo/har', ...tuning]);
  } else {
    run(values.python, ['zoo/recipes/fashion.py', '--data', data, '--out', 'zoo/fashion', ...tuning]);
  }
  if (!values['no-profile']) run('npx', ['tsx', 'scripts/profile.ts', '--task', task, '--data', data]);
});
