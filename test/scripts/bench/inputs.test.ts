import { expect } from 'chai';
import { predictRequests } from '../../../scripts/bench/inputs.js';
import { windowRows } from '../../../src/inputs/window/index.js';

describe('bench/inputs', () => {
  it('sends an image as raw bytes with the constraint in the query, a window as JSON', () => {
    const png = Buffer.from('png bytes');
    const [image] = predictRequests('fashion', [{ form: 'upload', bytes: png, mediaType: 'image/png' }], 'l', { minAccuracy: 0.9, model: 'm' });
    expect(image).to.deep.include({ label: 'l', method: 'POST', path: '/v1/tasks/fashion/predict?minAccuracy=0.9&model=m', body: png });
    expect(image!.headers).to.deep.equal({ 'content-type': 'image/png' });
    const window = windowRows(Float32Array.from({ length: 12 }, (_, i) => i), 6);
    const [json] = predictRequests('har', [{ form: 'json', field: 'window', value: window }], 'l', { maxLatencyMs: 5, model: 'm' });
    expect(json!.path).to.equal('/v1/tasks/har/predict');
    expect(JSON.parse(json!.body as string)).to.deep.equal({ input: { window: [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]] }, constraint: { maxLatencyMs: 5 }, model: 'm' });
  });
});
