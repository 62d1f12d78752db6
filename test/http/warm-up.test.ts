import { expect } from 'chai';
import { pino } from 'pino';
import { WARM_UP_ROUNDS } from '../../src/http/warm-up.js';
import { loadPlane, request, startServer } from './server.js';

describe('http/warm-up', () => {
  it("the app serves every task's request path itself before it listens, and leaves no trace in its logs, metrics or drift monitors", async () => {
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
    const logged: unknown[] = [];
    const srv = await startServer({}, { logger: pino({ level: 'info' }, { write: (line: string) => logged.push(line) }) }, async () => plane);
    await srv.app.warmUp();
    // Every warm-up input of every task, in each of its forms, served a few times, none refused.
    expect(failures).to.deep.equal([]);
    for (const task of plane.tasks) {
      const wires = await task.inputs.warmUpInputs();
      expect(calls.get(task.name), task.name).to.equal(WARM_UP_ROUNDS * wires.length);
      const groups = Object.values(task.drift?.snapshot().groups ?? {});
      expect(groups.reduce((n, g) => n + g.confidenceRows + g.featureRows, 0), task.name).to.equal(0);
    }
    try {
      expect(logged).to.deep.equal([]);
      const metrics = await request(`${srv.base}/metrics`);
      expect(metrics.text).to.not.match(/adaptive_zoo_(requests_total|selections_total|stage_duration_seconds_count)\{/);
      expect(metrics.text, "the process's own metrics stay").to.match(/adaptive_zoo_process_start_time_seconds [1-9]/);
      // Served and counted once it is warm.
      await request(`${srv.base}/v1/tasks`);
      expect(logged).to.have.length(1);
    } finally {
      await srv.close();
    }
  });
});
