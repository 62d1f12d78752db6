import { expect } from 'chai';
import sharp from 'sharp';
import { InvalidInputError, PayloadTooLargeError } from '../../../src/errors/index.js';
import { encodePng, ImageInput } from '../../../src/inputs/image/decode.js';
import type { ImagePreprocessing } from '../../../src/inputs/image/preprocessing.js';

const grey28: ImagePreprocessing = {
  type: 'image', width: 28, height: 28, channels: 1, fit: 'contain', background: 0, mean: [0], std: [1],
};
const colour32: ImagePreprocessing = {
  type: 'image', width: 32, height: 32, channels: 3, fit: 'cover', background: 0,
  mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25],
};
const limits = { maxPixels: 4096 * 4096 };

/** A white square on a black (or transparent) field, encoded by sharp. */
function square(width: number, height: number, options: { alpha?: boolean; colour?: boolean } = {}) {
  const channels = options.alpha ? 4 : options.colour ? 3 : 1;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = Math.floor(height / 4); y < Math.ceil((3 * height) / 4); y++) {
    for (let x = Math.floor(width / 4); x < Math.ceil((3 * width) / 4); x++) {
      pixels.fill(255, (y * width + x) * channels, (y * width + x + 1) * channels);
    }
  }
  return sharp(pixels, { raw: { width, height, channels } });
}

async function tensorOf(bytes: Buffer, prep = grey28) {
  return (await ImageInput.fromEncoded(bytes, limits)).tensor(prep);
}

function range(t: Float32Array): [number, number] {
  return [Math.min(...t), Math.max(...t)];
}

