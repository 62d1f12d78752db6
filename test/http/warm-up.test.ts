import { expect } from 'chai';
import { WARM_UP_ROUNDS, warmUpRequestPath } from '../../src/http/warm-up.js';
import { config, loadPlane, request, startServer } from './server.js';

describe('http/warm-up', () => {
  it("serves every task's request path before listening, and leaves no trace in the real app or the drift monitors", async () => {
    const plane = await loadPlane();
    const calls = new Map<string, number>();
    const failures: unknown[] = [];
    for (const task of plane.tasks) {
      const predict = task.predict.bind(task);
      task.predict = (req) => {
        calls.set(task.name, (calls.get(task.name) ?? 0) + 1);
        return predict(req).catch((err: unknown) => {
          failures.push(err);
          throw err;
        });
      };
    }
    await warmUpRequestPath(plane, config);
    // Every warm-up input of every task, in each of its forms, served a few times, none refused.
    expect(failures).to.deep.equal([]);
    for (const task of plane.tasks) {
      const wires = await task.inputs.warmUpInputs();
      expect(calls.get(task.name), task.name).to.equal(WARM_UP_ROUNDS * wires.length);
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
