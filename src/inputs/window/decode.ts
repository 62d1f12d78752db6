/**
 * Sensor windows: a request's `window` (samples x channels of numbers, as the phone recorded
 * them) checked against a model's window preprocessing and laid out as its time-major tensor.
 * Filtering and normalisation live inside the models' ONNX graphs, so that serving feeds the
 * models exactly what they were trained on.
 */
import { endianness } from 'node:os';
import { InvalidInputError } from '../../errors/index.js';
import type { Input } from '../kind.js';
import type { WindowPreprocessing } from './preprocessing.js';

/** A window of samples, time-major (index t * channels + c), in the units the sensor recorded. */
export class WindowInput implements Input {
  readonly kind = 'window';
  constructor(readonly samples: Float32Array) {}
}

/** Validates a nested array window and returns it as a flat time-major Float32Array. */
export function windowTensor(window: unknown, prep: WindowPreprocessing): Float32Array {
  if (!Array.isArray(window)) {
    throw new InvalidInputError(`the window must be an array of ${prep.length} samples`);
  }
  if (window.length !== prep.length) {
    throw new InvalidInputError(
      `the window has ${window.length} samples; it needs ${prep.length} (${(prep.length / prep.sampleRateHz).toFixed(2)} s at ${prep.sampleRateHz} Hz)`,
    );
  }
  const tensor = new Float32Array(prep.length * prep.channels);
  for (let t = 0; t < window.length; t++) {
    const sample: unknown = window[t];
    if (!Array.isArray(sample) || sample.length !== prep.channels) {
      throw new InvalidInputError(
        `sample ${t} of the window must hold ${prep.channels} numbers (${prep.channelNames.join(', ')})`,
      );
    }
    for (let c = 0; c < prep.channels; c++) {
      const value: unknown = sample[c];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InvalidInputError(`sample ${t}, channel ${prep.channelNames[c]} is not a finite number`);
      }
      tensor[t * prep.channels + c] = value;
    }
  }
  return tensor;
}

/**
 * A window sent as raw bytes: little-endian float32 samples by channels (a wearable gateway sends
 * 3 KB instead of 10 KB of JSON), checked for size and finiteness.
 */
export function windowFromBytes(bytes: Uint8Array, prep: WindowPreprocessing, littleEndianHost = LITTLE_ENDIAN): Float32Array {
  const expected = prep.length * prep.channels * 4;
  if (bytes.length !== expected) {
    throw new InvalidInputError(`the window has ${bytes.length} bytes; ${prep.length} samples x ${prep.channels} channels of float32 take ${expected}`);
  }
  const data = new Float32Array(prep.length * prep.channels);
  if (littleEndianHost) {
    // The host's own layout: one copy of the bytes (the body's offset need not be aligned for a view).
    new Uint8Array(data.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  }
  return checkWindowTensor(data, prep);
}

/** The host's byte order; a parameter of windowFromBytes so that the other host's path is tested too. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** Checks an already flat window (from a data set or a binary protocol) for size and finiteness. */
export function checkWindowTensor(data: Float32Array, prep: WindowPreprocessing): Float32Array {
  if (data.length !== prep.length * prep.channels) {
    throw new InvalidInputError(
      `the window has ${data.length} values; it needs ${prep.length} samples x ${prep.channels} channels`,
    );
  }
  let bad = -1;
  for (let i = 0; i < data.length && bad < 0; i++) if (!Number.isFinite(data[i]!)) bad = i;
  if (bad >= 0) {
    throw new InvalidInputError(
      `sample ${Math.floor(bad / prep.channels)}, channel ${prep.channelNames[bad % prep.channels]} is not a finite number`,
    );
  }
  return data;
}
