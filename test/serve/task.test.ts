import { expect } from 'chai';
import { consultsPremodel, pointFor } from '../../src/premodel/operating-point.js';
import type { ServedTask } from '../../src/serve/task.js';
import { postJson, serverPerSuite, validPredictBody, type TestServer } from '../http/server.js';

/** An accuracy target of `task`'s premodel whose operating point, for requests of `group`, consults it, or not. */
function targetWhere(task: ServedTask, group: string | undefined, consulted: boolean): number {
  const targets = task.premodel.file.calibration.map((p) => pointFor(p, group).bound);
  const target = targets.find((t) => {
    const point = task.premodel.operatingPoint(t, group);
    return point.models.length > 1 && consultsPremodel(point) === consulted;
  });
  expect(target, `a target whose point ${consulted ? 'consults' : 'does not consult'} the premodel`).to.not.equal(undefined);
  return target!;
}

describe('serve/task: the request path consults the premodel only where the point does', function () {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  it('skips the features and forests for a cascade point, and computes them for a premodel point', async () => {
    const description = srv.imageTask!;
    const task = srv.app.service.plane.tasks.find((t) => t.name === description.task)!;
    const url = `${srv.base}/v1/tasks/${description.task}/predict`;
    const body = await validPredictBody(description);
    // The group the decoder will see of this request's image, whose calibration serves it.
    const wire = { form: 'json' as const, field: 'image', value: (body.input as { image: string }).image };
    const group = task.inputs.groupOf(await task.inputs.decode(wire, { maxPixels: 1 << 24 }));

    const cascade = await postJson(url, { ...body, constraint: { minAccuracy: targetWhere(task, group, false) } });
    expect(cascade.status, cascade.text).to.equal(200);
    expect(cascade.body.timing.featuresMs).to.equal(0);
    // With no stage one, each candidate counts with its accuracy on the premodel split.
    for (const c of cascade.body.selection.candidates as { model: string; pCorrect: number }[]) {
      expect(c.pCorrect, c.model).to.equal(Math.round(task.zoo.model(c.model).entry.accuracy!.premodel * 1e4) / 1e4);
    }

    const premodel = await postJson(url, { ...body, constraint: { minAccuracy: targetWhere(task, group, true) } });
    expect(premodel.status, premodel.text).to.equal(200);
    expect(premodel.body.timing.featuresMs).to.be.above(0);
  });
});
