import { expect } from 'chai';
import sharp from 'sharp';
import { encodePng, predictRequests, windowRows } from '../../src/bench/inputs.js';

describe('bench/inputs', () => {
  it('encodes PNG files that decode to the very pixels, grey and colour', async () => {
    for (const channels of [1, 3] as const) {
      const pixels = Uint8Array.from({ length: 5 * 3 * channels }, (_, i) => (i * 37) % 256);
      const png = encodePng({ pixels, width: 5, height: 3, channels });
      expect(await sharp(png).metadata()).to.include({ format: 'png', width: 5, height: 3, channels });
      const decoded = await sharp(png).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
      expect([...decoded.data]).to.deep.equal([...pixels]);
    }
  });

  it('sends an image as raw bytes with the constraint in the query, a window as JSON', () => {
    const png = Buffer.from('png bytes');
    const [image] = predictRequests('fashion', [{ kind: 'image', png }], 'l', { minAccuracy: 0.9, model: 'm' });
    expect(image).to.deep.include({ label: 'l', method: 'POST', path: '/v1/tasks/fashion/predict?minAccuracy=0.9&model=m', body: png });
    expect(image!.headers).to.deep.equal({ 'content-type': 'image/png' });
    const window = windowRows(Float32Array.from({ length: 12 }, (_, i) => i), 6);
    const [json] = predictRequests('har', [{ kind: 'window', window }], 'l', { maxLatencyMs: 5, model: 'm' });
    expect(json!.path).to.equal('/v1/tasks/har/predict');
    expect(JSON.parse(json!.body as string)).to.deep.equal({ input: { window: [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]] }, constraint: { maxLatencyMs: 5 }, model: 'm' });
  });
});
