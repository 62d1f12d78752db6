import { expect } from 'chai';
import { ImageInput } from '../../../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../../../src/inputs/image/encode.js';
import { encodingGroup } from '../../../src/inputs/image/observed.js';

/** A garment-like blob: bright on black, 28x28. */
const garment = {
  pixels: Uint8Array.from({ length: 28 * 28 }, (_, i) => (Math.abs((i % 28) - 14) < 8 && Math.abs(Math.floor(i / 28) - 14) < 10 ? 200 : 0)),
  width: 28,
  height: 28,
  channels: 1 as const,
};
const grey28 = { type: 'image', width: 28, height: 28, channels: 1, fit: 'contain', background: 0, mean: [0], std: [1] } as const;

describe('inputs/image/encode (the client encodings)', () => {
  it('makes a file of every encoding of the family that the decoder reads back near the pixels, in its expected group', async () => {
    const expected = (id: string) => (id.includes('half') ? 'smaller' : /\d+x$/.test(id) ? 'larger' : 'native');
    for (const encoding of CLIENT_ENCODINGS) {
      const bytes = await encodeLikeClient(garment, encoding);
      const image = await ImageInput.fromEncoded(bytes, { maxPixels: 1 << 24 });
      expect(image.format, encoding.id).to.equal(encoding.format);
      expect(image.observed.width, encoding.id).to.equal(Math.round(28 * encoding.scale));
      expect(encodingGroup(image.observed, 28, 28).split('@')[1], encoding.id).to.equal(expected(encoding.id));
      const tensor = await image.tensor(grey28);
      // The garment's middle stays bright and its corner dark, whatever the encoding did to the edges.
      expect(tensor[14 * 28 + 14]!, encoding.id).to.be.above(0.6);
      expect(tensor[0]!, encoding.id).to.be.below(0.1);
    }
  });

  it('the native form is the pixels exactly: what a client that knows the model sends', async () => {
    const bytes = await encodeLikeClient(garment, CLIENT_ENCODINGS[0]!);
    const image = await ImageInput.fromEncoded(bytes, { maxPixels: 1 << 24 });
    expect(Array.from(await image.tensor(grey28))).to.deep.equal(Array.from(garment.pixels, (p) => p / 255).map((v) => Math.fround(v)));
  });
});
