import { expect } from 'chai';
import { predictRequests, wireInForm } from '../../../scripts/bench/inputs.js';
import { ImageInput } from '../../../src/inputs/image/decode.js';
import { taskInputs } from '../../../src/inputs/registry.js';
import { WindowInput } from '../../../src/inputs/window/decode.js';
import { windowRows } from '../../../src/inputs/window/index.js';
import { loadManifest } from '../../../src/zoo/manifest.js';
import { TINY_IMAGE, TINY_WINDOW, tinyImages, tinyWindows } from '../../helpers/tiny-data.js';

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

describe('bench/inputs forms', () => {
  const tinyInputs = async (task: string) => taskInputs((await loadManifest(`test/fixtures/tiny/zoo/${task}`)).manifest);

  it('sends an image as a PNG upload, in the client encodings in turn, and in them as base64 JSON', async () => {
    const inputs = await tinyInputs(TINY_IMAGE.task);
    const image = ImageInput.fromRaw(tinyImages(1, 5).inputs[0]!);
    const png = await wireInForm(inputs, image, 'grey PNG upload', 0);
    expect(png).to.include({ form: 'upload', mediaType: 'image/png' });
    const encodings = await Promise.all([0, 1, 4].map((i) => wireInForm(inputs, image, 'client encodings, upload', i)));
    expect(encodings.map((w) => (w.form === 'upload' ? w.mediaType : w.form))).to.deep.equal(['image/png', 'image/png', 'image/jpeg']);
    const json = await wireInForm(inputs, image, 'client encodings, JSON', 4);
    expect(json.form).to.equal('json');
    expect(Buffer.from(json.form === 'json' ? (json.value as string) : '', 'base64').equals(Buffer.from(encodings[2]!.form === 'upload' ? encodings[2]!.bytes : []))).to.equal(true);
  });

  it('sends a window as JSON rows and as the same samples in little-endian float32', async () => {
    const inputs = await tinyInputs(TINY_WINDOW.task);
    const samples = tinyWindows(1, 5).inputs[0]!;
    const window = new WindowInput(samples);
    const json = await wireInForm(inputs, window, 'JSON window', 0);
    const binary = await wireInForm(inputs, window, 'binary window', 0);
    expect(json).to.deep.equal({ form: 'json', field: 'window', value: windowRows(samples, TINY_WINDOW.channels) });
    expect(binary.form === 'upload' && binary.mediaType).to.equal('application/octet-stream');
    const bytes = binary.form === 'upload' ? binary.bytes : new Uint8Array();
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).to.deep.equal(Array.from(samples));
  });
});
