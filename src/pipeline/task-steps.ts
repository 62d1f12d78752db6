/**
 * The offline path from a zoo to a served, routed task, the same for every task (built in or
 * brought): profile every model on this machine (latency, accuracy, per-input outcomes), train and
 * calibrate the premodel on the premodel split's outcomes, evaluate it on the test split and write
 * the report. `npm run profile`, `train-premodel`, `evaluate`, `rebuild-zoo` and `add-task` are
 * each some of these steps; each step returns the lines it has to say.
 */
import { existsSync } from 'node:fs';
import { taskInputs } from '../inputs/registry.js';
import { loadPremodel, savePremodel, type Premodel, type PremodelFile } from '../premodel/premodel.js';
import { loadManifest, rungsOf, type LoadedManifest, type ZooManifest } from '../zoo/manifest.js';
import { loadZoo } from '../zoo/repository.js';
import { rowsOfOutcomes } from './client-rows.js';
import { measureCrossFit, withCrossFit, type CalibrationRows } from './cross-fit.js';
import type { EvaluationSplits } from './datasets/splits.js';
import { evaluateTask, type TaskEvaluation } from './evaluate.js';
import { outcomePath, readOutcomes, writeOutcomes } from './outcomes.js';
import { accuracyOf, measureLatency, profileZoo, saveProfile, type LatencyOptions } from './profile.js';
import { writeReport, type ReportAppendix } from './report.js';
import type { ForestOptions } from '../premodel/forest.js';
import { DEFAULT_FOREST, trainTaskPremodel } from './train-premodel.js';
import { zooTable } from './zoo-table.js';

/** Where one task's artifacts are: its zoo folder, its premodel folder, and the reports folder. */
export interface TaskPaths {
  zooDir: string;
  premodelDir: string;
  reportsDir: string;
}

export interface StepResult {
  lines: string[];
  seconds: number;
}

const since = (started: number) => (performance.now() - started) / 1000;

export interface ProfileOptions extends LatencyOptions {
  /** Measure latency again and keep the accuracies and outcomes. */
  latencyOnly?: boolean;
  /** Print the figures, write nothing. */
  dryRun?: boolean;
}

/** Profiles every model of the zoo in `zooDir` into its manifest and outcome files. */
export async function profileStep(zooDir: string, splits: EvaluationSplits, options: ProfileOptions): Promise<StepResult & { manifest: ZooManifest }> {
  const started = performance.now();
  const zoo = await loadZoo(zooDir, { intraOpThreads: options.intraOpThreads });
  try {
    const result = options.latencyOnly === true
      ? { latency: await measureLatency(zoo.models, taskInputs(zoo.manifest), await splits.premodel.input(0), options) }
      : await profileZoo(zoo, splits, options);
    const manifest: ZooManifest = {
      ...zoo.manifest,
      models: zoo.manifest.models.map((m) => ({ ...m, accuracy: 'accuracy' in result ? result.accuracy[m.id] : m.accuracy, latency: result.latency[m.id] })),
    };
    if (options.dryRun !== true) await saveProfile(zooDir, result);
    const seconds = since(started);
    return {
      manifest,
      seconds,
      lines: [
        zooTable(manifest),
        `profiled ${zoo.models.length} models with ${options.intraOpThreads} intra-op thread(s) in ${seconds.toFixed(1)} s${options.dryRun === true ? ' (dry run: nothing written)' : ''}`,
      ],
    };
  } finally {
    zoo.dispose();
  }
}

/**
 * Measures a recipe's fold models (`foldsDir`: one folder per fold, pipeline/cross-fit.ts) on the
 * zoo split's people each never saw; writes outcomes/cross-fit.json beside the zoo's other outcomes.
 */
export async function crossFitStep(zooDir: string, foldsDir: string, splits: EvaluationSplits, intraOpThreads: number): Promise<StepResult> {
  const started = performance.now();
  const { manifest, zooHash } = await loadManifest(zooDir);
  if (splits.zoo === undefined) throw new Error(`task "${manifest.task}": its data set gives no zoo split to cross-fit`);
  const modelIds = rungsOf(manifest).map((r) => r.id);
  const outcomes = await measureCrossFit(foldsDir, { task: manifest.task, zooHash, modelIds }, splits.zoo, intraOpThreads);
  const file = outcomePath(zooDir, 'cross-fit');
  await writeOutcomes(file, outcomes);
  const people = new Set(splits.zoo.groups).size;
  return {
    seconds: since(started),
    lines: [
      `cross-fitted accuracy on the zoo split (${outcomes.labels.length} inputs, ${people} people, each by the fold that never saw them):`,
      ...modelIds.map((id) => `  ${id}: ${(accuracyOf(outcomes, id) * 100).toFixed(2)}%`),
      `wrote ${file}`,
    ],
  };
}

