import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import * as errors from '../../src/errors/index.js';
import { ERROR_CATALOGUE, ERROR_CODES, ZooError } from '../../src/errors/index.js';
import { openApiDocument } from '../../src/http/openapi.js';

/** The rows `| status | \`CODE\` | when |` of docs/http.md's error table. */
async function documentedErrors(): Promise<Map<string, number>> {
  const doc = await readFile('docs/http.md', 'utf8');
  const rows = [...doc.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)];
  return new Map(rows.map((m) => [m[2]!, Number(m[1])]));
}

describe('errors: one catalogue, documented and published as it is', () => {
  it('every error class has a code of the catalogue and takes its status from it', () => {
    type ErrorClass = new (message: string, retryAfterS: number) => ZooError;
    const classes = (Object.values(errors) as unknown[]).filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof ZooError);
    expect(classes.length).to.equal(ERROR_CODES.length);
    const seen = classes.map((Class) => {
      const error = new Class('m', 1);
      expect(error.status, error.code).to.equal(ERROR_CATALOGUE[error.code].status);
      return error.code;
    });
    expect([...seen].sort()).to.deep.equal([...ERROR_CODES].sort());
  });

  it('docs/http.md lists exactly the catalogue, each code with its status', async () => {
    const documented = await documentedErrors();
    expect([...documented.keys()].sort()).to.deep.equal([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(documented.get(code), code).to.equal(ERROR_CATALOGUE[code].status);
  });

  it('the OpenAPI document publishes every code, and each error status of an operation is described by its codes', () => {
    const doc = openApiDocument('test') as {
      components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } };
      paths: Record<string, Record<string, { responses: Record<string, { description: string; content?: Record<string, { schema: { $ref?: string } }> }> }>>;
    };
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).to.deep.equal([...ERROR_CODES]);
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const schema = response.content?.['application/json']?.schema.$ref ?? '';
          if (!/\/(V2)?Error$/.test(schema)) continue; // not an error body (a readiness probe's 503)
          const codes = ERROR_CODES.filter((c) => String(ERROR_CATALOGUE[c].status) === status);
          for (const code of codes) expect(response.description, `${method} ${path} ${status}`).to.contain(code);
        }
      }
    }
  });
});
