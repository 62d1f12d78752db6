/**
 * The premodel of one task: for every zoo model, the estimated chance that it classifies an input
 * right, in two stages. Stage one sees only the input's cheap features and picks where to start;
 * stage two also sees the started model's own output (top-1 confidence, margin) and says whether
 * to stop there or escalate. A calibration table of operating points (a ladder of models, a
 * threshold per rung on these chances, and whether stage two or the model's own confidence judges
 * each answer), each with the accuracy and cost it reached on the premodel split out of fold, maps
 * each accuracy target to the cheapest point that can vouch for it.
 *
 * A premodel file carries its kind, version, feature names and the hash of the zoo it was trained
 * against; `loadPremodel` refuses any mismatch, so a premodel never routes for a zoo it has not seen.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '../errors/index.js';
import { compileSchema, deepFreeze, readJsonArtifact, type DeepReadonly, type FromSchema } from '../schema/index.js';
import { forestOptionsSchema, forestSchema, PackedForest } from './forest.js';
import { calibrationPointSchema, operatingPointIn, type OperatingPoint } from './operating-point.js';
import { driftReferenceProblems, driftReferenceSchema, type DriftReference } from './reference.js';

export const PREMODEL_KIND = 'adaptive-zoo-premodel';
export const PREMODEL_VERSION = 4 as const;
export const PREMODEL_FILE = 'premodel.json';

const share = { type: 'number', minimum: 0, maximum: 1 } as const;
const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

/** What labels showed of a group or operating point, and how far its bounds moved (pipeline/recalibrate.ts). */
const shiftProperties = {
  labels: { type: 'integer', minimum: 0 },
  realized: share,
  expected: share,
  /** Realized less expected, in accuracy. */
  shift: { type: 'number', minimum: -1, maximum: 1 },
  /** What the bounds were moved by: the shift's one-sided 95% lower bound, or 0 where that is above 0 or labels are too few. */
  applied: { type: 'number', minimum: -1, maximum: 0 },
} as const;

