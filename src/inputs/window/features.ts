/**
 * Cheap features of a window of wearable-sensor samples for the premodel: how much and how fast
 * the wearer moves, at what rhythm, and how the device is tilted (which separates sitting,
 * standing and laying). Computed on the request path from the raw window, in a few passes over
 * its samples: microseconds for 128 samples of 6 channels.
 *
 * Channels 0-2 are the accelerometer (g, gravity included) and channels 3-5, where present, the
 * gyroscope (rad/s); any further channel only gets its mean and standard deviation. A window of
 * fewer than 3 channels takes them as the first axes of the accelerometer. Features:
 *   <channel>Mean, <channel>Std   per channel: posture (means) and how much each axis moves
 *   accMagnitudeMean/Std/Min/Max  |acc|, orientation-free: intensity and peaks of the movement
 *   gyroMagnitudeMean/Std         |gyro| (with a gyroscope): how much the body turns
 *   accDynamicEnergy              sum of the acc channels' variances (g^2), rotations included
 *   accJerk                       mean |d|acc|/dt| (g/s): abrupt movements, stairs
 *   accZeroCrossingRate           sign changes of |acc| - mean per second, with a dead band
 *   accBand<lo>to<hi>Hz           share of |acc|'s variance in each frequency band
 *   accDominantFrequency          strongest frequency of |acc| below 12 Hz (Hz): gait cadence
 *   gravityAngleX/Y/Z             angle between the mean acceleration and each axis (degrees)
 */

const ACC_CHANNELS = 3;
/** Channels 3 up to (not including) this are the gyroscope. */
const GYRO_END = 6;
/** The default (har) layout: acc x, y, z then gyro x, y, z. */
const DEFAULT_CHANNELS = 6;
/** Frequency bands of the acceleration magnitude, [low, high) in Hz; human movement is below 12 Hz. */
const ACC_BANDS_HZ: readonly (readonly [number, number])[] = [[0, 1], [1, 3], [3, 6], [6, 12]];
/** |acc| - mean must leave this band (g) to count as a sign change: sensor noise does not cross. */
const ZERO_CROSSING_DEAD_BAND_G = 0.01;
/** Below this standard deviation of |acc| (g) a window is still: no rhythm, no band energy. */
const STILL_STD_G = 1e-6;

const namesByChannels = new Map<number, readonly string[]>();

/** The feature names for windows of `channels` channels, in the order `windowFeatures` returns. */
export function windowFeatureNames(channels: number): readonly string[] {
  checkChannels(channels);
  let names = namesByChannels.get(channels);
  if (names === undefined) {
    const list: string[] = [];
    for (let c = 0; c < channels; c++) list.push(`${channelName(c)}Mean`);
    for (let c = 0; c < channels; c++) list.push(`${channelName(c)}Std`);
    list.push('accMagnitudeMean', 'accMagnitudeStd', 'accMagnitudeMin', 'accMagnitudeMax');
    if (channels > ACC_CHANNELS) list.push('gyroMagnitudeMean', 'gyroMagnitudeStd');
    list.push('accDynamicEnergy', 'accJerk', 'accZeroCrossingRate');
    for (const [low, high] of ACC_BANDS_HZ) list.push(`accBand${low}to${high}Hz`);
    list.push('accDominantFrequency');
    for (let c = 0; c < Math.min(channels, ACC_CHANNELS); c++) list.push(`gravityAngle${'XYZ'[c]}`);
    names = Object.freeze(list);
    namesByChannels.set(channels, names);
  }
  return names;
}

/** The features of the default layout (6 channels: acc x, y, z, gyro x, y, z). */
export const WINDOW_FEATURES: readonly string[] = windowFeatureNames(DEFAULT_CHANNELS);

/**
 * The features of one window (time-major: index t * channels + c, raw units), aligned with
 * `windowFeatureNames(channels)`. Every value is finite for any finite window, constant ones
 * included.
 */
