/**
 * The registry of input kinds, frozen: a manifest's `kind` names one of them, and every part of
 * the service that depends on the kind asks it. Adding a kind is adding its module and one line
 * here.
 */
import { NotFoundError } from '../errors/index.js';
import type { DeepReadonly } from '../schema/index.js';
import { bottleneckKind } from './bottleneck/index.js';
import { imageKind } from './image/index.js';
import type { InputKind, PreprocessingBase, TaskInputs } from './kind.js';
import { windowKind } from './window/index.js';

export const INPUT_KINDS = Object.freeze([imageKind, windowKind, bottleneckKind] as const);

type PreprocessingOf<K> = K extends InputKind<infer P, object> ? P : never;
type SchemasOf<T extends readonly unknown[]> = { readonly [I in keyof T]: T[I] extends InputKind<PreprocessingBase, infer S> ? S : never };

/** A model's preprocessing, of whichever kind. */
export type Preprocessing = PreprocessingOf<(typeof INPUT_KINDS)[number]>;

/** The kinds' preprocessing schemas, as a tuple of their literal types: the manifest schema's `oneOf`. */
export const PREPROCESSING_SCHEMAS = Object.freeze(INPUT_KINDS.map((k) => k.preprocessingSchema)) as unknown as SchemasOf<typeof INPUT_KINDS>;

export const KIND_NAMES: readonly string[] = Object.freeze(INPUT_KINDS.map((k) => k.name));

const byName: ReadonlyMap<string, InputKind> = new Map(INPUT_KINDS.map((k) => [k.name, k as unknown as InputKind]));

/** The kind named `name`; NotFoundError listing the kinds there are. */
export function inputKind(name: string): InputKind {
  const kind = byName.get(name);
  if (kind === undefined) throw new NotFoundError(`there is no input kind "${name}"; the kinds are: ${KIND_NAMES.join(', ')}`);
  return kind;
}

/** The kind whose v1 JSON field is `field` (`input.image`, `input.window`), if any. */
export function kindOfJsonField(field: string): InputKind | undefined {
  return INPUT_KINDS.find((k) => k.jsonField === field) as InputKind | undefined;
}

/** The kind that takes raw uploads of `mediaType`, if any. */
export function kindOfUpload(mediaType: string): InputKind | undefined {
  return INPUT_KINDS.find((k) => k.uploadTypes.includes(mediaType)) as InputKind | undefined;
}

/** The v1 JSON fields of the kinds whose inputs come out of a head (split computing), which name it in `input.head`. */
export const HEAD_FIELDS: readonly string[] = Object.freeze(INPUT_KINDS.filter((k) => k.fromHead).map((k) => k.jsonField));

/** Every media type some kind takes as a raw upload. */
export const UPLOAD_TYPES: readonly string[] = Object.freeze(INPUT_KINDS.flatMap((k) => k.uploadTypes));

/** The problems of `prep` as the preprocessing of a model with input `shape`: its kind's own checks and the shape. */
export function preprocessingProblems(prep: Preprocessing, shape: readonly number[]): string[] {
  const kind = inputKind(prep.type);
  const expected = kind.shapeOf(prep);
  const problems = kind.problems(prep);
  if (JSON.stringify(shape) !== JSON.stringify(expected)) {
    problems.push(`input shape [${shape.join(', ')}] does not match its preprocessing (expected [${expected.join(', ')}])`);
  }
  return problems;
}

/** The kind of a zoo's manifest, bound to its models' preprocessings. */
export function taskInputs(manifest: {
  readonly kind: string;
  readonly models: readonly { readonly input: { readonly preprocessing: DeepReadonly<PreprocessingBase> } }[];
}): TaskInputs {
  return inputKind(manifest.kind).bind(manifest.models.map((m) => m.input.preprocessing));
}
