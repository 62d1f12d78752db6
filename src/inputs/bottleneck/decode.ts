/**
 * A head's bottleneck as a request carries it: uint8 codes, one byte per element of the head's
 * bottleneck shape, base64 in v1 JSON or raw UINT8 in the Open Inference Protocol. A wrong number
 * of bytes is refused naming the shape: a client running another head, or sending float32, shows
 * at once.
 */
import { InvalidInputError } from '../../errors/index.js';
import type { Input } from '../kind.js';
import { codesIn, type BottleneckPreprocessing } from './preprocessing.js';

/** The uint8 codes of one bottleneck, row-major in its shape. */
export class BottleneckInput implements Input {
  readonly kind = 'bottleneck';
  constructor(readonly codes: Uint8Array) {}
}

/** `codes` checked against the bottleneck shape of `prep`. */
export function checkCodes(codes: Uint8Array, prep: BottleneckPreprocessing): BottleneckInput {
  const expected = codesIn(prep.shape);
  if (codes.length !== expected) {
    throw new InvalidInputError(
      `the bottleneck has ${codes.length} bytes; this head's bottleneck [${prep.shape.join(', ')}] of uint8 takes ${expected}` +
        (codes.length === expected * 4 ? ' (float32 values? send the head\'s uint8 codes)' : ''),
    );
  }
  return new BottleneckInput(codes);
}
