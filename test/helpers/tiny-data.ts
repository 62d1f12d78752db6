/**
 * The synthetic labelled data of the tiny zoo (test/fixtures/tiny), made by the tests, never read
 * from a data set: small colour images of three patterns and short three-channel windows of three
 * intensities of movement, each with noise, from a seeded generator. The tiny zoo's models were
 * fitted on one seed and profiled on two others (premodel and test splits), as the real zoos are.
 */
import type { RawImage } from '../../src/inputs/image/decode.js';
import { seededRandom } from '../../src/premodel/forest.js';

export const TINY_IMAGE = Object.freeze({ task: 'tiny-image', width: 12, height: 10, channels: 3 as const, classes: ['square', 'rows', 'columns'] });
export const TINY_WINDOW = Object.freeze({ task: 'tiny-window', length: 40, channels: 3, sampleRateHz: 20, classes: ['still', 'walk', 'run'] });

/** Seeds of the splits: the models are fitted on `fit`; the premodel learns on `premodel`; `test` is for the report. */
export const SPLIT_SEEDS = Object.freeze({ fit: 1, premodel: 2, test: 3 });

/** One image of `label`: a bright square, horizontal bars or vertical bars, in a random colour, at a random offset, with noise. */
function tinyImage(label: number, random: () => number): RawImage {
  const { width, height, channels } = TINY_IMAGE;
  const pixels = new Uint8Array(width * height * channels);
  const colour = [0, 1, 2].map(() => 60 + random() * 195);
  const dx = Math.floor(random() * 4);
  const dy = Math.floor(random() * 3);
  const noise = 110;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const on =
        label === 0 ? x >= 1 + dx && x < 9 + dx && y >= 1 + dy && y < 7 + dy
        : label === 1 ? (y + dy) % 4 < 2
        : (x + dx) % 4 < 2;
      for (let c = 0; c < channels; c++) {
        const value = (on ? colour[c]! : 30) + (random() - 0.5) * 2 * noise;
        pixels[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return { pixels, width, height, channels };
}

/** One window of `label`: still, walking or running (oscillations of growing amplitude and rate), gravity on x, with noise. */
function tinyWindow(label: number, random: () => number): Float32Array {
  const { length, channels, sampleRateHz } = TINY_WINDOW;
  const window = new Float32Array(length * channels);
  const amplitude = [0.05, 0.25, 0.55][label]! * (0.5 + random());
  const hz = [0.5, 1.8, 3][label]! * (0.8 + random() * 0.4);
  const phase = random() * 2 * Math.PI;
  for (let t = 0; t < length; t++) {
    for (let c = 0; c < channels; c++) {
      const motion = amplitude * Math.sin((2 * Math.PI * hz * t) / sampleRateHz + phase + c);
      window[t * channels + c] = (c === 0 ? 1 : 0) + motion + (random() - 0.5) * 0.6;
    }
  }
  return window;
}

export interface TinySet<T> {
  inputs: T[];
  labels: number[];
  /** A source per input (think of a person): windows only, so that calibration folds keep one together. */
  groups?: number[];
}

function labelsOf(count: number, random: () => number): number[] {
  return Array.from({ length: count }, () => Math.floor(random() * 3));
}

export function tinyImages(count: number, seed: number): TinySet<RawImage> {
  const random = seededRandom(1000 + seed);
  const labels = labelsOf(count, random);
  return { inputs: labels.map((l) => tinyImage(l, random)), labels };
}

export function tinyWindows(count: number, seed: number): TinySet<Float32Array> {
  const random = seededRandom(2000 + seed);
  const labels = labelsOf(count, random);
  return { inputs: labels.map((l) => tinyWindow(l, random)), labels, groups: labels.map((_, i) => i % 6) };
}
