import { expect } from 'chai';
import { ImageInput } from '../../../src/inputs/image/decode.js';
import { encodingGroup } from '../../../src/inputs/image/observed.js';
import type { ImagePreprocessing } from '../../../src/inputs/image/preprocessing.js';

export const limits = { maxPixels: 4096 * 4096 };

/**
 * The largest difference, in levels of 255, between the tensor the in-process decoders make of
 * `bytes` for `prep` and sharp's alone; what the headers say of the encoding must agree too.
 */
export async function differenceFromSharp(bytes: Uint8Array, prep: ImagePreprocessing): Promise<number> {
  const fast = await ImageInput.fromEncoded(bytes, limits);
  const viaSharp = await ImageInput.fromEncoded(bytes, limits, { inProcess: false });
  expect(fast.observed).to.deep.equal(viaSharp.observed);
  expect(encodingGroup(fast.observed, 28, 28)).to.equal(encodingGroup(viaSharp.observed, 28, 28));
  const [a, b] = [await fast.tensor(prep), await viaSharp.tensor(prep)];
  expect(a.length).to.equal(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!) * 255), 0);
}
