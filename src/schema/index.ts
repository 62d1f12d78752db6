/**
 * JSON-schema validation shared by every boundary (zoo manifests, premodel files, requests): one
 * Ajv instance, every problem reported (not just the first), each as a readable sentence.
 */
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ArtifactError } from '../errors/index.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module namespace.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));

export interface Validator<T> {
  /** The problems of `value` against the schema, as sentences; empty when it conforms. */
  problems(value: unknown): string[];
  /** Type guard: true when `value` conforms. */
  is(value: unknown): value is T;
}

export function compileSchema<T>(schema: object): Validator<T> {
  const validate = ajv.compile<T>(schema);
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
