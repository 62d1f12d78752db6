import { expect } from 'chai';
import { WINDOW_FEATURES, windowFeatureNames, windowFeatures } from '../../../src/inputs/window/features.js';

const LENGTH = 128;
const RATE_HZ = 50;
const BANDS = ['accBand0to1Hz', 'accBand1to3Hz', 'accBand3to6Hz', 'accBand6to12Hz'];

/** A window of `length` samples x `channels`, each value `value(t, c)` (t in samples). */
function window(value: (t: number, c: number) => number, channels = 6, length = LENGTH): Float32Array {
  const samples = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) for (let c = 0; c < channels; c++) samples[t * channels + c] = value(t, c);
  return samples;
}

/** The features of `samples` by name. */
function named(samples: Float32Array, channels = 6, length = LENGTH, rateHz = RATE_HZ): Record<string, number> {
  const values = windowFeatures(samples, length, channels, rateHz);
  const names = windowFeatureNames(channels);
  expect(values).to.have.length(names.length);
  return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

/** Gravity (1 g) along acc x, the phone upright, plus `motion(t)` on acc x. */
const upright = (motion: (t: number) => number) => (t: number, c: number) => (c === 0 ? 1 + motion(t) : 0);
const sine = (hz: number, amplitude: number, rateHz = RATE_HZ) => (t: number) =>
  amplitude * Math.sin((2 * Math.PI * hz * t) / rateHz);

describe('features/window', () => {
  it('names every feature once, after the channels it comes from', () => {
    expect(new Set(WINDOW_FEATURES).size).to.equal(WINDOW_FEATURES.length);
    expect(WINDOW_FEATURES).to.include.members(['accXMean', 'gyroZStd', 'gyroMagnitudeMean', 'accBand1to3Hz']);
    const accOnly = windowFeatureNames(3);
    expect(accOnly).to.not.include('gyroMagnitudeMean');
    expect(accOnly.filter((name) => name.startsWith('gyro'))).to.deep.equal([]);
    expect(windowFeatureNames(8)).to.include.members(['gyroZMean', 'channel6Mean', 'channel7Std']);
    for (const channels of [3, 4, 6, 8]) {
      expect(windowFeatures(window(() => 0.5, channels), LENGTH, channels, RATE_HZ)).to.have.length(
        windowFeatureNames(channels).length,
      );
    }
  });

  const degenerate: [string, Float32Array, number, number][] = [
    ['an all-zero window', window(() => 0), 6, LENGTH],
    ['a constant window', window((_, c) => [0.1, -0.98, 0.2, 0.01, 0, -0.02][c]!), 6, LENGTH],
    ['a single sample', window(() => 1, 6, 1), 6, 1],
    ['two samples of 3 channels', window((t) => t, 3, 2), 3, 2],
    ['a step', window((t, c) => (t < 64 && c === 0 ? 1 : 0)), 6, LENGTH],
  ];
  for (const [what, samples, channels, length] of degenerate) {
    it(`gives finite values for ${what}`, () => {
      const values = windowFeatures(samples, length, channels, RATE_HZ);
      for (const [i, v] of values.entries()) {
        expect(Number.isFinite(v), windowFeatureNames(channels)[i]).to.equal(true);
      }
    });
  }

  it('finds no movement in a still window', () => {
    const f = named(window(upright(() => 0)));
    expect(f.accXMean).to.be.closeTo(1, 1e-6);
    expect(f.accXStd).to.be.closeTo(0, 1e-6);
    expect(f.accMagnitudeStd).to.be.closeTo(0, 1e-6);
    expect(f.accDynamicEnergy).to.be.closeTo(0, 1e-6);
    expect(f.accJerk).to.be.closeTo(0, 1e-6);
    expect(f.accZeroCrossingRate).to.equal(0);
    expect(f.accDominantFrequency).to.equal(0);
    for (const band of BANDS) expect(f[band]).to.equal(0);
  });

  it('finds the rhythm of a 2 Hz oscillation', () => {
    const f = named(window(upright(sine(2, 0.5))));
    expect(f.accDominantFrequency).to.be.closeTo(2, 0.05);
    expect(f.accBand1to3Hz).to.be.above(0.95);
    const bandTotal = BANDS.reduce((total, band) => total + f[band]!, 0);
    expect(bandTotal, 'nearly all the variance lies below 12 Hz').to.be.closeTo(1, 0.01);
    expect(f.accMagnitudeMean).to.be.closeTo(1, 0.01);
    expect(f.accMagnitudeStd).to.be.closeTo(0.5 / Math.SQRT2, 0.01);
    expect(f.accMagnitudeMin).to.be.closeTo(0.5, 0.01);
    expect(f.accMagnitudeMax).to.be.closeTo(1.5, 0.01);
    expect(f.accDynamicEnergy).to.be.closeTo(0.125, 0.005);
    // Four sign changes a second; |d/dt| averages 4 x amplitude x frequency.
    expect(f.accZeroCrossingRate).to.be.closeTo(4, 0.5);
    expect(f.accJerk).to.be.closeTo(4 * 0.5 * 2, 0.1);
  });

  it('puts a fast oscillation in its band, at any rate and length', () => {
    const f = named(window(upright(sine(5, 0.2, 100)), 6, 200), 6, 200, 100);
    expect(f.accDominantFrequency).to.be.closeTo(5, 0.1);
    expect(f.accBand3to6Hz).to.be.above(0.95);
    const slow = named(window(upright(sine(0.6, 0.2))));
    expect(slow.accBand0to1Hz).to.be.above(0.7);
  });

  it('lets sensor noise cross no zero but counts a real swing', () => {
    const noisy = named(window(upright((t) => (t % 2 === 0 ? 0.004 : -0.004))));
    expect(noisy.accZeroCrossingRate).to.equal(0);
    const swinging = named(window(upright((t) => (t % 2 === 0 ? 0.1 : -0.1))));
    expect(swinging.accZeroCrossingRate).to.be.closeTo(((LENGTH - 1) * RATE_HZ) / LENGTH, 1e-3);
  });

  it('reads the posture from the direction of gravity', () => {
    const lyingOnBack = named(window((_, c) => (c === 2 ? 1 : 0)));
    expect(lyingOnBack.gravityAngleX).to.be.closeTo(90, 1e-3);
    expect(lyingOnBack.gravityAngleY).to.be.closeTo(90, 1e-3);
    expect(lyingOnBack.gravityAngleZ).to.be.closeTo(0, 1e-3);
    const standing = named(window(upright(() => 0)));
    expect(standing.gravityAngleX).to.be.closeTo(0, 1e-3);
    expect(standing.gravityAngleZ).to.be.closeTo(90, 1e-3);
    const reclined = named(window((_, c) => (c === 0 || c === 2 ? Math.SQRT1_2 : 0)));
    expect(reclined.gravityAngleX).to.be.closeTo(45, 1e-3);
    expect(reclined.gravityAngleZ).to.be.closeTo(45, 1e-3);
    const upsideDown = named(window((_, c) => (c === 0 ? -1 : 0)));
    expect(upsideDown.gravityAngleX).to.be.closeTo(180, 1e-3);
    const free = named(window(() => 0));
    expect([free.gravityAngleX, free.gravityAngleY, free.gravityAngleZ]).to.deep.equal([90, 90, 90]);
  });

  it('measures the turning rate from the gyroscope channels present', () => {
    const f = named(window((_, c) => [0, 0, 1, 0.3, 0.4, 0][c]!));
    expect(f.gyroMagnitudeMean).to.be.closeTo(0.5, 1e-6);
    expect(f.gyroMagnitudeStd).to.be.closeTo(0, 1e-6);
    expect(f.gyroYMean).to.be.closeTo(0.4, 1e-6);
    const oneGyro = named(window((_, c) => (c === 3 ? -0.3 : 0), 4), 4);
    expect(oneGyro.gyroMagnitudeMean).to.be.closeTo(0.3, 1e-6);
  });

  it('refuses a window whose shape does not add up', () => {
    expect(() => windowFeatures(new Float32Array(100), 128, 6, 50)).to.throw(RangeError, /128 samples x 6 channels holds 768 values, not 100/);
    expect(() => windowFeatures(new Float32Array(0), 128, 0, 50)).to.throw(RangeError, /positive integer number of channels/);
    expect(() => windowFeatures(new Float32Array(768), 128, 6, 0)).to.throw(RangeError, /sample rate/);
    expect(() => windowFeatureNames(0)).to.throw(RangeError, /positive integer number of channels/);
  });

  it('takes a window of fewer than 3 channels as the first axes of the accelerometer', () => {
    const names = windowFeatureNames(2);
    expect(names).to.include.members(['accXMean', 'accYStd', 'accMagnitudeMean', 'gravityAngleX', 'gravityAngleY']);
    expect(names).to.not.include('gravityAngleZ');
    const f = windowFeatures(Float32Array.from({ length: 256 }, (_, i) => (i % 2 === 0 ? 0.6 : 0.8)), 128, 2, 50);
    expect(f[names.indexOf('accMagnitudeMean')]).to.be.closeTo(1, 1e-6);
    expect(f[names.indexOf('gravityAngleX')]).to.be.closeTo((Math.acos(0.6) * 180) / Math.PI, 1e-3);
  });
});