export function windowFeatures(
  window: Float32Array,
  length: number,
  channels: number,
  sampleRateHz: number,
): Float32Array {
  const names = windowFeatureNames(channels);
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`a window needs a positive integer length, not ${length}`);
  }
  if (!(sampleRateHz > 0) || !Number.isFinite(sampleRateHz)) {
    throw new RangeError(`the sample rate must be a positive number of Hz, not ${sampleRateHz}`);
  }
  if (window.length !== length * channels) {
    throw new RangeError(
      `a window of ${length} samples x ${channels} channels holds ${length * channels} values, not ${window.length}`,
    );
  }
  const accChannels = Math.min(channels, ACC_CHANNELS);
  const gyroChannels = Math.max(0, Math.min(channels, GYRO_END) - ACC_CHANNELS);
  const features = new Float32Array(names.length);

  // Per channel: mean and standard deviation.
  const accMeans = new Float64Array(accChannels);
  let accDynamicEnergy = 0;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let sumSquares = 0;
    for (let i = c; i < window.length; i += channels) {
      const v = window[i]!;
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / length;
    const variance = Math.max(0, sumSquares / length - mean * mean);
    features[c] = mean;
    features[channels + c] = Math.sqrt(variance);
    if (c < ACC_CHANNELS) {
      accMeans[c] = mean;
      accDynamicEnergy += variance;
    }
  }
  let f = 2 * channels;

  // Magnitudes: |acc| kept for its rhythm, |gyro| summarised on the way.
  const accMagnitude = new Float64Array(length);
  let accSum = 0;
  let accMin = Infinity;
  let accMax = -Infinity;
  let gyroSum = 0;
  let gyroSumSquares = 0;
  for (let t = 0, base = 0; t < length; t++, base += channels) {
    let accSquares = 0;
    for (let c = 0; c < accChannels; c++) accSquares += window[base + c]! * window[base + c]!;
    const magnitude = Math.sqrt(accSquares);
    accMagnitude[t] = magnitude;
    accSum += magnitude;
    if (magnitude < accMin) accMin = magnitude;
    if (magnitude > accMax) accMax = magnitude;
    if (gyroChannels > 0) {
      let squares = 0;
      for (let c = ACC_CHANNELS; c < ACC_CHANNELS + gyroChannels; c++) squares += window[base + c]! ** 2;
      gyroSum += Math.sqrt(squares);
      gyroSumSquares += squares;
    }
  }
  const accMean = accSum / length;

  // Centre |acc|; its variance, jerk and zero crossings.
  let centredSumSquares = 0;
  let absoluteChanges = 0;
  let crossings = 0;
  let lastSign = 0;
  for (let t = 0; t < length; t++) {
    const v = accMagnitude[t]! - accMean;
    if (t > 0) absoluteChanges += Math.abs(v - accMagnitude[t - 1]!);
    accMagnitude[t] = v;
    centredSumSquares += v * v;
    const sign = v > ZERO_CROSSING_DEAD_BAND_G ? 1 : v < -ZERO_CROSSING_DEAD_BAND_G ? -1 : 0;
    if (sign !== 0) {
      if (lastSign !== 0 && sign !== lastSign) crossings++;
      lastSign = sign;
    }
  }
  const accStd = Math.sqrt(centredSumSquares / length);

  features[f++] = accMean;
  features[f++] = accStd;
  features[f++] = accMin;
  features[f++] = accMax;
  if (gyroChannels > 0) {
    const gyroMean = gyroSum / length;
    features[f++] = gyroMean;
    features[f++] = Math.sqrt(Math.max(0, gyroSumSquares / length - gyroMean * gyroMean));
  }
  features[f++] = accDynamicEnergy;
  features[f++] = length > 1 ? (absoluteChanges / (length - 1)) * sampleRateHz : 0;
  features[f++] = (crossings * sampleRateHz) / length;

  const spectrum = accStd > STILL_STD_G ? accSpectrum(accMagnitude, sampleRateHz) : undefined;
  const binHz = sampleRateHz / length;
  for (const [low, high] of ACC_BANDS_HZ) {
    let energy = 0;
    if (spectrum !== undefined) {
      for (let k = 1; k < spectrum.length; k++) {
        const hz = k * binHz;
        // Bins k and length - k both hold this frequency's energy, except at the Nyquist bin.
        if (hz >= low && hz < high) energy += (2 * k === length ? 1 : 2) * spectrum[k]!;
      }
    }
    // Parseval: the bins' power sums to length * sum of squares.
    features[f++] = spectrum !== undefined ? energy / (length * centredSumSquares) : 0;
  }
  features[f++] = spectrum !== undefined ? dominantBin(spectrum) * binHz : 0;

  const gravity = Math.hypot(...accMeans);
  for (let c = 0; c < accChannels; c++) {
    const cosine = gravity > 0 ? Math.min(1, Math.max(-1, accMeans[c]! / gravity)) : 0;
    features[f++] = (Math.acos(cosine) * 180) / Math.PI;
  }
  return features;
}

