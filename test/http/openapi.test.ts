/**
 * The OpenAPI document as tools use it: Redocly's linter (its recommended rules) finds no error in
 * it, and openapi-typescript generates a client whose every operation has typed responses (no
 * `never` where a response or its content should be).
 */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { expect } from 'chai';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../../src/http/openapi.js';

const doc = openApiDocument('0.1.0') as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { headers?: object; content?: object }> }>> };
const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));

describe('http/openapi', function () {
  this.timeout(20_000);

  it("passes Redocly's recommended lint with no error", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? ''}`);
    expect(errors).to.deep.equal([]);
  });

  it('gives every operation an id, and every response its X-Request-Id header and a schema', () => {
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const o of operations) {
      for (const [status, r] of Object.entries(o.responses)) {
        expect(r.headers, `${o.operationId} ${status}`).to.have.property('X-Request-Id');
        expect(r.content, `${o.operationId} ${status}`).to.not.equal(undefined);
      }
      // An error 503 (overloaded, shutting down) says when to retry; a readiness probe's "not ready" is an answer.
      const unavailable = o.responses['503'] as { headers?: object; content?: { 'application/json'?: { schema?: { $ref?: string } } } } | undefined;
      if (unavailable?.content?.['application/json']?.schema?.$ref?.endsWith('Error') === true) expect(unavailable.headers, o.operationId).to.have.property('Retry-After');
    }
  });

  it('generates a typed client (openapi-typescript): every operation, no response without a type', async () => {
    const ts = astToString(await openapiTS(doc as never));
    for (const id of operations.map((o) => o.operationId)) expect(ts, id).to.contain(`${id}: {`);
    expect(ts).to.not.contain('content?: never');
    expect(ts).to.not.match(/\d{3}: never/);
  });
});