export interface PremodelOptions {
  folds: number;
  forest: ForestOptions;
}

export const DEFAULT_PREMODEL_OPTIONS: PremodelOptions = Object.freeze({ folds: 2, forest: DEFAULT_FOREST });

/**
 * The rows premodel training (and the tuned cascade it is compared with) learns from: the premodel
 * split as the profiler measured it (as clients send it, for a kind they encode), then the zoo
 * split's cross-fitted rows where they were measured (outcomes/cross-fit.json).
 */
export async function calibrationRowsAt(zooDir: string, { manifest, zooHash }: { manifest: ZooManifest; zooHash: string }, splits: EvaluationSplits): Promise<CalibrationRows> {
  const outcomes = await readOutcomes(outcomePath(zooDir, 'premodel'), zooHash);
  const own = { outcomes, data: rowsOfOutcomes(splits.premodel, taskInputs(manifest), outcomes.rows) };
  const crossFitFile = outcomePath(zooDir, 'cross-fit');
  if (!existsSync(crossFitFile)) return own;
  if (splits.zoo === undefined) throw new Error(`${crossFitFile}: task "${manifest.task}"'s data set gives no zoo split to read its inputs from`);
  return withCrossFit(own, { outcomes: await readOutcomes(crossFitFile, zooHash), data: splits.zoo });
}

/** Trains and calibrates the premodel from the zoo's calibration rows (calibrationRowsAt); writes it to `premodelDir`. */
export async function premodelStep(zooDir: string, premodelDir: string, splits: EvaluationSplits, options: PremodelOptions): Promise<StepResult & { premodel: PremodelFile }> {
  const started = performance.now();
  const loaded = await loadManifest(zooDir);
  const rows = await calibrationRowsAt(zooDir, loaded, splits);
  const { premodel, featureUs } = await trainTaskPremodel({
    manifest: loaded.manifest,
    zooHash: loaded.zooHash,
    outcomes: rows.outcomes,
    data: rows.data,
    folds: options.folds,
    options: options.forest,
  });
  const file = await savePremodel(premodelDir, premodel);
  const points = premodel.calibration.map(
    (c) =>
      `  ${c.models.join(' > ')} @ ${c.thresholds.join(' / ')}${c.models.length > 1 ? ` (${c.verifier}${c.start === 'cheapest' ? ', from the cheapest' : ''})` : ''} -> ` +
      `${(c.accuracy * 100).toFixed(2)}% (${(c.accuracyLowerBound * 100).toFixed(2)}%), ${c.meanCostMs.toFixed(4)} ms`,
  );
  const seconds = since(started);
  return {
    premodel,
    seconds,
    lines: [
      `routes among ${premodel.models.join(', ')}`,
      `features and forests ${(premodel.training.overheadMs * 1000).toFixed(1)} us per input (features ${featureUs.toFixed(1)} us), charged to the routings that consult the premodel`,
      'operating points (out of fold, premodel split): ladder @ thresholds per rung -> accuracy (lower bound), mean cost',
      ...points,
      `wrote ${file}; forests trained in ${premodel.training.seconds.toFixed(1)} s, ${seconds.toFixed(1)} s in all`,
    ],
  };
}

/** A task's manifest and its premodel, checked against each other as the service checks them. */
export async function loadTaskPremodel(zooDir: string, premodelDir: string): Promise<LoadedManifest & { premodel: Premodel }> {
  const loaded = await loadManifest(zooDir);
  const { manifest, zooHash } = loaded;
  const premodel = await loadPremodel(premodelDir, {
    task: manifest.task,
    zooHash,
    featureNames: taskInputs(manifest).featureNames,
    modelIds: rungsOf(manifest).map((r) => r.id),
  });
  return { ...loaded, premodel };
}

