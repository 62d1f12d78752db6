import { expect } from 'chai';
import { warmUpRequestPath } from '../../src/http/warm-up.js';
import { config, loadPlane, request, startServer } from './server.js';

describe('http/warm-up', () => {
  it("serves every task's request path before listening, and leaves no trace in the real app or the drift monitors", async () => {
    const plane = await loadPlane();
    const calls = new Map<string, number>();
    for (const task of plane.tasks) {
      const predict = task.predict.bind(task);
      task.predict = (req) => {
        calls.set(task.name, (calls.get(task.name) ?? 0) + 1);
        return predict(req);
      };
    }
    await warmUpRequestPath(plane, config);
    for (const task of plane.tasks) {
      expect(calls.get(task.name), task.name).to.be.at.least(1);
      const groups = Object.values(task.drift?.snapshot().groups ?? {});
      expect(groups.reduce((n, g) => n + g.confidenceRows + g.featureRows, 0), task.name).to.equal(0);
    }
    const srv = await startServer({}, {}, async () => plane);
    try {
      const metrics = await request(`${srv.base}/metrics`);
      expect(metrics.text).to.not.match(/adaptive_zoo_requests_total\{endpoint="v1_predict"/);
    } finally {
      await srv.close();
    }
  });
});
