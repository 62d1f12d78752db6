import { expect } from 'chai';
import { InvalidInputError } from '../../../src/errors/index.js';
import { checkWindowTensor, windowFromBytes, windowTensor } from '../../../src/inputs/window/decode.js';
import type { WindowPreprocessing } from '../../../src/inputs/window/preprocessing.js';
import { syntheticWindow } from '../../helpers/windows.js';

const prep: WindowPreprocessing = {
  type: 'window',
  length: 128,
  channels: 6,
  channelNames: ['acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z'],
  sampleRateHz: 50,
};

function nested(flat: Float32Array): number[][] {
  return Array.from({ length: 128 }, (_, t) => Array.from(flat.subarray(t * 6, t * 6 + 6)));
}

describe('inputs/window', () => {
  it('lays a window out time-major, values untouched', () => {
    const flat = syntheticWindow(128, 6, 'walking');
    const tensor = windowTensor(nested(flat), prep);
    expect(tensor).to.deep.equal(flat);
  });

  const refusals: [string, unknown, RegExp][] = [
    ['not an array', { samples: [] }, /must be an array of 128 samples/],
    ['too short', nested(syntheticWindow(128, 6, 'still')).slice(0, 100), /has 100 samples; it needs 128 \(2\.56 s at 50 Hz\)/],
    ['too long', [...nested(syntheticWindow(128, 6, 'still')), [0, 0, 0, 0, 0, 0]], /has 129 samples/],
    ['a sample with 3 channels', nested(syntheticWindow(128, 6, 'still')).map((s, t) => (t === 7 ? s.slice(0, 3) : s)), /sample 7 of the window must hold 6 numbers/],
    ['a sample that is not an array', nested(syntheticWindow(128, 6, 'still')).map((s, t) => (t === 3 ? 5 : s)), /sample 3 of the window must hold 6 numbers/],
    ['a string value', nested(syntheticWindow(128, 6, 'still')).map((s, t) => (t === 9 ? [0, '1', 0, 0, 0, 0] : s)), /sample 9, channel acc_y is not a finite number/],
    ['NaN', nested(syntheticWindow(128, 6, 'still')).map((s, t) => (t === 2 ? [0, 0, NaN, 0, 0, 0] : s)), /sample 2, channel acc_z is not a finite number/],
    ['Infinity', nested(syntheticWindow(128, 6, 'still')).map((s, t) => (t === 5 ? [0, 0, 0, 0, -Infinity, 0] : s)), /sample 5, channel gyro_y is not a finite number/],
  ];
  for (const [what, window, message] of refusals) {
    it(`refuses a window ${what}`, () => {
      expect(() => windowTensor(window, prep)).to.throw(InvalidInputError, message);
    });
  }

  it('checks flat windows for size and finiteness', () => {
    const flat = syntheticWindow(128, 6, 'walking');
    expect(checkWindowTensor(flat, prep)).to.equal(flat);
    expect(() => checkWindowTensor(flat.subarray(6), prep)).to.throw(InvalidInputError, /has 762 values/);
    flat[6 * 10 + 3] = Number.POSITIVE_INFINITY;
    expect(() => checkWindowTensor(flat, prep)).to.throw(InvalidInputError, /sample 10, channel gyro_x/);
  });

  it('windowFromBytes: little-endian float32 samples by channels, checked like a JSON window', () => {
    const flat = syntheticWindow(128, 6, 'walking');
    const bytes = Buffer.alloc(flat.length * 4);
    flat.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    // At an odd offset in a larger buffer, as a parsed body may be.
    const padded = Buffer.concat([Buffer.alloc(1), bytes]).subarray(1);
    expect(Array.from(windowFromBytes(padded, prep))).to.deep.equal(Array.from(flat));
    // A big-endian host reads the same samples through a DataView.
    expect(Array.from(windowFromBytes(padded, prep, false))).to.deep.equal(Array.from(flat));
    expect(() => windowFromBytes(bytes.subarray(2), prep)).to.throw(InvalidInputError, /3070 bytes; 128 samples x 6 channels of float32 take 3072/);
    bytes.writeFloatLE(Number.NaN, 4 * (6 * 10 + 3));
    expect(() => windowFromBytes(bytes, prep)).to.throw(InvalidInputError, /sample 10, channel gyro_x/);
    expect(() => windowFromBytes(bytes, prep, false)).to.throw(InvalidInputError, /sample 10, channel gyro_x/);
  });
});
