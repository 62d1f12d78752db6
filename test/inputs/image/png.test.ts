import { expect } from 'chai';
import sharp from 'sharp';
import { ImageInput } from '../../../src/inputs/image/decode.js';
import { decodeGreyPng } from '../../../src/inputs/image/png.js';
import { seededRandom } from '../../../src/premodel/forest.js';
import type { ImagePreprocessing } from '../../../src/inputs/image/preprocessing.js';

const LIMIT = 4096 * 4096;
const grey28: ImagePreprocessing = {
  type: 'image', width: 28, height: 28, channels: 1, fit: 'contain', background: 0, mean: [0.2], std: [0.3],
};

/** Grey pixels with smooth parts and noise, so that the encoder picks every row filter. */
function greyPixels(width: number, height: number, seed: number): Buffer {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length: width * height }, (_, i) => ((i % width) * 7 + Math.floor(i / width) * 3 + (random() < 0.3 ? random() * 255 : 0)) & 0xff));
}

/** sharp writes one raw channel as RGB unless told the pixels are grey. */
const png = (pixels: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4 = 1, options: sharp.PngOptions = {}) => {
  const image = sharp(pixels, { raw: { width, height, channels } });
  return (channels === 1 ? image.toColourspace('b-w') : image).png(options).toBuffer();
};
const interleave = (pixels: Buffer, copies: number) => Buffer.from(Array.from({ length: pixels.length * copies }, (_, i) => pixels[Math.floor(i / copies)]!));

describe('inputs/png (grey PNG fast path)', () => {
  it('decodes exactly what sharp decodes, whatever row filters and compression the encoder chose', async () => {
    for (const [width, height, options] of [[28, 28, {}], [1, 1, {}], [57, 13, { adaptiveFiltering: true }], [300, 7, { compressionLevel: 0 }], [64, 64, { compressionLevel: 9, adaptiveFiltering: true }]] as const) {
      const pixels = greyPixels(width, height, width * height);
      const bytes = await png(pixels, width, height, 1, options);
      const decoded = decodeGreyPng(bytes, LIMIT);
      expect(decoded, `${width}x${height}`).to.deep.include({ width, height, channels: 1 });
      const reference = await sharp(bytes).toColourspace('b-w').raw().toBuffer();
      expect(Buffer.from(decoded!.pixels).equals(reference), `${width}x${height}`).to.equal(true);
      // The same pixels as RGB with equal channels.
      const rgb = decodeGreyPng(await png(interleave(pixels, 3), width, height, 3, options), LIMIT);
      expect(Buffer.from(rgb!.pixels).equals(reference), `${width}x${height} RGB`).to.equal(true);
    }
  });

  it('leaves everything else to sharp', async () => {
    const pixels = greyPixels(28, 28, 1);
    const grey = await png(pixels, 28, 28);
    const corrupt = Buffer.from(grey);
    corrupt[corrupt.length - 20]! ^= 0xff; // inside IDAT: its checksum no longer matches
    const cases: [string, Buffer][] = [
      ['colour', await png(Buffer.from(interleave(pixels, 3).map((v, i) => (i % 3 === 0 ? 255 - v : v))), 28, 28, 3)],
      ['grey with alpha', await png(interleave(pixels, 2), 28, 28, 2)],
      ['16-bit', await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('grey16').png().toBuffer()],
      ['palette', await png(pixels, 28, 28, 1, { palette: true })],
      ['interlaced', await png(pixels, 28, 28, 1, { progressive: true })],
      ['with a colour profile', await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).withIccProfile('srgb').png().toBuffer()],
      ['corrupt', corrupt],
      ['truncated', grey.subarray(0, grey.length - 30)],
      ['a JPEG', await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).jpeg().toBuffer()],
    ];
    for (const [what, bytes] of cases) expect(decodeGreyPng(bytes, LIMIT), what).to.equal(undefined);
    expect(decodeGreyPng(grey, 28 * 28 - 1), 'over the pixel limit').to.equal(undefined);
  });

  it('an image on the fast path gives the tensor sharp gives, for grey and colour models, resized or not', async () => {
    const colour32: ImagePreprocessing = { ...grey28, width: 32, height: 32, channels: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    // At the image's own size a colour model gets the grey pixels in every channel, without libvips.
    const colour28: ImagePreprocessing = { ...grey28, channels: 3, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
    for (const [width, height] of [[28, 28], [40, 33]] as const) {
      const pixels = greyPixels(width, height, 5);
      const rgb = interleave(pixels, 3);
      const fast = await ImageInput.fromEncoded(await png(rgb, width, height, 3), { maxPixels: LIMIT });
      // The same pixels interlaced: a PNG the fast path leaves to sharp.
      const viaSharp = await ImageInput.fromEncoded(await png(rgb, width, height, 3, { progressive: true }), { maxPixels: LIMIT });
      expect(fast.format).to.equal('png');
      for (const prep of [grey28, colour32, colour28]) {
        expect(Array.from(await fast.tensor(prep)), `${width}x${height} to ${prep.channels}`).to.deep.equal(Array.from(await viaSharp.tensor(prep)));
      }
    }
  });
});
