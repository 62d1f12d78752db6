/**
 * npm run evaluate -- --task <task> [--head HEAD] [--data DIR] [--zoo-dir zoo] [--premodel-dir premodel] [--out reports]
 *
 * Evaluates the premodel against every single model, the oracle and two confidence cascades on the
 * test split, as it is and as clients send it, and writes reports/<task>.md, .json and .svg. With
 * --head, the premodel of that head's tails on the task's test rows passed through the head, and
 * the split against the whole model on the device and the raw input sent to the service (bytes
 * sent, device MACs, server time, accuracy): reports/<task>-<head>.md, .json and .svg.
 */
import path from 'node:path';
import { taskInputs } from '../src/inputs/registry.js';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { compareSplit, comparisonMarkdown } from '../src/pipeline/split-comparison.js';
import { splitRows } from '../src/pipeline/split.js';
import { evaluateAt, evaluateStep } from '../src/pipeline/task-steps.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { HEADS_DIR } from '../src/zoo/repository.js';
import { DATA_DIR, HEAD, headFolder, parseCli, PREMODEL_DIR, runMain, TASK, taskFolder, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run evaluate --',
  summary: "Evaluates a task's premodel (or a head's) on its test split against every single model, the oracle and two confidence cascades; writes the report.",
  options: {
    task: TASK,
    head: HEAD,
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    'premodel-dir': PREMODEL_DIR,
    out: { type: 'string', default: 'reports', placeholder: 'DIR', help: 'writes <DIR>/<task>.md, .json and .svg (with --head: <DIR>/<task>-<HEAD>.*)' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  const taskDir = taskFolder(values['zoo-dir'], values.task);
  const { manifest } = await loadManifest(taskDir);
  const splits = await loadSplits(manifest, values.data);
  const taskPaths = { zooDir: taskDir, premodelDir: path.join(values['premodel-dir'], values.task), reportsDir: values.out };
  const invocation = `npm run evaluate -- ${process.argv.slice(2).join(' ')}`;
  if (values.head === undefined) {
    const step = await evaluateStep(taskPaths, splits, invocation);
    for (const line of step.lines) console.log(line);
    return;
  }
  const headDir = headFolder(taskDir, values.head);
  const route = await splitRows(taskDir, headDir, splits, { intraOpThreads: 1 });
  try {
    const headPaths = { zooDir: headDir, premodelDir: path.join(taskPaths.premodelDir, HEADS_DIR, values.head), reportsDir: values.out };
    const step = await evaluateStep(headPaths, route.splits, invocation, {
      name: `${values.task}-${values.head}`,
      appendix: async (split) => {
        const raw = await evaluateAt(taskPaths, splits);
        const comparison = await compareSplit({
          task: manifest,
          route: (await loadManifest(headDir)).manifest,
          raw: raw.clean,
          split: split.clean,
          inputs: taskInputs(manifest),
          test: splits.test,
        });
        const lines = comparison.modes.map(
          (m) => `  ${m.mode}: ${m.sent[0]!.bytes} B, device ${m.deviceMacs ?? '-'} MACs, server ${m.serverMs.toFixed(4)} ms, ${(m.accuracy * 100).toFixed(2)}%`,
        );
        return { key: 'split', markdown: comparisonMarkdown(comparison), data: comparison, lines: [`split ${comparison.head}: bottleneck ${comparison.bottleneck.bytes} B, ${(comparison.smallerThanTensor * 100).toFixed(1)}% smaller than the float32 input`, ...lines] };
      },
    });
    for (const line of step.lines) console.log(line);
  } finally {
    route.close();
  }
});