describe('inputs/image', () => {
  it('keeps a 28x28 grey PNG exact: pixel / 255', async () => {
    const pixels = Buffer.from(Array.from({ length: 784 }, (_, i) => i % 256));
    const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
    const t = await tensorOf(png);
    expect(t).to.have.length(784);
    for (let i = 0; i < 784; i += 97) expect(t[i]).to.be.closeTo((i % 256) / 255, 1e-6);
  });

  it('turns the same pixels raw or encoded into the same tensor', async () => {
    const pixels = new Uint8Array(784).map((_, i) => (i * 7) % 256);
    const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
    const fromRaw = await ImageInput.fromRaw({ pixels, width: 28, height: 28, channels: 1 }).tensor(grey28);
    expect(fromRaw).to.deep.equal(await tensorOf(png));
  });

  const odd: [string, () => Promise<Buffer>][] = [
    ['a colour JPEG', () => square(300, 200, { colour: true }).jpeg().toBuffer()],
    ['a large PNG', () => square(2000, 1500).png().toBuffer()],
    ['a tiny 3x5 PNG', () => square(3, 5).png().toBuffer()],
    ['a WebP', () => square(64, 64, { colour: true }).webp().toBuffer()],
    ['a 16-bit PNG', () => square(40, 40, { colour: true }).toColourspace('rgb16').png().toBuffer()],
    ['a PNG with alpha', () => square(50, 30, { alpha: true }).png().toBuffer()],
  ];
  for (const [what, make] of odd) {
    it(`brings ${what} to 1x28x28 in [0, 1], garment bright on black`, async () => {
      const t = await tensorOf(await make());
      expect(t).to.have.length(784);
      const [lo, hi] = range(t);
      expect(lo).to.be.at.least(0);
      expect(hi).to.be.at.most(1);
      expect(t[14 * 28 + 14]).to.be.greaterThan(0.9); // centre of the white square
      expect(t[0]).to.be.lessThan(0.1); // corner: black, letterbox or transparent
    });
  }

  it('flattens transparent pixels onto the background', async () => {
    const transparent = sharp(Buffer.alloc(28 * 28 * 4, 0).fill(255, 0, 3), { raw: { width: 28, height: 28, channels: 4 } });
    const t = await tensorOf(await transparent.png().toBuffer(), { ...grey28, background: 200 });
    expect(t[783]).to.be.closeTo(200 / 255, 0.01);
  });

  it('letterboxes with the background when the aspect ratio differs', async () => {
    const wide = await sharp({ create: { width: 280, height: 70, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const t = await tensorOf(wide);
    expect(t[0]).to.equal(0); // top bar
    expect(t[14 * 28]).to.be.closeTo(1, 0.01); // middle row: image
  });

  it('gives 3x32x32 normalised tensors for a colour model', async () => {
    const red = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const t = await tensorOf(red, colour32);
    expect(t).to.have.length(3 * 32 * 32);
    expect(t[0]).to.be.closeTo((1 - 0.5) / 0.25, 1e-5); // red plane
    expect(t[1024]).to.be.closeTo((0 - 0.5) / 0.25, 1e-5); // green plane
  });

  it('lays the tensor out as the model takes it: channels last, or flat in channels-first order', async () => {
    const red = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#c83214' } }).png().toBuffer();
    const planar = await tensorOf(red, colour32);
    const last = await tensorOf(red, { ...colour32, layout: 'nhwc' });
    const flat = await tensorOf(red, { ...colour32, layout: 'flat' });
    for (const [c, i] of [[0, 0], [1, 77], [2, 1023]] as const) expect(last[i * 3 + c]).to.equal(planar[c * 1024 + i]);
    expect(flat).to.deep.equal(planar);
    expect(await ImageInput.fromTensor(last, { ...colour32, layout: 'nhwc' }).tensor(colour32)).to.deep.equal(planar);
  });

  it('recovers the image behind a preprocessed tensor exactly, and refuses values out of range', async () => {
    const red = await sharp({ create: { width: 50, height: 40, channels: 3, background: '#c83214' } }).png().toBuffer();
    const tensor = await tensorOf(red, colour32);
    expect(await ImageInput.fromTensor(tensor, colour32).tensor(colour32)).to.deep.equal(tensor);
    const out = Float32Array.from(tensor);
    out[5] = 9;
    expect(() => ImageInput.fromTensor(out, colour32)).to.throw(InvalidInputError, /outside the preprocessed range/);
  });

  it('converts once per distinct preprocessing', async () => {
    const input = await ImageInput.fromEncoded(await square(30, 30).png().toBuffer(), limits);
    expect(input.tensor(grey28)).to.equal(input.tensor({ ...grey28 }));
  });

  const broken: [string, () => Promise<Buffer>, RegExp][] = [
    ['an empty body', async () => Buffer.alloc(0), /empty/],
    ['text', async () => Buffer.from('this is not an image'), /cannot be decoded/],
    ['a TIFF', () => square(10, 10).tiff().toBuffer(), /must be PNG, JPEG or WebP, not tiff/],
  ];
  for (const [what, make, message] of broken) {
    it(`refuses ${what} with InvalidInputError`, async () => {
      try {
        await tensorOf(await make());
        expect.fail('accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(InvalidInputError);
        expect((err as Error).message).to.match(message);
      }
    });
  }

  it('refuses a truncated PNG with InvalidInputError', async () => {
    const png = await square(200, 200, { colour: true }).png({ compressionLevel: 0 }).toBuffer();
    try {
      await tensorOf(png.subarray(0, png.length / 2));
      expect.fail('accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(InvalidInputError);
    }
  });

  it('refuses an image over the pixel limit before decoding it', async () => {
    const png = await square(200, 200).png().toBuffer();
    try {
      await ImageInput.fromEncoded(png, { maxPixels: 10_000 });
      expect.fail('accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(PayloadTooLargeError);
      expect((err as Error).message).to.contain('200x200 pixels; the limit is 10000');
    }
  });

  it('encodes PNG files that decode to the very pixels, grey (as greyscale) and colour', async () => {
    for (const channels of [1, 3] as const) {
      const pixels = Uint8Array.from({ length: 5 * 3 * channels }, (_, i) => (i * 37) % 256);
      const png = await encodePng({ pixels, width: 5, height: 3, channels });
      expect(await sharp(png).metadata()).to.include({ format: 'png', width: 5, height: 3, channels });
      const decoded = await sharp(png).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer();
      expect([...decoded]).to.deep.equal([...pixels]);
    }
  });
});