const ratio = (r: number | null) => (r === null ? 'not reached' : `${r.toFixed(3)}x`);

/** The premodel of the zoo in `paths.zooDir` evaluated on the test split, as it is and as clients send it. */
export async function evaluateAt(paths: Omit<TaskPaths, 'reportsDir'>, splits: EvaluationSplits): Promise<TaskEvaluation> {
  const loaded = await loadTaskPremodel(paths.zooDir, paths.premodelDir);
  const { manifest, zooHash, premodel } = loaded;
  const read = (name: 'test' | 'test-client') => readOutcomes(outcomePath(paths.zooDir, name), zooHash);
  const calibration = await calibrationRowsAt(paths.zooDir, loaded, splits);
  const outcomes = {
    premodel: calibration.outcomes,
    test: await read('test'),
    ...(existsSync(outcomePath(paths.zooDir, 'test-client')) ? { testClient: await read('test-client') } : {}),
  };
  return evaluateTask({ manifest, premodel, outcomes, splits: { ...splits, premodel: calibration.data } });
}

/**
 * Evaluates the premodel on the test split (as it is and as clients send it); writes the report,
 * as reports/<name> (default: the task's name), with `appendix` after its sections.
 */
export async function evaluateStep(
  paths: TaskPaths,
  splits: EvaluationSplits,
  command: string,
  report: { name?: string; appendix?: (result: TaskEvaluation) => Promise<ReportAppendix> } = {},
): Promise<StepResult & { result: TaskEvaluation; files: string[] }> {
  const started = performance.now();
  const result = await evaluateAt(paths, splits);
  const appendix = await report.appendix?.(result);
  const files = await writeReport(paths.reportsDir, result, command, { ...(report.name === undefined ? {} : { name: report.name }), ...(appendix === undefined ? {} : { appendix }) });
  const lines: string[] = appendix?.lines.slice() ?? [];
  for (const e of [result.clean, ...(result.client === undefined ? [] : [result.client])]) {
    const h = e.headline;
    lines.push(
      `${e.set} test rows (${e.inputs}): best single model ${h.best.model} ${(h.best.accuracy * 100).toFixed(2)}% at ${h.best.meanCostMs.toFixed(4)} ms`,
      `  premodel at that accuracy (within 0.2 points): ${ratio(h.premodelCostRatio)} its cost; exactly: ${ratio(h.premodelExactCostRatio)}; ` +
        `cascade: ${ratio(h.cascadeCostRatio)}; tuned cascade: ${ratio(h.tunedCascadeCostRatio)}`,
      `  targets met: ${h.targets.met} of ${h.targets.reachable} (within the sampling margin of ${(e.samplingMargin * 100).toFixed(2)} points: ${h.targets.metWithinMargin}; kept by the constraintMet-true answers: ${h.targets.kept}); ` +
        `no constraint: ${(e.premodelDefault.accuracy * 100).toFixed(2)}% at ${e.premodelDefault.meanCostMs.toFixed(4)} ms, ${(e.premodelDefault.vouchedShare * 100).toFixed(1)}% vouched`,
      `  overhead per input: route ${e.overheadUs.route.toFixed(1)} us; where consulted, features ${e.overheadUs.features.toFixed(1)} us and forests ${e.overheadUs.premodel.toFixed(1)} us`,
    );
  }
  lines.push(`wrote ${files.join(', ')}`);
  return { result, files, seconds: since(started), lines };
}

/** Every step after the zoo's models are in place: profile, premodel, evaluation; each step's lines go to `say`. */
export async function buildTask(
  paths: TaskPaths,
  splits: EvaluationSplits,
  options: { profile: ProfileOptions; premodel: PremodelOptions; command: string },
  say: (line: string) => void,
): Promise<{ evaluation: TaskEvaluation; reportFiles: string[] }> {
  const tell = (name: string, step: StepResult) => {
    say(`== ${name} (${step.seconds.toFixed(1)} s)`);
    for (const line of step.lines) say(line);
  };
  tell('profile', await profileStep(paths.zooDir, splits, options.profile));
  tell('premodel', await premodelStep(paths.zooDir, paths.premodelDir, splits, options.premodel));
  const evaluated = await evaluateStep(paths, splits, options.command);
  tell('evaluate', evaluated);
  return { evaluation: evaluated.result, reportFiles: evaluated.files };
}