/**
 * Power |X_k|^2 of the DFT of `signal` at bins 0..K, K the highest bin below the top band edge
 * (and at most the Nyquist bin), by the Goertzel recurrence: one multiply-add per sample and bin,
 * for any window length. Bins go four at a time: their recurrences are independent, so the CPU
 * overlaps them (each bin's arithmetic is the same as alone, to the bit). Bin 0 is left at 0: the
 * signal is centred.
 */
function accSpectrum(signal: Float64Array, sampleRateHz: number): Float64Array {
  const length = signal.length;
  const topHz = ACC_BANDS_HZ[ACC_BANDS_HZ.length - 1]![1];
  const lastBin = Math.min(Math.floor(length / 2), Math.ceil((topHz * length) / sampleRateHz) - 1);
  const power = new Float64Array(lastBin + 4); // room for the group of the last bin
  const coefficient = (k: number) => 2 * Math.cos((2 * Math.PI * k) / length);
  for (let k = 1; k <= lastBin; k += 4) {
    const a = coefficient(k);
    const b = coefficient(k + 1);
    const c = coefficient(k + 2);
    const d = coefficient(k + 3);
    // The last two states of each bin's recurrence, in plain locals: no array made per swap.
    let a1 = 0, a2 = 0, b1 = 0, b2 = 0, c1 = 0, c2 = 0, d1 = 0, d2 = 0;
    for (let t = 0; t < length; t++) {
      const x = signal[t]!;
      const a0 = x + a * a1 - a2;
      const b0 = x + b * b1 - b2;
      const c0 = x + c * c1 - c2;
      const d0 = x + d * d1 - d2;
      a2 = a1;
      a1 = a0;
      b2 = b1;
      b1 = b0;
      c2 = c1;
      c1 = c0;
      d2 = d1;
      d1 = d0;
    }
    power[k] = a1 * a1 + a2 * a2 - a * a1 * a2;
    power[k + 1] = b1 * b1 + b2 * b2 - b * b1 * b2;
    power[k + 2] = c1 * c1 + c2 * c2 - c * c1 * c2;
    power[k + 3] = d1 * d1 + d2 * d2 - d * d1 * d2;
  }
  return power.subarray(0, lastBin + 1);
}

/**
 * The strongest bin of `power` (bin 0 aside), refined towards its stronger neighbour: for a
 * sinusoid under a rectangular window the neighbour's share of the two magnitudes is the offset
 * of the true frequency from the bin. 0 when there is no bin above 0 Hz.
 */
function dominantBin(power: Float64Array): number {
  if (power.length < 2) return 0;
  let best = 1;
  for (let k = 2; k < power.length; k++) if (power[k]! > power[best]!) best = k;
  const peak = Math.sqrt(power[best]!);
  const before = best > 1 ? Math.sqrt(power[best - 1]!) : 0;
  const after = best + 1 < power.length ? Math.sqrt(power[best + 1]!) : 0;
  if (peak === 0) return best;
  return after >= before ? best + after / (peak + after) : best - before / (peak + before);
}

function channelName(c: number): string {
  const axis = 'XYZ'[c % 3];
  if (c < ACC_CHANNELS) return `acc${axis}`;
  if (c < GYRO_END) return `gyro${axis}`;
  return `channel${c}`;
}

function checkChannels(channels: number): void {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`a window needs a positive integer number of channels, not ${channels}`);
  }
}
