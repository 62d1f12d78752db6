import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { interleavedLoad, referenceModels, summarise } from '../../../scripts/bench/suite.js';
import type { TaskDescription } from '../../../src/serve/dataplane.js';

describe('bench/suite', () => {
  it('loads services in interleaved rounds, each warmed up first and first in turn, and counts what each answered', async () => {
    // Which server each request reached, in order: consecutive ones collapse into a run.
    const hits: number[] = [];
    const servers = [200, 503].map((status, i) =>
      http.createServer((_req, res) => {
        hits.push(i);
        res.statusCode = status;
        res.end('{}');
      }),
    );
    const bases = await Promise.all(
      servers.map((server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)))),
    );
    try {
      const requests = [{ label: 'x', method: 'GET' as const, path: '/' }];
      const loads = await interleavedLoad(bases.map((base) => ({ base, requests })), 2, { seconds: 1, rounds: 2 }); // autocannon's shortest run is a second
      const runs = hits.filter((server, i) => i === 0 || hits[i - 1] !== server);
      // Warm-ups 0, 1; then rounds 0 1 and 1 0: 1 twice in a row (without the reversal, 0 1 0 1 0 1).
      expect(runs).to.deep.equal([0, 1, 0, 1, 0]);
      expect(loads.map((l) => l.answers.length)).to.deep.equal([2, 2]);
      expect(loads[0]!.ok).to.be.greaterThan(0);
      expect(loads[0]!.failed).to.equal(0);
      expect(loads[1]!.ok).to.equal(0);
      expect(loads[1]!.failed).to.be.greaterThan(0);
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });

  it('summarises a sample: mean, p50 and p99', () => {
    const s = summarise(Array.from({ length: 101 }, (_, i) => 100 - i));
    expect(s).to.deep.equal({ n: 101, mean: 50, p50: 50, p99: 99 });
  });

  it('pits the premodel against the most accurate model on the test split (the faster on a tie) and the fastest', () => {
    const model = (id: string, test: number | null, p50: number) => ({
      id,
      method: 'none',
      parent: null,
      routed: true,
      accuracy: test === null ? null : { premodel: 1 - test, test },
      latencyMs: { p50, p95: p50 },
      bytes: 1,
      parameters: 1,
      macs: 1,
    });
    const task: TaskDescription = {
      task: 't',
      kind: 'window',
      input: { kind: 'window' },
      classes: ['a'],
      defaultMinAccuracy: 0.9,
      models: [model('big', 0.95, 1), model('twin', 0.95, 0.5), model('tiny', 0.8, 0.01), model('unprofiled', null, 0.001)],
      heads: [],
    };
    expect(referenceModels(task)).to.deep.equal({ mostAccurate: 'twin', cheapest: 'tiny' });
  });
});
