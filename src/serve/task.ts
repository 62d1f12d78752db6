/**
 * One task, ready to serve: its zoo's sessions, its premodel, and the request pipeline as
 * explicit, timed stages: decode, features, select (premodel + policy), run, respond. The
 * premodel's routing is the generator in select/route.ts, driven here by real model runs.
 */
import { InvalidInputError } from '../errors/index.js';
import { extractFeatures, featureViewOf, type FeatureView } from '../features/extract.js';
import { modelTensor, type ModelInput } from '../inputs/index.js';
import { topTwo } from '../pipeline/outcomes.js';
import type { Premodel } from '../premodel/premodel.js';
import type { Candidate, Constraint, PolicyDefaults } from '../select/policy.js';
import { route } from '../select/route.js';
import type { Zoo, ZooModel } from '../zoo/repository.js';

export interface StageTiming {
  decodeMs: number;
  featuresMs: number;
  selectMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface Prediction {
  task: string;
  model: string;
  label: string;
  classIndex: number;
  scores: number[];
  selection: {
    constraintMet: boolean;
    predictedAccuracy: number;
    predictedLatencyMs: number;
    candidates: { model: string; pCorrect: number; latencyMs: number }[];
    /** Models run for this answer, in order (more than one when the route escalated). */
    ran: string[];
    reason: string;
  };
  timing: StageTiming;
}

export class ServedTask {
  readonly view: FeatureView;

  constructor(
    readonly zoo: Zoo,
    readonly premodel: Premodel,
    private readonly defaults: PolicyDefaults,
  ) {
    this.view = featureViewOf(zoo.manifest);
  }

  get name(): string {
    return this.zoo.task;
  }

  /** Expected latency of each model now, in ms. Starts from the profile. */
  expectedLatencyMs(model: ZooModel): number {
    return model.entry.latency?.p50Ms ?? Number.POSITIVE_INFINITY;
  }

  candidates(pCorrect: ReadonlyMap<string, number>): Candidate[] {
    return this.premodel.models.map((id) => ({
      model: id,
      pCorrect: pCorrect.get(id)!,
      latencyMs: this.expectedLatencyMs(this.zoo.model(id)),
    }));
  }

  async predict(input: ModelInput, constraint: Constraint, started = performance.now()): Promise<Prediction> {
    const t0 = performance.now();
    if (input.kind !== this.view.kind) {
      throw new InvalidInputError(`task "${this.name}" takes ${this.view.kind}s, not ${input.kind}s`);
    }
    // An image decodes on its first conversion: ask for the feature plane here so that decoding is
    // timed as its own stage (the features, and models of the same preprocessing, reuse it).
    if (input.kind === 'image' && this.view.kind === 'image') await input.image.tensor(this.view.plane);
    const t1 = performance.now();
    const features = await extractFeatures(input, this.view);
    const t2 = performance.now();
    const candidates = this.candidates(this.premodel.estimate(features));
    const forced = constraint.model === undefined ? undefined : this.zoo.model(constraint.model);
    if (forced !== undefined && !this.premodel.models.includes(forced.id)) {
      // A model the premodel does not route to (dominated by another): its measured accuracy stands in.
      candidates.push({ model: forced.id, pCorrect: forced.entry.accuracy?.premodel ?? 0, latencyMs: this.expectedLatencyMs(forced) });
    }
    let selectMs = performance.now() - t2;
    let inferenceMs = 0;
    const steps = route(candidates, constraint, (a) => this.premodel.thresholdFor(a), this.defaults);
    let step = steps.next();
    let probabilities: Float32Array = new Float32Array(0);
    while (!step.done) {
      const model = this.zoo.model(step.value);
      const r0 = performance.now();
      probabilities = await model.classify(await modelTensor(input, model.entry));
      const r1 = performance.now();
      const top = topTwo(probabilities);
      // A forced model runs once whatever stage two says: skip it.
      const confirmed = forced !== undefined ? 1 : this.premodel.confirm(model.id, features, top.confidence, top.margin);
      step = steps.next(confirmed);
      inferenceMs += r1 - r0;
      selectMs += performance.now() - r1;
    }
    const result = step.value;
    const top = topTwo(probabilities);
    const done = performance.now();
    return {
      task: this.name,
      model: result.model,
      label: this.zoo.manifest.classes[top.index]!,
      classIndex: top.index,
      scores: Array.from(probabilities, (p) => Math.round(p * 1e6) / 1e6),
      selection: {
        constraintMet: result.constraintMet,
        predictedAccuracy: result.predictedAccuracy,
        predictedLatencyMs: result.predictedLatencyMs,
        candidates: candidates.map((c) => ({ model: c.model, pCorrect: Math.round(c.pCorrect * 1e4) / 1e4, latencyMs: c.latencyMs })),
        ran: result.ran,
        reason: result.reason,
      },
      timing: { decodeMs: t1 - t0, featuresMs: t2 - t1, selectMs, inferenceMs, totalMs: done - started },
    };
  }
}
