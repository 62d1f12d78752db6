import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { IMAGE_FEATURES, extractFeatures, featureNamesOf, featureViewOf, imageFeatures, windowFeatureNames } from '../../src/features/index.js';
import { ImageInput } from '../../src/inputs/image.js';
import { loadManifest } from '../../src/zoo/manifest.js';
import { syntheticWindow } from '../helpers/windows.js';

describe('features/extract', () => {
  it('looks at a fashion image as one grey plane at the models own size', async () => {
    const { manifest } = await loadManifest('zoo/fashion');
    const view = featureViewOf(manifest);
    expect(view).to.deep.include({ kind: 'image' });
    if (view.kind !== 'image') throw new Error('image view expected');
    expect(view.plane).to.deep.include({ width: 28, height: 28, channels: 1, mean: [0], std: [1] });
    expect(featureNamesOf(view)).to.equal(IMAGE_FEATURES);
    const image = await ImageInput.fromEncoded(await readFile('test/fixtures/fashion/test-0-class-9.png'), { maxPixels: 1 << 20 });
    const features = await extractFeatures({ kind: 'image', image }, view);
    expect(features).to.deep.equal(imageFeatures(await image.tensor(view.plane), 28, 28));
  });

  it('computes window features from a har window, and refuses the other kind', async () => {
    const { manifest } = await loadManifest('zoo/har');
    const view = featureViewOf(manifest);
    expect(view).to.deep.equal({ kind: 'window', length: 128, channels: 6, sampleRateHz: 50 });
    const window = syntheticWindow(128, 6, 'walking');
    expect(await extractFeatures({ kind: 'window', window }, view)).to.have.length(windowFeatureNames(6).length);
    const image = ImageInput.fromRaw({ pixels: new Uint8Array(784), width: 28, height: 28, channels: 1 });
    try {
      await extractFeatures({ kind: 'image', image }, view);
      expect.fail('accepted');
    } catch (err) {
      expect((err as Error).message).to.contain('features of a window cannot be computed from a request holding a image');
    }
  });
});
