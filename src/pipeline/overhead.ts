/**
 * What consulting the premodel costs a request, timed as the request path pays it: the features of
 * an input already decoded (decoding is its own stage, which the models need anyway), and the
 * forests of a ladder's stage one plus one stage-two verdict. Training charges it to the routings
 * that consult the premodel; evaluation adds it to their cost.
 */
import { taskInputs } from '../inputs/registry.js';
import { PackedForest, type CompiledForest } from '../premodel/forest.js';
import type { Premodel } from '../premodel/premodel.js';
import { routeWith } from '../select/route.js';
import type { ZooManifest } from '../zoo/manifest.js';
import type { LabelledInputs } from './datasets/splits.js';
import type { OutcomeFile } from './outcomes.js';

/** Every input's features, with their mean cost in microseconds. */
export async function timedFeatureRows(manifest: ZooManifest, data: LabelledInputs): Promise<{ rows: number[][]; featureUs: number }> {
  const inputs = taskInputs(manifest);
  const rows: number[][] = [];
  let ms = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const input = await data.input(i);
    await inputs.prepare(input); // decodes
    const t0 = performance.now();
    const row = await inputs.features(input);
    ms += performance.now() - t0;
    rows.push(Array.from(row));
  }
  return { rows, featureUs: (ms / Math.max(1, rows.length)) * 1000 };
}

/**
 * Mean microseconds per row of `rungs` stage-one forests and one stage-two forest (whose rows carry
 * a model's confidence and margin after the features), over at most `sample` rows.
 */
export function forestUs(
  stage1: readonly CompiledForest[],
  stage2: CompiledForest,
  rows: readonly (readonly number[])[],
  sample = 2000,
): number {
  const first = stage1.map((f) => new PackedForest(f));
  const second = new PackedForest(stage2);
  const used = rows.slice(0, sample);
  const extended = used.map((row) => [...row, 0.9, 0.5]);
  const t0 = performance.now();
  for (let i = 0; i < used.length; i++) {
    for (const forest of first) forest.predict(used[i]!);
    second.predict(extended[i]!);
  }
  return ((performance.now() - t0) / Math.max(1, used.length)) * 1000;
}

/**
 * Mean microseconds per row, as the request path pays them at `premodel`'s default target, of the
 * forests a request consults (stage one for the rungs of the default point's ladder, stage two for
 * the rung started) and of the route and policy, with the recorded confidences as verdicts. Untimed
 * over 20,000 rows first, as a warm service has its code compiled; then the median of 7 passes,
 * since one collector pause in a pass doubles its mean.
 */
export function selectionUs(premodel: Premodel, rungs: ReadonlyMap<string, number>, outcomes: OutcomeFile, features: readonly (readonly number[])[]): { premodel: number; route: number } {
  const pointFor = (target: number) => premodel.operatingPoint(target);
  const ladder = pointFor(premodel.defaultTarget()).models;
  const defaults = { minAccuracy: premodel.defaultTarget(), maxLatencyMs: Infinity };
  const pass = () => {
    let premodelMs = 0;
    let routeMs = 0;
    for (const [i, row] of features.entries()) {
      const t0 = performance.now();
      const estimates = premodel.estimate(row, ladder);
      premodel.confirm(ladder[0]!, row, 0.9, 0.5);
      const t1 = performance.now();
      routeWith(
        premodel.models,
        (models) => models.map((model) => ({ model, pCorrect: estimates.get(model) ?? 0, latencyMs: rungs.get(model)! })),
        {},
        pointFor,
        defaults,
        (model) => outcomes.models[model]!.confidence[i]!,
      );
      routeMs += performance.now() - t1;
      premodelMs += t1 - t0;
    }
    return { premodel: (premodelMs / features.length) * 1000, route: (routeMs / features.length) * 1000 };
  };
  for (let seen = 0; seen < 20_000; seen += Math.max(1, features.length)) pass();
  const passes = Array.from({ length: 7 }, pass);
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return { premodel: median(passes.map((p) => p.premodel)), route: median(passes.map((p) => p.route)) };
}
