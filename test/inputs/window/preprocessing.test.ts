import { expect } from 'chai';
import { windowKind } from '../../../src/inputs/window/index.js';
import { fromLayout, toLayout, type WindowPreprocessing } from '../../../src/inputs/window/preprocessing.js';

const base: WindowPreprocessing = { type: 'window', length: 4, channels: 2, channelNames: ['a', 'b'], sampleRateHz: 10 };

describe('inputs/window/preprocessing (a model\'s layout of a window)', () => {
  it('lays a time-major window out channels first, and back', () => {
    const samples = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]);
    const prep = { ...base, layout: 'channels-first' } as const;
    expect(Array.from(toLayout(samples, prep))).to.deep.equal([1, 2, 3, 4, 10, 20, 30, 40]);
    expect(Array.from(fromLayout(toLayout(samples, prep), prep))).to.deep.equal(Array.from(samples));
    expect(toLayout(samples, { ...base, layout: 'flat' })).to.equal(samples);
  });

  it('gives each layout its model input shape', () => {
    expect(windowKind.shapeOf(base)).to.deep.equal([4, 2]);
    expect(windowKind.shapeOf({ ...base, layout: 'channels-first' })).to.deep.equal([2, 4]);
    expect(windowKind.shapeOf({ ...base, layout: 'flat' })).to.deep.equal([8]);
  });
});
