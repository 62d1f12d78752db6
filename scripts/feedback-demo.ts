/**
 * npm run feedback-demo -- [--task fashion] [--data DIR] [--shift off-centre|gain|none]
 *                          [--targets 0.88,0.9] [--requests N] [--seed 5] [--out reports]
 *
 * Label feedback keeping the accuracy promise on a stream that calibration did not see. The test
 * split, shifted as another camera or sensor would (images off-centre by 2 pixels, windows through
 * a sensor of 15% more gain; or as it is, where the shift is the test volunteers themselves), goes
 * through the real service, in order, with minAccuracy targets in turn, the true label sent back
 * after each answer. Side by side on the same stream:
 *
 *   off           labels counted, the online correction off (FEEDBACK_CORRECTION=0)
 *   on            the online correction on
 *   recalibrated  npm run recalibrate's premodel, fitted on the first half's labels of "on", served
 *                 with the correction off, on the second half
 *   quiet         the stream unshifted and unlabelled: the drift monitor against the shifted one
 *
 * Each run's realized accuracy per target over the second half of the stream (the first half is
 * the time labels take to arrive), against the target less its one-sided 95% sampling margin;
 * and the mean model cost per request. Prints the table; writes <out>/feedback-<task>.{json,md}.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { configFromEnv } from '../src/config/env.js';
import { CORRECTION_DEFAULTS } from '../src/config/defaults.js';
import { FeedbackService, type FeedbackRecord } from '../src/feedback/index.js';
import { readFeedback } from '../src/feedback/store.js';
import { buildApp } from '../src/http/app.js';
import type { ImageInput } from '../src/inputs/image/decode.js';
import { taskInputs } from '../src/inputs/registry.js';
import { loadSplits } from '../src/pipeline/datasets/index.js';
import { recalibrate } from '../src/pipeline/recalibrate.js';
import { loadTaskPremodel } from '../src/pipeline/task-steps.js';
import { seededRandom } from '../src/premodel/forest.js';
import { savePremodel, type PremodelFile } from '../src/premodel/premodel.js';
import { DataPlane } from '../src/serve/dataplane.js';
import { loadManifest } from '../src/zoo/manifest.js';
import { predictRequests, type BenchInput } from './bench/inputs.js';
import { DATA_DIR, parseCli, PREMODEL_DIR, runMain, taskFolder, UsageError, ZOO_DIR } from './cli.js';

const SHIFTS = ['off-centre', 'gain', 'none'] as const;
type Shift = (typeof SHIFTS)[number];

const command = {
  name: 'npm run feedback-demo --',
  summary: 'Serves a shifted test stream with labels fed back: realized accuracy per target with the online correction off, on, and after npm run recalibrate.',
  options: {
    task: { type: 'string', default: 'fashion', placeholder: 'TASK', help: 'the task: a folder of the zoo directory' },
    data: DATA_DIR,
    'zoo-dir': ZOO_DIR,
    'premodel-dir': PREMODEL_DIR,
    shift: { type: 'string', choices: SHIFTS, placeholder: 'SHIFT', help: 'off-centre: images moved 2 pixels (default for images); gain: windows through a sensor of 15% more gain; none: as they are (default for windows: the test volunteers are the shift)' },
    targets: { type: 'strings', default: ['0.88', '0.9'], placeholder: 'A', help: 'minAccuracy targets, sent in turn' },
    requests: { type: 'int', default: 0, min: 0, max: 10_000_000, help: 'stream length (0: the whole test split)' },
    seed: { type: 'int', default: 5, help: 'order of the stream and of the shifts' },
    out: { type: 'string', default: 'reports', placeholder: 'DIR', help: 'writes <DIR>/feedback-<task>.json and .md' },
  },
} as const;

/** The runs sign with a key of their own; nothing outlives them. */
const DEMO_KEY = 'feedback-demo, a key of its own';

interface StreamItem {
  input: BenchInput;
  plain: BenchInput;
  label: number;
  target: number;
}

/** One run's answers: per request, its target, whether it was right, its models' cost (ms), and whether it was vouched for. */
interface Answer {
  target: number;
  right: boolean;
  costMs: number;
  met: boolean;
}

