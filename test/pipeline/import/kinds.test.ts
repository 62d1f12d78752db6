import { expect } from 'chai';
import { KIND_IMPORTERS } from '../../../src/pipeline/import/kinds.js';

const image = KIND_IMPORTERS.image;
const window = KIND_IMPORTERS.window;
const photo = { width: 64, height: 48 };

describe('pipeline/import/kinds (preprocessing read from a graph input)', () => {
  it('images: channels first or last, size from the graph; mean and std per channel or one for all', () => {
    expect(image.preprocessing([3, 32, 32], { mean: [0.5], std: [0.25, 0.5, 1] }, photo)).to.deep.equal({
      type: 'image', width: 32, height: 32, channels: 3, fit: 'cover', background: 0, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1],
    });
    expect(image.preprocessing([24, 20, 1], {}, photo)).to.include({ width: 20, height: 24, channels: 1, layout: 'nhwc' });
    // Both ends could be channels: the team's layout decides.
    expect(image.preprocessing([3, 5, 3], { layout: 'nhwc' }, photo)).to.include({ width: 5, height: 3, channels: 3, layout: 'nhwc' });
    expect(image.preprocessing([1, 'h', 'w'], { width: 40, height: 30 }, photo)).to.include({ width: 40, height: 30, channels: 1 });
  });

  it('images: a flat input takes its size from the hints or the data, and its channels from the count', () => {
    expect(image.preprocessing([64 * 48 * 3], {}, photo)).to.include({ width: 64, height: 48, channels: 3, layout: 'flat' });
    expect(image.preprocessing([784], { width: 28, height: 28 }, photo)).to.include({ width: 28, height: 28, channels: 1, layout: 'flat' });
    expect(image.preprocessing([1000], {}, photo)).to.match(/flat input of 1000 values is not 64x48 pixels of 1 or 3 channels/);
  });

  it('images: says why a graph cannot be fed', () => {
    expect(image.preprocessing([4, 32, 32], {}, photo)).to.match(/is not an image input/);
    expect(image.preprocessing([3, 'h', 'w'], {}, photo)).to.match(/leaves the image size open: give it \(--image-size WxH\)/);
    expect(image.preprocessing([3, 32, 32], { width: 64 }, photo)).to.match(/the image size given, 64x32, is not the graph's 32x32/);
    expect(image.preprocessing([3, 32, 32], { mean: [0, 0] }, photo)).to.equal('mean has 2 values for 3 channels');
    expect(image.preprocessing([3, 32, 32], { layout: 'time-major' }, photo)).to.match(/not an image layout/);
  });

  it('windows: samples by channels, channels by samples or flat; symbolic time; the rate is required', () => {
    const data = { length: 50, channels: 3 };
    const hints = { sampleRateHz: 25 };
    expect(window.preprocessing([50, 3], hints, data)).to.deep.equal({ type: 'window', length: 50, channels: 3, channelNames: ['channel_0', 'channel_1', 'channel_2'], sampleRateHz: 25 });
    expect(window.preprocessing([3, 'time'], hints, data)).to.include({ layout: 'channels-first' });
    expect(window.preprocessing([150], { ...hints, channelNames: ['x', 'y', 'z'] }, data)).to.deep.include({ layout: 'flat', channelNames: ['x', 'y', 'z'] });
    expect(window.preprocessing([3, 3], { ...hints, layout: 'channels-first' }, { length: 3, channels: 3 })).to.include({ layout: 'channels-first' });
    expect(window.preprocessing([50, 3], {}, data)).to.match(/windows need the rate they were sampled at/);
    expect(window.preprocessing([64, 3], hints, data)).to.match(/does not take the data's windows of 50 samples x 3 channels: \[50, 3\], \[3, 50\] or \[150\]/);
    expect(window.preprocessing([50, 3], { ...hints, channelNames: ['x'] }, data)).to.equal('channelNames has 1 names for 3 channels');
  });
});
