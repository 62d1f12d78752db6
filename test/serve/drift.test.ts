import { expect } from 'chai';
import type { Constraint } from '../../src/select/policy.js';
import type { DataPlane } from '../../src/serve/dataplane.js';
import type { ServedTask } from '../../src/serve/task.js';
import { SPLIT_SEEDS, TINY_WINDOW, tinyWindows } from '../helpers/tiny-data.js';
import { loadPlane } from '../http/server.js';

/** Serves `windows` on `task` under `constraint`, as a client sends them. */
async function serve(task: ServedTask, windows: readonly Float32Array[], constraint: Constraint): Promise<void> {
  const { length, channels } = TINY_WINDOW;
  for (const w of windows) {
    const value = Array.from({ length }, (_, t) => Array.from(w.subarray(t * channels, (t + 1) * channels)));
    await task.predict({ wire: { form: 'json', field: 'window', value }, limits: { maxPixels: 1 }, constraint, readAtMs: task.clock.now(), waitedMs: 0 });
  }
  // Features sampled for the monitor after an answer are computed on later turns.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Another sensor: three times the gain and an offset. */
const otherSensor = (count: number) => tinyWindows(count, 7).inputs.map((w) => w.map((v) => 3 * v + 0.5));

describe('serve: drift of what clients send from the premodel split', () => {
  let plane: DataPlane;
  let task: ServedTask;
  beforeEach(async () => {
    plane = await loadPlane();
    task = plane.task(TINY_WINDOW.task);
    expect(task.drift, 'the fixture premodel carries its drift reference').to.not.equal(undefined);
  });
  afterEach(() => plane.dispose());

  it('the first model\'s confidence, where a cascade ran it on every input: quiet on windows like the split, drifted from another sensor, reported once', async () => {
    const cascade = { minAccuracy: task.premodel.file.calibration.find((p) => p.start === 'cheapest')!.accuracyLowerBound };
    await serve(task, tinyWindows(400, SPLIT_SEEDS.test).inputs, cascade);
    const quiet = task.drift!.snapshot().groups['']!;
    expect(quiet.confidenceRows).to.equal(400);
    expect(quiet.confidencePsi).to.be.below(0.1);
    expect(quiet.drifted).to.equal(false);
    expect(task.newlyDrifted()).to.deep.equal([]);

    await serve(task, otherSensor(1000), cascade);
    const drifted = task.drift!.snapshot().groups['']!;
    expect(drifted.confidencePsi).to.be.above(0.25);
    expect(drifted.drifted).to.equal(true);
    expect(task.newlyDrifted().map((a) => a.group)).to.deep.equal(['']);
    expect(task.newlyDrifted(), 'reported once, not at every look').to.deep.equal([]);
  });

  it('the features: sampled where the route skips them, every request where it computes them', async () => {
    const cascade = { minAccuracy: task.premodel.file.calibration.find((p) => p.start === 'cheapest')!.accuracyLowerBound };
    await serve(task, tinyWindows(160, SPLIT_SEEDS.test).inputs, cascade);
    expect(task.drift!.snapshot().groups['']!.featureRows).to.equal(10);
    // A latency budget alone weighs every model by stage one: its route computes the features.
    await serve(task, tinyWindows(300, SPLIT_SEEDS.test).inputs, { maxLatencyMs: 1e6 });
    const quiet = task.drift!.snapshot().groups['']!;
    expect(quiet.featureRows).to.equal(310);
    expect(quiet.featurePsi!.psi).to.be.below(0.25);
    // The window slides: another sensor's windows fill it.
    await serve(task, otherSensor(1000), { maxLatencyMs: 1e6 });
    const drifted = task.drift!.snapshot().groups['']!;
    expect(drifted.featurePsi!.psi).to.be.above(0.25);
    expect(drifted.drifted).to.equal(true);
  });
});
