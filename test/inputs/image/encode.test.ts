import { expect } from 'chai';
import { decodeImageFile, ImageInput } from '../../../src/inputs/image/decode.js';
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

  it('keeps a colour image in colour at its own size, and draws a scaled encoding at the model\'s size', async () => {
    const colour = { pixels: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i % 3 === 0 ? 220 : 30)), width: 40, height: 30, channels: 3 as const };
    const native = await decodeImageFile(await encodeLikeClient(colour, CLIENT_ENCODINGS[0]!));
    expect(native).to.deep.equal(colour);
    const twice = CLIENT_ENCODINGS.find((e) => e.id === 'png-rgb-2x')!;
    const drawn = await ImageInput.fromEncoded(await encodeLikeClient(colour, twice, { width: 32, height: 32 }), { maxPixels: 1 << 24 });
    expect([drawn.observed.width, drawn.observed.height]).to.deep.equal([64, 64]);
  });
});
