/**
 * Synthetic sensor windows, made by the tests (never the shared data set): gravity on one axis
 * plus, for a moving activity, a 2 Hz gait oscillation on the accelerometer and gyroscope.
 */
export function syntheticWindow(length: number, channels: number, activity: 'walking' | 'still'): Float32Array {
  const window = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    const phase = (2 * Math.PI * 2 * t) / 50;
    for (let c = 0; c < channels; c++) {
      const gravity = c === 0 ? 1 : 0;
      const motion = activity === 'walking' ? 0.3 * Math.sin(phase + c) : 0.002 * Math.sin(t + c);
      window[t * channels + c] = gravity + motion;
    }
  }
  return window;
}