export const premodelSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    '$comment', 'kind', 'version', 'task', 'zooHash', 'dataHash', 'featureNames', 'models', 'stage1', 'stage2',
    'calibration', 'alone', 'bestSingleAccuracy', 'defaultTarget', 'training',
  ],
  properties: {
    $comment: { type: 'string' },
    kind: { const: PREMODEL_KIND },
    version: { const: PREMODEL_VERSION },
    task: { type: 'string' },
    zooHash: hash,
    /** Hash of the premodel split's labels and outcomes that trained it. */
    dataHash: hash,
    featureNames: { type: 'array', items: { type: 'string' }, minItems: 1 },
    /** Zoo models the premodel routes among, cheapest first. */
    models: { type: 'array', items: { type: 'string' }, minItems: 1 },
    stage1: { type: 'object', additionalProperties: forestSchema },
    stage2: { type: 'object', additionalProperties: forestSchema },
    /** The operating points that no other beats on both accuracy and cost, cheapest first. */
    calibration: { type: 'array', minItems: 1, items: calibrationPointSchema },
    /** Accuracy of the most accurate single model on the premodel split. */
    bestSingleAccuracy: share,
    /**
     * Requests with no constraint get this target: the most accurate single model's bound, which
     * some point vouches for; per encoding group where calibration has groups (`defaultTargets`).
     */
    defaultTarget: share,
    defaultTargets: { type: 'object', additionalProperties: share },
    /** What each rung serving alone is vouched for (a request that forces a model is held to it); per group where there are groups. */
    alone: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['accuracyLowerBound'],
        properties: { accuracyLowerBound: share, groups: { type: 'object', additionalProperties: share } },
      },
    },
    /**
     * How the premodel split spreads over the features and the routed models' confidence, for drift
     * detection (premodel/reference.ts). Optional: files trained before it route just the same.
     */
    drift: driftReferenceSchema,
    /**
     * Where label feedback moved the bounds (npm run recalibrate): per input group ("" for none),
     * the labels, their realized accuracy against what the served points reached on the premodel
     * split, and the shift applied to every bound of the group.
     */
    recalibration: {
      type: 'object',
      additionalProperties: false,
      required: ['sources', 'labels', 'fittedAt', 'groups', 'trainedDefaults'],
      properties: {
        sources: { type: 'array', items: { type: 'string' } },
        /** The default targets training gave, restored before a later recalibration. */
        trainedDefaults: {
          type: 'object',
          additionalProperties: false,
          required: ['defaultTarget'],
          properties: { defaultTarget: share, defaultTargets: { type: 'object', additionalProperties: share } },
        },
        labels: { type: 'integer', minimum: 0 },
        fittedAt: { type: 'string', format: 'date-time' },
        groups: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['labels', 'realized', 'expected', 'shift', 'applied', 'points'],
            properties: {
              ...shiftProperties,
              /** Operating points (by index) with enough labels of their own, moved by their own shift instead. */
              points: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, required: ['labels', 'realized', 'expected', 'shift', 'applied'], properties: shiftProperties } },
            },
          },
        },
      },
    },
    training: {
      type: 'object',
      additionalProperties: false,
      required: ['options', 'folds', 'rows', 'overheadMs', 'margin', 'seconds', 'trainedAt'],
      properties: {
        options: forestOptionsSchema,
        folds: { type: 'integer', minimum: 2 },
        /** Per-input cost of the features and forests, in ms, that calibration charged to routings consulting them. */
        overheadMs: { type: 'number', minimum: 0 },
        /** The measured margin subtracted from every bound, in accuracy (pipeline/calibrate.ts). */
        margin: { type: 'number', minimum: 0 },
        rows: { type: 'integer', minimum: 1 },
        seconds: { type: 'number', minimum: 0 },
        trainedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

/** A premodel file as written by training; what `Premodel` holds, deep-frozen. */
export type PremodelFile = FromSchema<typeof premodelSchema>;

const validator = compileSchema<PremodelFile>(premodelSchema);

export interface ZooIdentity {
  task: string;
  zooHash: string;
  featureNames: readonly string[];
  modelIds: readonly string[];
}

/** Problems that make `file` unusable with the zoo `zoo`: other zoo, other features, broken forests. */
function consistencyProblems(file: DeepReadonly<PremodelFile>, zoo: ZooIdentity): string[] {
  const problems: string[] = [];
  if (file.task !== zoo.task) problems.push(`was trained for task "${file.task}", not "${zoo.task}"`);
  if (file.zooHash !== zoo.zooHash) {
    problems.push('was trained against another zoo (zooHash differs): retrain it with `npm run train-premodel`');
  }
  if (JSON.stringify(file.featureNames) !== JSON.stringify(zoo.featureNames)) {
    problems.push('was trained on other features than this version computes: retrain it');
  }
  for (const point of file.calibration) {
    const unknown = point.models.filter((id) => !file.models.includes(id));
    if (unknown.length > 0) problems.push(`calibration routes to ${unknown.join(', ')}, which the premodel has no forests for`);
    if (point.thresholds.length !== point.models.length) {
      problems.push(`a calibration point has ${point.thresholds.length} thresholds for ${point.models.length} rungs (${point.models.join(' > ')})`);
    }
  }
  for (const id of Object.keys(file.alone)) {
    if (!file.models.includes(id)) problems.push(`vouches for "${id}" alone, which the premodel does not route to`);
  }
  for (const id of file.models) {
    if (!zoo.modelIds.includes(id)) problems.push(`routes to model "${id}", which the zoo does not have`);
    const stage1 = file.stage1[id];
    const stage2 = file.stage2[id];
    if (stage1 === undefined || stage2 === undefined) {
      problems.push(`has no stage-one or stage-two forest for model "${id}"`);
      continue;
    }
    if (stage1.features !== file.featureNames.length) problems.push(`stage-one forest of "${id}" expects ${stage1.features} features`);
    if (stage2.features !== file.featureNames.length + 2) problems.push(`stage-two forest of "${id}" expects ${stage2.features} inputs`);
    for (const forest of [stage1, stage2]) {
      for (const tree of forest.trees) {
        const n = tree.feature.length;
        const lengths = [tree.threshold, tree.left, tree.right, tree.value].map((a) => a.length);
        const inRange = (i: number) => i >= -1 && i < n;
        if (lengths.some((l) => l !== n) || !tree.left.every(inRange) || !tree.right.every(inRange) || tree.feature.some((f) => f >= forest.features)) {
          problems.push(`a tree of model "${id}" is malformed`);
          break;
        }
      }
    }
  }
  if (file.drift !== undefined) problems.push(...driftReferenceProblems(file.drift, file.featureNames, file.models));
  return [...new Set(problems)];
}

export class Premodel {
  private readonly stage1: ReadonlyMap<string, PackedForest>;
  private readonly stage2: ReadonlyMap<string, PackedForest>;
  /** Stage two's input row, reused: requests run one at a time on the event loop. */
  private readonly confirmRow: Float64Array;
  /** The models some operating point's ladder climbs: the ones accuracy targets are served from. */
  readonly ladderModels: ReadonlySet<string>;
  private readonly points = new Map<string, OperatingPoint>();

  private constructor(readonly file: DeepReadonly<PremodelFile>) {
    this.stage1 = new Map(file.models.map((id) => [id, new PackedForest(file.stage1[id]!)]));
    this.stage2 = new Map(file.models.map((id) => [id, new PackedForest(file.stage2[id]!)]));
    this.confirmRow = new Float64Array(file.featureNames.length + 2);
    this.ladderModels = new Set(file.calibration.flatMap((p) => p.models));
  }

  /** Validates `value` as a premodel for `zoo`; throws ArtifactError listing every problem. */
  static fromJSON(value: unknown, zoo: ZooIdentity, source = 'premodel'): Premodel {
    const problems = validator.problems(value);
    if (problems.length > 0 || !validator.is(value)) throw new ArtifactError(source, problems);
    const mismatch = consistencyProblems(value, zoo);
    if (mismatch.length > 0) throw new ArtifactError(source, mismatch);
    return new Premodel(deepFreeze(value));
  }

  toJSON(): DeepReadonly<PremodelFile> {
    return this.file;
  }

  get models(): readonly string[] {
    return this.file.models;
  }

  /** The premodel split's spread, which live requests are compared with (quality/drift.ts); undefined in files trained before it. */
  get drift(): DeepReadonly<DriftReference> | undefined {
    return this.file.drift;
  }

  /** Stage one: the chance of each of `models` (by default all it has forests for) of being right, from the features alone. */
  estimate(features: ArrayLike<number>, models: readonly string[] = this.file.models): Map<string, number> {
    const estimates = new Map<string, number>();
    for (const id of models) {
      const forest = this.stage1.get(id);
      if (forest !== undefined) estimates.set(id, forest.predict(features));
    }
    return estimates;
  }

  /** Stage two: the chance that `model`, having answered with this confidence and margin, is right. */
  confirm(model: string, features: ArrayLike<number>, confidence: number, margin: number): number {
    const row = this.confirmRow;
    for (let i = 0; i < features.length; i++) row[i] = features[i]!;
    row[features.length] = confidence;
    row[features.length + 1] = margin;
    return this.stage2.get(model)!.predict(row);
  }

  /**
   * The target of a request with no constraint, for requests of `group`: as accurate as the best
   * single model, as far as calibration can vouch for it there (every such target is vouched for).
   */
  defaultTarget(group?: string): number {
    return (group === undefined ? undefined : this.file.defaultTargets?.[group]) ?? this.file.defaultTarget;
  }

  /** What `model` serving alone is vouched for on requests of `group` (a group calibration never saw: the worst group's). */
  vouchedAlone(model: string, group?: string): number {
    const figures = this.file.alone[model];
    if (figures === undefined) return 0;
    return (group === undefined ? undefined : figures.groups?.[group]) ?? figures.accuracyLowerBound;
  }

  /**
   * The operating point for accuracy `target` and requests of `group`: the cheapest whose bound
   * for that group reaches it; when none does, the most accurate single model (operatingPointIn),
   * whose bound, below the target, tells the route it is not met. Remembered per target and group: clients
   * send few distinct targets.
   */
  operatingPoint(target: number, group?: string): OperatingPoint {
    const key = `${group ?? ''}|${target}`;
    let point = this.points.get(key);
    if (point === undefined) {
      point = operatingPointIn(this.file.calibration, target, group);
      if (this.points.size >= MAX_REMEMBERED_POINTS) this.points.clear();
      this.points.set(key, point);
    }
    return point;
  }
}

/** Distinct (target, group) pairs remembered before the memory starts again: a bound on what clients can make it hold. */
const MAX_REMEMBERED_POINTS = 4096;

export async function savePremodel(dir: string, file: DeepReadonly<PremodelFile>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, PREMODEL_FILE);
  await writeFile(target, `${JSON.stringify(file)}\n`);
  return target;
}

export async function loadPremodel(dir: string, zoo: ZooIdentity): Promise<Premodel> {
  const source = path.join(dir, PREMODEL_FILE);
  const parsed = await readJsonArtifact(source);
  return Premodel.fromJSON(parsed, zoo, source);
}
