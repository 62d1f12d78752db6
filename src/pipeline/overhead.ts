/**
 * What consulting the premodel costs a request, timed as the request path pays it: the features of
 * an input already decoded (decoding is its own stage, which the models need anyway), and the
 * forests of a ladder's stage one plus one stage-two verdict. Training charges it to the routings
 * that consult the premodel; evaluation adds it to their cost.
 */
import { taskInputs } from '../inputs/registry.js';
import { PackedForest, type CompiledForest } from '../premodel/forest.js';
import type { ZooManifest } from '../zoo/manifest.js';
import type { LabelledInputs } from './datasets/index.js';

/** Every input's features, with their mean cost in microseconds. */
export async function timedFeatureRows(manifest: ZooManifest, data: LabelledInputs): Promise<{ rows: number[][]; featureUs: number }> {
  const inputs = taskInputs(manifest);
  const rows: number[][] = [];
  let ms = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const input = data.input(i);
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
