import { expect } from 'chai';
import sharp from 'sharp';
import { pointFor } from '../../src/premodel/operating-point.js';
import { postBytes, postJson, serverPerSuite, validPredictBody, type TestServer } from '../http/server.js';

/** A 12x10 test card sent as a client would: a PNG at the model's size, or a small JPEG four times larger. */
async function card(format: 'png' | 'jpeg'): Promise<Buffer> {
  const pixels = Buffer.from(Array.from({ length: 12 * 10 * 3 }, (_, i) => ((Math.floor(i / 3) % 12) % 4 < 2 ? 220 : 30)));
  const image = sharp(pixels, { raw: { width: 12, height: 10, channels: 3 } });
  return format === 'png' ? image.png().toBuffer() : image.resize(48, 40).jpeg({ quality: 50 }).toBuffer();
}

describe('serve/stages: honest answers', function () {
  let srv: TestServer;
  serverPerSuite((server) => (srv = server));

  it('a request with no constraint is served its group\'s default target, which a point vouches for', async () => {
    for (const t of srv.tasks) {
      const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, await validPredictBody(t));
      expect(r.status, r.text).to.equal(200);
      expect(r.body.selection.constraintMet, `${t.task}: ${r.body.selection.reason}`).to.equal(true);
    }
  });

  it('predictedAccuracy is what the served point is vouched for on the request\'s encoding group, and the reason quotes it', async () => {
    const t = srv.imageTask!;
    const task = srv.app.service.plane.task(t.task);
    for (const [format, group] of [['png', 'lossless@native'], ['jpeg', 'jpeg-low@larger']] as const) {
      const target = 0.7;
      const r = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict?minAccuracy=${target}`, await card(format), `image/${format}`);
      expect(r.status, r.text).to.equal(200);
      const point = task.premodel.operatingPoint(target, group);
      expect(r.body.selection.predictedAccuracy, format).to.equal(point.accuracy);
      expect(r.body.selection.reason).to.contain(`${(point.accuracy * 100).toFixed(2)}%`).and.contain(`calibrated on ${group} images`);
      expect(r.body.selection.constraintMet).to.equal(point.accuracy >= target);
    }
  });

  it('a target no point vouches for is served from the most accurate single model, with constraintMet false', async () => {
    const t = srv.imageTask!;
    const task = srv.app.service.plane.task(t.task);
    const alone = task.premodel.file.calibration.filter((p) => p.models.length === 1);
    const best = alone.reduce((a, b) => (pointFor(b, 'lossless@native').accuracy > pointFor(a, 'lossless@native').accuracy ? b : a));
    const r = await postBytes(`${srv.base}/v1/tasks/${t.task}/predict?minAccuracy=0.9999`, await card('png'), 'image/png');
    expect(r.status, r.text).to.equal(200);
    expect(r.body.selection).to.deep.include({ constraintMet: false, predictedAccuracy: pointFor(best, 'lossless@native').bound });
    expect(r.body.selection.ran, 'a single model').to.deep.equal(best.models);
    expect(r.body.selection.reason).to.match(/^no calibrated ladder is vouched for 99\.99%/);
  });

  it('a forced model meets a target only where it is vouched for alone', async () => {
    const t = srv.windowTask!;
    const task = srv.app.service.plane.task(t.task);
    const body = await validPredictBody(t);
    for (const m of t.models) {
      const alone = task.premodel.vouchedAlone(m.id);
      const r = await postJson(`${srv.base}/v1/tasks/${t.task}/predict`, { ...body, model: m.id, constraint: { minAccuracy: 0.8 } });
      expect(r.status, r.text).to.equal(200);
      expect(r.body.selection, m.id).to.deep.include({ constraintMet: alone >= 0.8, predictedAccuracy: alone });
    }
  });
});
