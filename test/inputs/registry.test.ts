import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '../../src/errors/index.js';
import { ImageInput } from '../../src/inputs/image/decode.js';
import { IMAGE_FEATURES, imageFeatures } from '../../src/inputs/image/features.js';
import { ENCODING_FEATURES } from '../../src/inputs/image/index.js';
import type { ImagePreprocessing } from '../../src/inputs/image/preprocessing.js';
import { INPUT_KINDS, inputKind, kindOfJsonField, kindOfUpload, preprocessingProblems, taskInputs } from '../../src/inputs/registry.js';
import { WindowInput } from '../../src/inputs/window/decode.js';
import { windowFeatureNames } from '../../src/inputs/window/features.js';
import type { WindowPreprocessing } from '../../src/inputs/window/preprocessing.js';
import { syntheticWindow } from '../helpers/windows.js';

const limits = { maxPixels: 1 << 20 };

function imageTask(width: number, height: number, channels: 1 | 3): ReturnType<typeof taskInputs> {
  const prep: ImagePreprocessing = { type: 'image', width, height, channels, fit: 'contain', background: 0, mean: Array(channels).fill(0), std: Array(channels).fill(1) };
  return taskInputs({ kind: 'image', models: [{ input: { preprocessing: prep } }] });
}

function windowTask(length: number, channels: number, sampleRateHz: number): ReturnType<typeof taskInputs> {
  const prep: WindowPreprocessing = { type: 'window', length, channels, channelNames: Array.from({ length: channels }, (_, c) => `c${c}`), sampleRateHz };
  return taskInputs({ kind: 'window', models: [{ input: { preprocessing: prep } }] });
}

