/**
 * npm run recalibrate -- --task <task> --feedback DIR [--feedback DIR ...] [--premodel-dir premodel]
 *                        [--out DIR] [--min-labels 200]
 *
 * Moves the bounds of a task's premodel by what label feedback showed (src/pipeline/recalibrate.ts)
 * and writes the premodel again, with what it was fitted from; a running service takes it on reload.
 */
import path from 'node:path';
import type { FeedbackRecord } from '../src/feedback/index.js';
import { readFeedback } from '../src/feedback/store.js';
import { recalibrate } from '../src/pipeline/recalibrate.js';
import { loadTaskPremodel } from '../src/pipeline/task-steps.js';
import { savePremodel, type PremodelFile } from '../src/premodel/premodel.js';
import { parseCli, PREMODEL_DIR, runMain, TASK, taskFolder, UsageError, ZOO_DIR } from './cli.js';

const command = {
  name: 'npm run recalibrate --',
  summary: "Moves each input group's accuracy bounds of a task's premodel by the shift label feedback shows, and writes it (a reload serves it).",
  options: {
    task: TASK,
    feedback: { type: 'strings', placeholder: 'DIR', help: 'a feedback folder (FEEDBACK_DIR of a replica); all replicas in it are read' },
    'zoo-dir': ZOO_DIR,
    'premodel-dir': PREMODEL_DIR,
    out: { type: 'string', placeholder: 'DIR', help: 'writes <DIR>/<task>/premodel.json (default: the premodel folder itself)' },
    'min-labels': { type: 'int', default: 200, min: 1, max: 10_000_000, help: 'labels a group needs before its bounds move' },
  },
} as const;

runMain(command.name, async () => {
  const values = parseCli(command);
  if (values.feedback.length === 0) throw new UsageError('--feedback is required: a folder of stored labels');
  const { premodel } = await loadTaskPremodel(taskFolder(values['zoo-dir'], values.task), path.join(values['premodel-dir'], values.task));
  const collected: FeedbackRecord[] = [];
  for await (const record of readFeedback(values.feedback)) collected.push(record as FeedbackRecord);
  const result = recalibrate(structuredClone(premodel.file) as PremodelFile, collected, { minLabels: values['min-labels'], sources: values.feedback });
  console.log(`${result.labels} labels of this premodel's decisions (${result.skipped} left out: other tasks or premodels, no operating point, repeats)`);
  console.log('group: labels, realized against the premodel split at the served points, shift (its 95% lower bound applied)');
  const pts = (v: number) => (v * 100).toFixed(2);
  for (const [group, g] of Object.entries(result.groups)) {
    console.log(`  ${group || '(none)'}: ${g.labels}, ${pts(g.realized)}% against ${pts(g.expected)}%, ${pts(g.shift)} points (applied ${pts(g.applied)})`);
  }
  const file = await savePremodel(path.join(values.out ?? values['premodel-dir'], values.task), result.file);
  console.log(`wrote ${file}; a running service takes it on reload (SIGHUP, or POST /v1/admin/reload)`);
});
