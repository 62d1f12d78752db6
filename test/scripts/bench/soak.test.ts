import { expect } from 'chai';
import { predictRequests, type BenchInput } from '../../../scripts/bench/inputs.js';
import { encodePng } from '../../../src/inputs/image/decode.js';
import { invalidRequests, soak } from '../../../scripts/bench/soak.js';
import { startServer, windowArray, windowShape, type TestServer } from '../../http/server.js';


describe('bench/soak (short run)', function () {
  let srv: TestServer;
  before(async () => {
    srv = await startServer();
  });
  after(() => srv.close());

  it('2,000 mixed requests: every valid one answered 200, every invalid one 4xx, nothing 5xx or unanswered', async function () {
    this.timeout(60_000);
    // Grey PNGs at the image task's own size, as a well-behaved client sends them (decoded without libvips).
    const { width, height } = (srv.imageTask!.input as { modelInput: { width: number; height: number } }).modelInput;
    const images: BenchInput[] = await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        const pixels = Uint8Array.from({ length: width * height }, (_, i) => ((i % width) + k * 7) % 4 < 2 ? 220 : 30);
        return { form: 'upload' as const, bytes: await encodePng({ pixels, width, height, channels: 1 }), mediaType: 'image/png' };
      }),
    );
    const { length, channels } = windowShape(srv.windowTask!);
    const windows: BenchInput[] = [windowArray(length, channels, 'walking'), windowArray(length, channels, 'still')].map((window) => ({ form: 'json', field: 'window', value: window }));
    const [imageTask, windowTask] = [srv.imageTask!.task, srv.windowTask!.task];
    const result = await soak({
      base: srv.base,
      valid: [...predictRequests(imageTask, images, 'valid: images'), ...predictRequests(windowTask, windows, 'valid: windows', { minAccuracy: 0.9 })],
      invalid: invalidRequests(imageTask, windowTask),
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
    expect(Object.keys(result.answers)).to.have.length(2 + invalidRequests(imageTask, windowTask).length);
    expect(result.memory.samples.length).to.be.at.least(2);
    expect(result.passed).to.equal(true);
  });
});
