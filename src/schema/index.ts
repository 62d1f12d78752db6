/**
 * JSON-schema validation shared by every boundary (zoo manifests, premodel files, requests), each
 * problem as a readable sentence. Artifacts get every problem listed, so that an operator fixes a
 * file in one go; requests stop at the first, because listing every problem of a hostile body
 * (millions of wrong items) would cost seconds of the event loop.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ArtifactError } from '../errors/index.js';

/**
 * The TypeScript type of the values a schema accepts, derived from the schema itself (declared
 * `as const`), so that no boundary has its type written out twice.
 */
export type { FromSchema } from 'json-schema-to-ts';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const options = { strict: true, allowUnionTypes: true } as const;
const everyProblem = addFormats(new Ajv({ ...options, allErrors: true }));
const firstProblem = addFormats(new Ajv({ ...options, allErrors: false }));

export interface Validator<T> {
  /** The problems of `value` against the schema, as sentences; empty when it conforms. */
  problems(value: unknown): string[];
  /** Type guard: true when `value` conforms. */
  is(value: unknown): value is T;
}

/** `untrusted`: the values come from the network; report only their first problem. */
export function compileSchema<T>(schema: object, { untrusted = false } = {}): Validator<T> {
  const validate = (untrusted ? firstProblem : everyProblem).compile<T>(schema);
  return {
    problems(value) {
      return validate(value) ? [] : describeErrors(validate.errors ?? []);
    },
    is(value): value is T {
      return validate(value);
    },
  };
}

function describeErrors(errors: ErrorObject[]): string[] {
  // A failed oneOf also reports every branch's own errors; the branch errors are the useful ones
  // only when a single branch was meant, so keep them and drop the generic oneOf line.
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  const chosen = specific.length > 0 ? specific : errors;
  const sentences = chosen.map((e) => {
    const where = e.instancePath === '' ? 'the document' : e.instancePath;
    if (e.keyword === 'additionalProperties') {
      return `${where} has an unknown field "${String(e.params.additionalProperty)}"`;
    }
    if (e.keyword === 'enum') {
      return `${where} must be one of ${JSON.stringify(e.params.allowedValues)}`;
    }
    return `${where} ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(sentences)];
}

/** Reads and parses a JSON artifact; a missing or unparsable file is an ArtifactError naming it. */
export async function readJsonArtifact(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ArtifactError(file, [`cannot be read as JSON: ${(err as Error).message}`]);
  }
}

/** Read-only all the way down: what a loaded artifact is. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Freezes `value` and everything it holds, once, at load: artifacts never change while served. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
