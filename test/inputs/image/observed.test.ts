import { expect } from 'chai';
import sharp from 'sharp';
import { encodingGroup, jpegQuality, observeEncoded, observePixels, webpLossy } from '../../../src/inputs/image/observed.js';

const pixels = Buffer.from(Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 7) % 256));
const image = () => sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } });

describe('inputs/image/observed', () => {
  it("reads a JPEG's quality from its luminance table, as libjpeg scaled it", async () => {
    for (const quality of [30, 50, 75, 80, 92, 100]) {
      const jpeg = await image().jpeg({ quality }).toBuffer();
      expect(jpegQuality(jpeg), `quality ${quality}`).to.be.within(quality - 1, quality + 1);
    }
    expect(jpegQuality(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2])), 'no table before the scan').to.equal(undefined);
    expect(jpegQuality(Buffer.from('not a jpeg')), 'not a marker').to.equal(undefined);
  });

  it('tells a lossy WebP from a lossless one, with or without an extended header', async () => {
    expect(webpLossy(await image().webp({ quality: 80 }).toBuffer())).to.equal(true);
    expect(webpLossy(await image().webp({ lossless: true }).toBuffer())).to.equal(false);
    const withAlpha = sharp(Buffer.alloc(32 * 32 * 4, 200), { raw: { width: 32, height: 32, channels: 4 } });
    expect(webpLossy(await withAlpha.clone().webp({ quality: 80 }).toBuffer()), 'VP8X then ALPH then VP8').to.equal(true);
    expect(webpLossy(await withAlpha.webp({ lossless: true }).toBuffer())).to.equal(false);
  });

  it('buckets an encoding by lossless or quality, and by its size against the model\'s', async () => {
    const jpeg = (quality: number) => image().jpeg({ quality }).toBuffer();
    expect(encodingGroup(observeEncoded(await jpeg(95), 'jpeg', 32, 32), 32, 32)).to.equal('jpeg-high@native');
    expect(encodingGroup(observeEncoded(await jpeg(80), 'jpeg', 64, 64), 32, 32)).to.equal('jpeg-mid@larger');
    expect(encodingGroup(observeEncoded(await jpeg(40), 'jpeg', 16, 16), 32, 32)).to.equal('jpeg-low@smaller');
    expect(encodingGroup(observeEncoded(await image().png().toBuffer(), 'png', 32, 32), 28, 28)).to.equal('lossless@native');
    expect(encodingGroup(observeEncoded(await image().webp({ quality: 60 }).toBuffer(), 'webp', 32, 32), 28, 28)).to.equal('webp-lossy@native');
    expect(encodingGroup(observePixels(28, 28), 28, 28), 'pixels as a data set or a tensor sends them').to.equal('lossless@native');
  });
});
