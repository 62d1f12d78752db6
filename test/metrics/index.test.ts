import { expect } from 'chai';
import { Metrics } from '../../src/metrics/index.js';
import { request, serverPerSuite, validPredictBody, type TestServer } from '../http/server.js';
import { observeOnePrediction, parseExposition, type Family } from './scrape.js';

async function familiesOf(metrics: Metrics): Promise<Map<string, Family>> {
  return parseExposition(await metrics.registry.metrics());
}

/** The value of the one sample of `family` named `name` whose labels include `labels`. */
function valueOf(family: Family | undefined, name: string, labels: Record<string, string>): number {
  const found = family?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  expect(found, `${name} ${JSON.stringify(labels)}`).to.have.length(1);
  return Number(found[0]!.value);
}

describe('metrics', () => {
  it('stage buckets start at 5 µs, so that microsecond stages are told apart, and end at 5 s', async () => {
    const metrics = new Metrics();
    observeOnePrediction(metrics); // selectMs 0.007: 7 µs
    const stages = (await familiesOf(metrics)).get('adaptive_zoo_stage_duration_seconds')!;
    const bounds = [...new Set(stages.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le!))];
    expect(bounds[0]).to.equal('0.000005');
    expect(bounds.at(-2)).to.equal('5');
    expect(bounds.length - 1, 'finite buckets').to.be.at.most(20);
    const bucket = (le: string) => valueOf(stages, 'adaptive_zoo_stage_duration_seconds_bucket', { stage: 'select', le });
    expect([bucket('0.000005'), bucket('0.00001')]).to.deep.equal([0, 1]);
  });

  it("observes each model run's own time by task and model", async () => {
    const metrics = new Metrics();
    observeOnePrediction(metrics); // runs: small 0.3 ms, then large 1.1 ms
    const runs = (await familiesOf(metrics)).get('adaptive_zoo_model_inference_seconds');
    for (const [model, seconds] of [['small', 0.0003], ['large', 0.0011]] as const) {
      expect(valueOf(runs, 'adaptive_zoo_model_inference_seconds_count', { task: 'tiny-image', model })).to.equal(1);
      expect(valueOf(runs, 'adaptive_zoo_model_inference_seconds_sum', { task: 'tiny-image', model })).to.be.closeTo(seconds, 1e-12);
    }
  });

  describe('served', () => {
    let srv: TestServer;
    serverPerSuite((server) => (srv = server));

    it('a served prediction carries its model runs to the histogram, and not to the client', async () => {
      const t = srv.windowTask ?? srv.imageTask!;
      const body = { ...(await validPredictBody(t)), constraint: { minAccuracy: 0.99 } };
      const r = await request(`${srv.base}/v1/tasks/${t.task}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).to.equal(200);
      expect(Object.keys(r.body)).to.have.members(['requestId', 'task', 'model', 'label', 'classIndex', 'scores', 'selection', 'timing']);
      const runs = (await familiesOf(srv.app.metrics)).get('adaptive_zoo_model_inference_seconds')!;
      const counted = runs.samples.filter((s) => s.name.endsWith('_count') && s.labels.task === t.task);
      expect(counted.map((s) => s.labels.model)).to.have.members(r.body.selection.ran);
      expect(counted.every((s) => s.value === '1')).to.equal(true);
      // The models alone: their input tensors are timed in the inference stage, not here.
      const runSeconds = runs.samples.filter((s) => s.name.endsWith('_sum') && s.labels.task === t.task).reduce((sum, s) => sum + Number(s.value), 0);
      expect(runSeconds).to.be.greaterThan(0).and.at.most(r.body.timing.inferenceMs / 1000);
    });
  });
});
