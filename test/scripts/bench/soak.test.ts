import { readdir, readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { predictRequests, type BenchInput } from '../../../scripts/bench/inputs.js';
import { invalidRequests, soak } from '../../../scripts/bench/soak.js';
import { startServer, windowArray, type TestServer } from '../../http/server.js';

const FIXTURES = 'test/fixtures/fashion';

describe('bench/soak (short run)', function () {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  it('2,000 mixed requests: every valid one answered 200, every invalid one 4xx, nothing 5xx or unanswered', async function () {
    this.timeout(60_000);
    const images: BenchInput[] = await Promise.all(
      (await readdir(FIXTURES)).filter((f) => f.endsWith('.png')).map(async (f) => ({ form: 'upload' as const, bytes: await readFile(`${FIXTURES}/${f}`), mediaType: 'image/png' })),
    );
    const windows: BenchInput[] = [windowArray(128, 6, 'walking'), windowArray(128, 6, 'still')].map((window) => ({ form: 'json', field: 'window', value: window }));
    const result = await soak({
      base: srv.base,
      valid: [...predictRequests('fashion', images, 'valid: fashion'), ...predictRequests('har', windows, 'valid: har', { minAccuracy: 0.9 })],
      invalid: invalidRequests('fashion', 'har'),
      requests: 2000,
      maxSeconds: 30,
      connections: 8,
      sampleEveryMs: 250,
      maxGrowthMbPer10k: Number.POSITIVE_INFINITY, // too short a run to judge memory: the script does
    });
    expect(result.requests).to.equal(2000);
    expect(result.validFailures, JSON.stringify(result.answers)).to.equal(0);
    expect(result.serverErrors).to.equal(0);
    expect(result.unanswered).to.equal(0);
    for (const [label, byStatus] of Object.entries(result.answers)) {
      const statuses = Object.keys(byStatus).map(Number);
      if (label.startsWith('invalid')) expect(statuses.every((s) => s >= 400 && s < 500), `${label}: ${statuses}`).to.equal(true);
      else expect(statuses, label).to.deep.equal([200]);
    }
    expect(Object.keys(result.answers)).to.have.length(2 + invalidRequests('fashion', 'har').length);
    expect(result.memory.samples.length).to.be.at.least(2);
    expect(result.passed).to.equal(true);
  });
});
