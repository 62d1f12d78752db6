import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { InvalidInputError } from '../../../../src/errors/index.js';
import { decodeImageFile, ImageInput } from '../../../../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../../../../src/inputs/image/encode.js';
import { openJpeg } from '../../../../src/inputs/image/codecs/jpeg.js';
import type { ImagePreprocessing } from '../../../../src/inputs/image/preprocessing.js';
import { seededRandom } from '../../../../src/premodel/forest.js';
import { differenceFromSharp, limits } from '../against-sharp.js';

/**
 * Largest difference allowed between a fast-path pixel and sharp's, in levels of 255. Measured: 0,
 * for every size, quality and chroma layout here: the decoder is libjpeg-turbo's integer arithmetic.
 */
const TOLERANCE = 0;

function preps(width: number, height: number): ImagePreprocessing[] {
  const base = { type: 'image', width, height, fit: 'contain', mean: [0], std: [1] } as const;
  return [{ ...base, channels: 1, background: 0 }, { ...base, channels: 3, background: 0, mean: [0, 0, 0], std: [1, 1, 1] }];
}


const fashion = readdirSync('test/fixtures/fashion').filter((f) => f.endsWith('.png')).slice(0, 3);

describe('inputs/jpeg (in-process baseline JPEG decoding)', () => {
  it("decodes the fashion fixtures as clients send them (JPEG at every quality and size of encode.ts) to sharp's pixels", async () => {
    for (const file of fashion) {
      const image = await decodeImageFile(readFileSync(`test/fixtures/fashion/${file}`));
      for (const encoding of CLIENT_ENCODINGS.filter((e) => e.format === 'jpeg')) {
        const bytes = await encodeLikeClient(image, encoding);
        const { width, height } = (await sharp(bytes).metadata()) as { width: number; height: number };
        expect(openJpeg(bytes, limits.maxPixels)?.decode(), `${encoding.id}: fast path taken`).to.not.equal(undefined);
        for (const prep of preps(width, height)) expect(await differenceFromSharp(bytes, prep), `${file} ${encoding.id}`).to.be.at.most(TOLERANCE);
      }
    }
  });

  it('decodes colour noise at odd sizes, 4:2:0 and 4:4:4, and grey JPEGs, at several qualities', async () => {
    const random = seededRandom(11);
    for (const [width, height] of [[28, 28], [29, 31], [3, 5], [4, 4], [17, 2], [56, 40]] as const) {
      const noise = Buffer.from(Array.from({ length: width * height * 3 }, () => Math.floor(random() * 256)));
      const colour = sharp(noise, { raw: { width, height, channels: 3 } });
      for (const quality of [50, 75, 92]) {
        const cases: [string, Buffer][] = [
          ['4:2:0', await colour.clone().jpeg({ quality }).toBuffer()],
          ['4:4:4', await colour.clone().jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer()],
          ['grey', await colour.clone().toColourspace('b-w').jpeg({ quality }).toBuffer()],
        ];
        for (const [layout, bytes] of cases) {
          expect(openJpeg(bytes, limits.maxPixels)?.decode(), `${layout} ${width}x${height}: fast path taken`).to.not.equal(undefined);
          for (const prep of preps(width, height)) {
            expect(await differenceFromSharp(bytes, prep), `${layout} ${width}x${height} q${quality} to ${prep.channels}`).to.be.at.most(TOLERANCE);
          }
        }
      }
    }
  });

  it('decodes JPEGs of tables optimised for each, in turn with ones of the standard tables: a table built once serves only its own bytes', async () => {
    const random = seededRandom(5);
    const images = Array.from({ length: 4 }, () => Buffer.from(Array.from({ length: 24 * 24 * 3 }, () => Math.floor(random() * 256))));
    const files: Buffer[] = [];
    for (const pixels of images) {
      const colour = sharp(pixels, { raw: { width: 24, height: 24, channels: 3 } });
      files.push(await colour.clone().jpeg({ quality: 90, optimiseCoding: true }).toBuffer(), await colour.clone().jpeg({ quality: 60, optimiseCoding: false }).toBuffer());
    }
    // Twice over: the second pass decodes every file with the tables the first built.
    for (const bytes of [...files, ...files]) {
      expect(openJpeg(bytes, limits.maxPixels)?.decode(), 'fast path taken').to.not.equal(undefined);
      for (const prep of preps(24, 24)) expect(await differenceFromSharp(bytes, prep)).to.be.at.most(TOLERANCE);
    }
  });

  it('decodes a colour JPEG of a grey picture (chroma 128 throughout) to its luma alone, and one with any colour to RGB', async () => {
    const random = seededRandom(12);
    const [width, height] = [37, 21];
    const grey = Buffer.from(Array.from({ length: width * height }, () => Math.floor(random() * 256)));
    const rgb = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => grey[Math.floor(i / 3)]!));
    // A red patch: its blocks' chroma is not 128.
    const tinted = Buffer.from(rgb);
    for (let y = 8; y < 16; y++) for (let x = 8; x < 16; x++) tinted.set([255, 0, 0], 3 * (y * width + x));
    for (const [pixels, channels] of [[rgb, 1], [tinted, 3]] as const) {
      for (const chromaSubsampling of ['4:2:0', '4:4:4']) {
        const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85, chromaSubsampling }).toBuffer();
        expect(openJpeg(bytes, limits.maxPixels)!.decode()!.channels, `${channels} ${chromaSubsampling}`).to.equal(channels);
        for (const prep of [...preps(width, height), ...preps(28, 28)]) {
          expect(await differenceFromSharp(bytes, prep), `${channels} ${chromaSubsampling} to ${prep.width}x${prep.channels}`).to.be.at.most(TOLERANCE);
        }
      }
    }
  });

  it('leaves progressive JPEGs, EXIF-rotated ones, those with an ICC profile and over-limit ones to sharp', async () => {
    const image = sharp(Buffer.alloc(28 * 28 * 3, 90), { raw: { width: 28, height: 28, channels: 3 } });
    expect(openJpeg(await image.clone().jpeg({ progressive: true }).toBuffer(), limits.maxPixels), 'progressive').to.equal(undefined);
    expect(openJpeg(await image.clone().withMetadata({ orientation: 6 }).jpeg().toBuffer(), limits.maxPixels), 'rotated').to.equal(undefined);
    expect(openJpeg(await image.clone().withIccProfile('p3').jpeg().toBuffer(), limits.maxPixels), 'ICC').to.equal(undefined);
    expect(openJpeg(await image.clone().jpeg().toBuffer(), 28 * 28 - 1), 'over the limit').to.equal(undefined);
    const rotated = await image.clone().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(await differenceFromSharp(rotated, preps(28, 28)[0]!)).to.equal(0);
  });

  it('treats a truncated or corrupt JPEG as sharp does: the same InvalidInputError, or the same pixels where libjpeg recovers', async () => {
    const random = seededRandom(5);
    const noise = Buffer.from(Array.from({ length: 28 * 28 * 3 }, () => Math.floor(random() * 256)));
    const bytes = await sharp(noise, { raw: { width: 28, height: 28, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const scan = bytes.indexOf(Buffer.from([0xff, 0xda]));
    const flipped = Buffer.from(bytes);
    for (let i = scan + 20; i < bytes.length - 2; i += 37) flipped[i] = flipped[i] === 0xff ? 0 : flipped[i]! ^ 0x5a;
    const cases: [string, Buffer][] = [
      ['truncated in the scan', bytes.subarray(0, scan + 60)],
      ['truncated in the headers', bytes.subarray(0, scan - 40)],
      ['bytes flipped in the scan', flipped],
      ['no end of image', bytes.subarray(0, bytes.length - 2)],
    ];
    for (const [what, damaged] of cases) {
      const outcome = async (inProcess: boolean) => {
        try {
          return Array.from(await (await ImageInput.fromEncoded(damaged, limits, { inProcess })).tensor(preps(28, 28)[0]!));
        } catch (err) {
          expect(err, what).to.be.instanceOf(InvalidInputError);
          return (err as Error).message;
        }
      };
      expect(await outcome(true), what).to.deep.equal(await outcome(false));
    }
  });
});