/** A window's samples times `gain`: another sensor's calibration. */
function gained(input: BenchInput, gain: number): BenchInput {
  if (input.form !== 'json') throw new UsageError('--shift gain is for window tasks');
  return { ...input, value: (input.value as number[][]).map((row) => row.map((v) => v * gain)) };
}

/** The image moved by (dx, dy) pixels, the edge it uncovers black, as a PNG upload. */
async function offCentre(image: ImageInput, dx: number, dy: number): Promise<BenchInput> {
  const raw = image.pixels();
  if (raw === undefined) throw new UsageError('--shift off-centre needs images the data set holds as pixels');
  const { width, height, channels } = raw;
  const moved = new Uint8Array(raw.pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
      for (let c = 0; c < channels; c++) moved[(y * width + x) * channels + c] = raw.pixels[(sy * width + sx) * channels + c]!;
    }
  }
  const bytes = await sharp(moved, { raw: { width, height, channels } }).png().toBuffer();
  return { form: 'upload', bytes, mediaType: 'image/png' };
}

async function buildStream(task: string, zooDir: string, dataDir: string | undefined, shift: Shift, targets: readonly number[], requests: number, seed: number): Promise<StreamItem[]> {
  const { manifest } = await loadManifest(zooDir);
  const inputs = taskInputs(manifest);
  const { test } = await loadSplits(manifest, dataDir);
  const random = seededRandom(seed);
  const order = Array.from({ length: test.labels.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const count = requests === 0 ? order.length : Math.min(requests, order.length);
  const stream: StreamItem[] = [];
  for (let k = 0; k < count; k++) {
    const i = order[k]!;
    const input = await test.input(i);
    const plain = (await inputs.asWire(input)) as BenchInput;
    const step = () => (random() < 0.5 ? -2 : 2);
    const shifted =
      shift === 'off-centre' ? await offCentre(input as ImageInput, step(), step())
      : shift === 'gain' ? gained(plain, 1.15)
      : plain;
    stream.push({ input: shifted, plain, label: test.labels[i]!, target: targets[k % targets.length]! });
    if (k % 2000 === 1999) process.stderr.write(`stream of ${task}: ${k + 1} of ${count}\n`);
  }
  return stream;
}

interface RunOptions {
  name: string;
  zooDir: string;
  premodelDir: string;
  items: readonly StreamItem[];
  shifted: boolean;
  labels: boolean;
  correction: boolean;
}

/** Serves `items` in order through a fresh service; with labels, sends each answer's true label back at once. */
async function serveStream(task: string, work: string, options: RunOptions) {
  const feedbackDir = path.join(work, `feedback-${options.name}`);
  const feedback = await FeedbackService.open({ dir: feedbackDir, replica: options.name, key: DEMO_KEY, maxBatch: 1000, maxBytes: 1 << 30 });
  const plane = await DataPlane.load({
    zooDir: options.zooDir,
    premodelDir: options.premodelDir,
    intraOpThreads: 1,
    defaultMaxLatencyMs: Number.POSITIVE_INFINITY,
    signer: feedback.signer,
    correction: { ...CORRECTION_DEFAULTS, enabled: options.correction },
  });
  const app = buildApp(plane, configFromEnv({}), { feedback });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const served = plane.task(task);
  const rungCost = (id: string) => served.zoo.rung(id).model.entry.latency?.p50Ms ?? 0;
  const answers: Answer[] = [];
  const ids: string[] = [];
  try {
    for (const [k, item] of options.items.entries()) {
      const [request] = predictRequests(task, [options.shifted ? item.input : item.plain], options.name, { minAccuracy: item.target });
      const res = await fetch(`${base}${request!.path}`, { method: 'POST', headers: request!.headers, body: request!.body as BodyInit });
      const answer = (await res.json()) as { requestId: string; classIndex: number; selection: { ran: string[]; constraintMet: boolean } };
      if (res.status !== 200) throw new Error(`${options.name}: predict answered ${res.status}: ${JSON.stringify(answer)}`);
      answers.push({ target: item.target, right: answer.classIndex === item.label, costMs: answer.selection.ran.reduce((sum, id) => sum + rungCost(id), 0), met: answer.selection.constraintMet });
      ids.push(answer.requestId);
      if (options.labels) {
        const fed = await fetch(`${base}/v1/tasks/${task}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requestId: answer.requestId, classIndex: item.label }) });
        if (fed.status !== 202) throw new Error(`${options.name}: feedback answered ${fed.status}`);
      }
      if (k % 2000 === 1999) process.stderr.write(`${options.name}: ${k + 1} of ${options.items.length}\n`);
    }
    const quality = (await (await fetch(`${base}/v1/tasks/${task}/quality`)).json()) as { drift: { group: string; featurePsi: number | null; confidencePsi: number | null; drifted: boolean; rows: number }[]; corrections: { band: string; group: string; raise: number }[] };
    return { answers, ids, feedbackDir, signer: feedback.signer, quality };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.service.close();
    await feedback.close();
  }
}

/** Per target, over `answers`: the count, realized accuracy, the sampling margin, whether it is met within it; the mean cost. */
function figures(answers: readonly Answer[], targets: readonly number[]) {
  return {
    meanCostMs: round(answers.reduce((s, a) => s + a.costMs, 0) / answers.length),
    vouched: round(answers.filter((a) => a.met).length / answers.length),
    targets: targets.map((target) => {
      const of = answers.filter((a) => a.target === target);
      const accuracy = of.filter((a) => a.right).length / of.length;
      const margin = 1.645 * Math.sqrt((target * (1 - target)) / of.length);
      return { target, requests: of.length, accuracy: round(accuracy), margin: round(margin), met: accuracy >= target - margin, meanCostMs: round(of.reduce((s, a) => s + a.costMs, 0) / of.length) };
    }),
  };
}

const round = (v: number) => Math.round(v * 1e5) / 1e5;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

runMain(command.name, async () => {
  const values = parseCli(command);
  const targets = values.targets.map(Number);
  if (targets.some((t) => !(t > 0 && t < 1))) throw new UsageError(`--targets must be accuracies between 0 and 1, not ${values.targets.join(',')}`);
  const zooDir = taskFolder(values['zoo-dir'], values.task);
  const { manifest } = await loadManifest(zooDir);
  const shift: Shift = (values.shift as Shift | undefined) ?? (manifest.kind === 'image' ? 'off-centre' : 'none');
  const started = performance.now();
  const stream = await buildStream(values.task, zooDir, values.data, shift, targets, values.requests, values.seed);
  const half = Math.floor(stream.length / 2);
  const work = await mkdtemp(path.join(os.tmpdir(), 'feedback-demo-'));
  try {
    // A zoo folder of this task alone, and a premodel folder the recalibrated premodel goes to.
    const zoos = path.join(work, 'zoo');
    await mkdir(zoos);
    await symlink(path.resolve(zooDir), path.join(zoos, values.task));
    const premodels = path.join(work, 'premodel');
    await mkdir(premodels);
    await symlink(path.resolve(values['premodel-dir'], values.task), path.join(premodels, values.task));
    const run = (name: string, o: Partial<RunOptions>) =>
      serveStream(values.task, work, { name, zooDir: zoos, premodelDir: premodels, items: stream, shifted: true, labels: true, correction: false, ...o });

    const quiet = await run('quiet', { shifted: false, labels: false });
    const off = await run('off', {});
    const on = await run('on', { correction: true });
    // Recalibrated on the labels of the first half of "on"; served on the second half.
    const firstHalf = new Set(on.ids.slice(0, half).map((id) => on.signer.verify(id).id));
    const records: FeedbackRecord[] = [];
    for await (const r of readFeedback([on.feedbackDir])) if (firstHalf.has((r as FeedbackRecord).id)) records.push(r as FeedbackRecord);
    const { premodel } = await loadTaskPremodel(zooDir, path.join(values['premodel-dir'], values.task));
    const fitted = recalibrate(structuredClone(premodel.file) as PremodelFile, records, { minLabels: 200, sources: [`feedback-demo: the first half of "on" (${records.length} labels)`] });
    const recalibratedDir = path.join(work, 'recalibrated');
    await savePremodel(path.join(recalibratedDir, values.task), fitted.file);
    const recalibrated = await run('recalibrated', { premodelDir: recalibratedDir, items: stream.slice(half), labels: false });

    const second = (answers: readonly Answer[]) => answers.slice(answers.length - (stream.length - half));
    const result = {
      task: values.task,
      shift,
      requests: stream.length,
      secondHalf: stream.length - half,
      correction: CORRECTION_DEFAULTS,
      off: figures(second(off.answers), targets),
      on: figures(second(on.answers), targets),
      recalibrated: { ...figures(recalibrated.answers, targets), groups: fitted.groups, labels: fitted.labels },
      unshifted: figures(second(quiet.answers), targets),
      raises: on.quality.corrections,
      drift: { unshifted: quiet.quality.drift, shifted: off.quality.drift },
      seconds: round((performance.now() - started) / 1000),
      command: `npm run feedback-demo -- --task ${values.task} --shift ${shift} --targets ${values.targets.join(',')}${values.requests === 0 ? '' : ` --requests ${values.requests}`} --seed ${values.seed}`,
    };
    const rows = targets.map((t, i) => {
      const cell = (f: ReturnType<typeof figures>) => `${pct(f.targets[i]!.accuracy)} ${f.targets[i]!.met ? 'met' : '**missed**'} (${f.targets[i]!.meanCostMs.toFixed(3)} ms)`;
      return `| ${pct(t)} | ${result.off.targets[i]!.requests} | ${pct(result.off.targets[i]!.margin)} | ${cell(result.unshifted)} | ${cell(result.off)} | ${cell(result.on)} | ${cell(result.recalibrated)} |`;
    });
    const driftRow = (d: typeof quiet.quality.drift) => d.map((g) => `${g.group || '(none)'}: features ${g.featurePsi?.toFixed(3) ?? 'n/a'}, confidence ${g.confidencePsi?.toFixed(3) ?? 'n/a'}${g.drifted ? ' **drifted**' : ''}`).join('; ');
    const md = [
      `# Label feedback on ${values.task}: a stream calibration did not see`,
      '',
      `Generated by \`${result.command}\` in ${result.seconds.toFixed(0)} s: ${stream.length} test inputs (shift: ${shift}), targets in turn, the true label sent back after each answer. Realized accuracy over the second half of the stream (${result.secondHalf} requests), met when within the one-sided 95% sampling margin of the target; in brackets the mean model cost per request.`,
      '',
      '| target | requests | margin | unshifted | shifted, correction off | shifted, correction on | shifted, recalibrated |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
      `- Answers vouched for (\`constraintMet: true\`) over the second half: unshifted ${pct(result.unshifted.vouched)}, correction off ${pct(result.off.vouched)} (recent labels show the bands missed), on ${pct(result.on.vouched)}, recalibrated ${pct(result.recalibrated.vouched)}.`,
      `- Recalibration (${fitted.labels} labels of the first half): ${Object.entries(fitted.groups).map(([g, s]) => `${g || '(none)'}: realized ${pct(s.realized)} against ${pct(s.expected)} on the premodel split at the points served, bounds moved ${(s.applied * 100).toFixed(2)} points`).join('; ')}.`,
      `- Online correction at the end (raise of each band and group): ${on.quality.corrections.map((c) => `${c.band}${c.group === '' ? '' : ` ${c.group}`} +${(c.raise * 100).toFixed(2)}`).join(', ') || 'none'}.`,
      `- Drift, unshifted stream: ${driftRow(quiet.quality.drift) || 'n/a'}.`,
      `- Drift, shifted stream: ${driftRow(off.quality.drift) || 'n/a'}.`,
      '',
    ].join('\n');
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, `feedback-${values.task}.json`), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(path.join(values.out, `feedback-${values.task}.md`), md);
    console.log(md);
    console.log(`wrote ${path.join(values.out, `feedback-${values.task}.md`)} and .json`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