describe('inputs/registry', () => {
  it('holds one frozen entry per kind, each with its JSON field and upload types', () => {
    expect(Object.isFrozen(INPUT_KINDS)).to.equal(true);
    expect(INPUT_KINDS.map((k) => k.name)).to.deep.equal(['image', 'window', 'bottleneck']);
    expect(kindOfJsonField('image')?.name).to.equal('image');
    expect(kindOfJsonField('window')?.name).to.equal('window');
    expect(kindOfJsonField('audio')).to.equal(undefined);
    expect(kindOfUpload('image/webp')?.name).to.equal('image');
    expect(kindOfUpload('text/plain')).to.equal(undefined);
  });

  it('fails on an unknown kind with the list of the kinds there are', () => {
    expect(() => inputKind('audio')).to.throw(NotFoundError, 'there is no input kind "audio"; the kinds are: image, window, bottleneck');
  });

  it("checks a preprocessing against the model's input shape", () => {
    const prep: ImagePreprocessing = { type: 'image', width: 28, height: 20, channels: 3, fit: 'contain', background: 0, mean: [0], std: [1, 1, 1] };
    expect(preprocessingProblems(prep, [3, 20, 28])).to.deep.equal(['mean and std need one value per channel (3)']);
    expect(preprocessingProblems({ ...prep, mean: [0, 0, 0] }, [1, 28, 28])).to.deep.equal([
      'input shape [1, 28, 28] does not match its preprocessing (expected [3, 20, 28])',
    ]);
  });

  it("looks at a fashion-sized image as one grey plane at the first model's size", async () => {
    const inputs = imageTask(28, 28, 1);
    expect(inputs.featureNames).to.deep.equal([...IMAGE_FEATURES, ...ENCODING_FEATURES]);
    const bytes = await readFile('test/fixtures/fashion/test-0-class-9.png');
    const input = await inputs.decode({ form: 'upload', bytes, mediaType: 'image/png' }, limits);
    const plane = { type: 'image', width: 28, height: 28, channels: 1, fit: 'contain', background: 0, mean: [0], std: [1] } as const;
    const features = await inputs.features(input);
    expect(features.subarray(0, IMAGE_FEATURES.length)).to.deep.equal(imageFeatures(await (input as ImageInput).tensor(plane), 28, 28));
    // How it was sent: at the model's size (log2 of the scale 0), lossless (0), quality 1.
    expect(Array.from(features.subarray(IMAGE_FEATURES.length))).to.deep.equal([0, 0, 1]);
    expect(inputs.groupOf(input)).to.equal('lossless@native');
  });

  it('binds images of any size and channel count from the manifest alone', async () => {
    const inputs = imageTask(12, 9, 3);
    const wires = await inputs.warmUpInputs();
    // Warm-up inputs in every form: base64 JSON and an upload in each client encoding, all decodable at the task's size.
    expect(wires.map((w) => w.form)).to.deep.equal(['json', ...inputs.clientEncodings.map(() => 'upload')]);
    for (const wire of wires) expect(await inputs.modelTensor(await inputs.decode(wire, limits), inputs.tensorPrep)).to.have.length(3 * 9 * 12);
    const input = await inputs.decode(wires[0]!, limits);
    expect(await inputs.modelTensor(input, inputs.tensorPrep)).to.have.length(3 * 9 * 12);
    const features = await inputs.features(input);
    expect(features).to.have.length(IMAGE_FEATURES.length + ENCODING_FEATURES.length);
    // Its garment's box is a fraction of the picture each way, as a client's garment's is.
    for (const share of ['boxWidth', 'boxHeight']) expect(features[IMAGE_FEATURES.indexOf(share)]).to.be.within(0.2, 0.9);
    expect(inputs.description).to.deep.include({ kind: 'image', modelInput: { width: 12, height: 9, channels: 3 } });
  });

  it('binds windows of any length, channel count and rate from the manifest alone', async () => {
    for (const [length, channels, rate] of [[128, 6, 50], [40, 2, 20], [64, 9, 100]] as const) {
      const inputs = windowTask(length, channels, rate);
      expect(inputs.featureNames).to.equal(windowFeatureNames(channels));
      // Warm-up windows, each as JSON and raw float32, that take the features' data-dependent
      // branches: a dominant rhythm refined down to just below a DFT bin and up to just above
      // one, and a window at rest.
      const wires = await inputs.warmUpInputs();
      expect(wires.map((w) => w.form)).to.deep.equal(['json', 'upload', 'json', 'upload', 'json', 'upload']);
      const dominantBins: number[] = [];
      for (let i = 0; i < wires.length; i += 2) {
        const input = await inputs.decode(wires[i]!, limits);
        expect(wires[i + 1]).to.include({ form: 'upload', mediaType: 'application/octet-stream' });
        expect((await inputs.decode(wires[i + 1]!, limits)) as WindowInput).to.deep.equal(input);
        const warmUpFeatures = await inputs.features(input);
        expect(warmUpFeatures).to.have.length(windowFeatureNames(channels).length);
        expect(warmUpFeatures.every(Number.isFinite)).to.equal(true);
        dominantBins.push(warmUpFeatures[inputs.featureNames.indexOf('accDominantFrequency')]! / (rate / length));
      }
      const [below, above, rest] = dominantBins;
      expect(below! % 1, `${length}x${channels}`).to.be.within(0.5, 0.95);
      expect(above! % 1, `${length}x${channels}`).to.be.within(0.05, 0.5);
      expect(Math.floor(below!), `${length}x${channels}`).to.be.at.least(1);
      expect(rest).to.equal(0);
      const walking = new WindowInput(syntheticWindow(length, channels, 'walking'));
      const features = await inputs.features(walking);
      expect(features.every(Number.isFinite), `${length}x${channels}`).to.equal(true);
      expect(inputs.description).to.deep.include({ kind: 'window', length, channels, sampleRateHz: rate });
    }
  });

  it('puts an input back on the wire as a client sends it, and decodes it to the same tensor', async () => {
    const windows = windowTask(32, 3, 25);
    const samples = syntheticWindow(32, 3, 'walking');
    const wire = await windows.asWire(new WindowInput(samples));
    expect(wire.form).to.equal('json');
    expect(await windows.modelTensor(await windows.decode(wire, limits), windows.tensorPrep)).to.deep.equal(samples);
    const images = imageTask(8, 8, 1);
    const image = ImageInput.fromRaw({ pixels: Uint8Array.from({ length: 64 }, (_, i) => i * 4), width: 8, height: 8, channels: 1 });
    const uploaded = await images.asWire(image);
    expect(uploaded).to.deep.include({ form: 'upload', mediaType: 'image/png' });
    const decoded = await images.decode(uploaded, limits);
    expect(await images.modelTensor(decoded, images.tensorPrep)).to.deep.equal(await image.tensor(images.tensorPrep as ImagePreprocessing));
  });

  it('refuses an input of the other kind', async () => {
    const windows = windowTask(128, 6, 50);
    const image = ImageInput.fromRaw({ pixels: new Uint8Array(784), width: 28, height: 28, channels: 1 });
    await windows.features(image).then(
      () => expect.fail('accepted'),
      (err: Error) => expect(err.message).to.equal('a window task takes windows, not images'),
    );
  });
});
