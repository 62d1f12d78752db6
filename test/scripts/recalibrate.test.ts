/**
 * npm run recalibrate end to end, at the tiny zoo's scale: labels stored by the service for a
 * stream the premodel does worse on than calibration promised give a premodel that serves the
 * same target from a stronger point; the service loads it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FeedbackService } from '../../src/feedback/index.js';
import { loadTaskPremodel } from '../../src/pipeline/task-steps.js';
import { SPLIT_SEEDS, TINY_WINDOW, tinyWindows } from '../helpers/tiny-data.js';
import { loadPlane, TINY_ZOO } from '../http/server.js';

const run = promisify(execFile);

describe('scripts/recalibrate', function () {
  this.timeout(60_000);
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'recalibrate-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it('moves the bounds by what stored labels show; the target is then served from a stronger point', async () => {
    const premodelDir = path.join(work, 'premodel');
    await cp(TINY_ZOO.premodelDir, premodelDir, { recursive: true });
    const feedbackDir = path.join(work, 'feedback');
    const feedback = await FeedbackService.open({ dir: feedbackDir, replica: 'test', key: 'recalibrate test key 16+', maxBatch: 1000, maxBytes: 1 << 22 });
    const plane = await loadPlane({ ...TINY_ZOO, premodelDir }, { signer: feedback.signer });
    const task = plane.task(TINY_WINDOW.task);
    const cheapest = task.premodel.file.calibration[0]!;
    const target = cheapest.accuracyLowerBound;
    const { inputs } = tinyWindows(300, SPLIT_SEEDS.test);
    try {
      for (const [i, w] of inputs.entries()) {
        const value = Array.from({ length: TINY_WINDOW.length }, (_, t) => Array.from(w.subarray(t * TINY_WINDOW.channels, (t + 1) * TINY_WINDOW.channels)));
        const answer = await task.predict({ wire: { form: 'json', field: 'window', value }, limits: { maxPixels: 1 }, constraint: { minAccuracy: target }, readAtMs: 0, waitedMs: 0 });
        // A stream harder than calibration saw: a third of the answers turn out wrong.
        const label = i % 3 === 0 ? (answer.classIndex + 1) % TINY_WINDOW.classes.length : answer.classIndex;
        await feedback.accept(task, [{ requestId: answer.requestId, classIndex: label }]);
      }
    } finally {
      plane.dispose();
      await feedback.close();
    }
    const before = task.premodel.operatingPoint(target).index!;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/recalibrate.ts', '--task', TINY_WINDOW.task, '--zoo-dir', TINY_ZOO.zooDir, '--premodel-dir', premodelDir, '--feedback', feedbackDir]);
    expect(stdout).to.contain('300 labels');
    const { premodel } = await loadTaskPremodel(path.join(TINY_ZOO.zooDir, TINY_WINDOW.task), path.join(premodelDir, TINY_WINDOW.task));
    expect(premodel.file.recalibration?.labels).to.equal(300);
    expect(premodel.file.recalibration?.groups['']!.applied).to.be.below(0);
    const after = premodel.operatingPoint(target);
    expect(premodel.file.calibration[after.index!]!.accuracy).to.be.above(premodel.file.calibration[before]!.accuracy);
  });
});
