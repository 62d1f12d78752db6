/**
 * npm run bench:features -- [--inputs 2000] [--warmup 2000]
 *
 * Measures the cost of the cheap features on the request path: microseconds per input (mean and
 * p50) of imageFeatures on 28x28 planes and of windowFeatures on 128 x 6 windows at 50 Hz. The
 * inputs are synthetic (a garment-like blob with texture; gravity plus a gait oscillation and
 * noise), made here with a fixed seed, and each extractor is warmed up before it is timed.
 */
import { imageFeatures } from '../src/inputs/image/features.js';
import { windowFeatures } from '../src/inputs/window/features.js';
import { seededRandom } from '../src/premodel/forest.js';
import { parseCli } from './cli.js';

const values = parseCli({
  name: 'npm run bench:features --',
  summary: 'Times the cheap premodel features per input: image features of 28x28 planes, window features of 128 x 6 windows at 50 Hz.',
  options: {
    inputs: { type: 'int', default: 2000, min: 1, max: 10_000_000, help: 'synthetic inputs timed per extractor' },
    warmup: { type: 'int', default: 2000, min: 0, max: 10_000_000, help: 'untimed calls first' },
  },
});
const inputCount = values.inputs;
const warmupRuns = values.warmup;

const random = seededRandom(42); // deterministic, so that runs compare

function syntheticImage(): Float32Array {
  const plane = new Float32Array(28 * 28);
  const halfWidth = 4 + random() * 9;
  const halfHeight = 4 + random() * 9;
  const brightness = 0.3 + random() * 0.7;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const inside = Math.abs(x - 13.5) < halfWidth && Math.abs(y - 13.5) < halfHeight;
      plane[y * 28 + x] = inside ? brightness * (0.7 + 0.3 * random()) : 0;
    }
  }
  return plane;
}

function syntheticWindow(): Float32Array {
  const window = new Float32Array(128 * 6);
  const cadenceHz = 1 + random() * 2;
  const amplitude = random() * 0.5;
  for (let t = 0; t < 128; t++) {
    const phase = (2 * Math.PI * cadenceHz * t) / 50;
    for (let c = 0; c < 6; c++) {
      const gravity = c === 0 ? 1 : 0;
      window[t * 6 + c] = gravity + amplitude * Math.sin(phase + c) + 0.01 * (random() - 0.5);
    }
  }
  return window;
}

/** Microseconds per call of `extract` over `inputs`, after `warmupRuns` untimed calls. */
function time<T>(inputs: readonly T[], extract: (input: T) => Float32Array): { mean: number; p50: number } {
  let sink = 0;
  for (let i = 0; i < warmupRuns; i++) sink += extract(inputs[i % inputs.length]!)[0]!;
  const micros = new Float64Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const start = process.hrtime.bigint();
    sink += extract(inputs[i]!)[0]!;
    micros[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  if (!Number.isFinite(sink)) throw new Error('a feature was not finite');
  const mean = micros.reduce((a, b) => a + b, 0) / micros.length;
  micros.sort();
  return { mean, p50: micros[Math.floor(micros.length / 2)]! };
}

const images = Array.from({ length: inputCount }, syntheticImage);
const windows = Array.from({ length: inputCount }, syntheticWindow);
const results = {
  'image 28x28': time(images, (plane) => imageFeatures(plane, 28, 28)),
  'window 128x6 @ 50 Hz': time(windows, (window) => windowFeatures(window, 128, 6, 50)),
};
for (const [what, { mean, p50 }] of Object.entries(results)) {
  console.log(`${what.padEnd(22)} mean ${mean.toFixed(2).padStart(6)} us   p50 ${p50.toFixed(2).padStart(6)} us`);
}
