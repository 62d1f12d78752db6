import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { InvalidInputError } from '../../../../src/errors/index.js';
import { ImageInput } from '../../../../src/inputs/image/decode.js';
import { openPng } from '../../../../src/inputs/image/codecs/png.js';
import type { ImagePreprocessing } from '../../../../src/inputs/image/preprocessing.js';
import { seededRandom } from '../../../../src/premodel/forest.js';
import { writePng, type PngSpec } from './png-writer.js';

const limits = { maxPixels: 4096 * 4096 };

/** The preprocessings that exercise every conversion at a size: grey and colour, over black and over grey. */
function preps(width: number, height: number): ImagePreprocessing[] {
  const base = { type: 'image', width, height, fit: 'contain', mean: [0], std: [1] } as const;
  return [
    { ...base, channels: 1, background: 0 },
    { ...base, channels: 1, background: 200 },
    { ...base, channels: 3, background: 77, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] },
  ];
}

/** The tensors of `bytes` through the fast path and through sharp alone, for each preprocessing. */
async function bothWays(bytes: Uint8Array, prep: ImagePreprocessing): Promise<[number[], number[]]> {
  const fast = await (await ImageInput.fromEncoded(bytes, limits)).tensor(prep);
  const viaSharp = await (await ImageInput.fromEncoded(bytes, limits, { inProcess: false })).tensor(prep);
  return [Array.from(fast), Array.from(viaSharp)];
}

/** A PNG of every kind: samples random within the depth, some of them the tRNS key where there is one. */
function spec(colourType: PngSpec['colourType'], depth: PngSpec['depth'], width: number, height: number, options: { interlaced: boolean; transparent: boolean }): PngSpec {
  const random = seededRandom(colourType * 100 + depth + width);
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType];
  const top = colourType === 3 ? Math.min(2 ** depth, 5) : 2 ** depth;
  const samples = Array.from({ length: width * height * channels }, () => Math.floor(random() * top));
  const key = [0, 1, 2].map((c) => samples[c]!); // the first pixel's samples: transparent wherever they recur
  if (options.transparent && colourType !== 3) for (let i = 0; i < samples.length; i += channels * 3) samples.splice(i, channels, ...key.slice(0, channels));
  const palette = colourType === 3 ? Uint8Array.from({ length: 3 * top }, () => Math.floor(random() * 256)) : undefined;
  const transparency = !options.transparent ? undefined : colourType === 3 ? Uint8Array.from([0, 128, 255].slice(0, top)) : Uint8Array.from(key.slice(0, channels).flatMap((v) => [v >> 8, v & 255]));
  return { width, height, colourType, depth, samples, palette, transparency, interlaced: options.interlaced };
}

const KINDS: [PngSpec['colourType'], PngSpec['depth'][]][] = [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]];

describe('inputs/png (in-process PNG decoding)', () => {
  for (const [colourType, depths] of KINDS) {
    for (const depth of depths) {
      it(`decodes colour type ${colourType} at ${depth} bits to exactly sharp's pixels, interlaced or not, with or without tRNS`, async () => {
        for (const [width, height] of [[28, 28], [13, 7], [1, 1]] as const) {
          for (const interlaced of [false, true]) {
            for (const transparent of colourType === 4 || colourType === 6 ? [false] : [false, true]) {
              const what = `${width}x${height}${interlaced ? ' interlaced' : ''}${transparent ? ' tRNS' : ''}`;
              const bytes = writePng(spec(colourType, depth, width, height, { interlaced, transparent }));
              expect(openPng(bytes, limits.maxPixels)?.decode(), `${what}: fast path taken`).to.not.equal(undefined);
              for (const prep of preps(width, height)) {
                const [fast, viaSharp] = await bothWays(bytes, prep);
                expect(fast, `${what} to ${prep.channels} on ${prep.background}`).to.deep.equal(viaSharp);
              }
            }
          }
        }
      });
    }
  }

  it("decodes sharp's own PNGs (and a client's, of the fashion fixtures) exactly, whatever filters and compression it chose", async () => {
    const fixture = readFileSync('test/fixtures/fashion/test-0-class-9.png');
    const random = seededRandom(3);
    const noise = Buffer.from(Array.from({ length: 57 * 13 * 4 }, () => Math.floor(random() * 256)));
    const cases: [string, Buffer][] = [
      ['fixture', fixture],
      ['fixture as RGBA, enlarged', await sharp(fixture).ensureAlpha(0.5).resize(112, 112).png({ adaptiveFiltering: true }).toBuffer()],
      ['noise RGBA', await sharp(noise, { raw: { width: 57, height: 13, channels: 4 } }).png({ compressionLevel: 0 }).toBuffer()],
      ['noise palette', await sharp(noise, { raw: { width: 57, height: 13, channels: 4 } }).png({ palette: true, colours: 7 }).toBuffer()],
    ];
    for (const [what, bytes] of cases) {
      const { width, height } = openPng(bytes, limits.maxPixels)!;
      for (const prep of preps(width, height)) {
        const [fast, viaSharp] = await bothWays(bytes, prep);
        expect(fast, what).to.deep.equal(viaSharp);
      }
    }
  });

  it('leaves to sharp the resampling to another size, and what it would convert (ICC profile, EXIF rotation)', async () => {
    const bytes = writePng(spec(6, 8, 40, 33, { interlaced: false, transparent: false }));
    for (const prep of preps(28, 28)) {
      const [fast, viaSharp] = await bothWays(bytes, prep);
      expect(fast).to.deep.equal(viaSharp);
    }
    const grey = sharp(Buffer.alloc(28 * 28, 9), { raw: { width: 28, height: 28, channels: 1 } });
    expect(openPng(await grey.clone().withIccProfile('srgb').png().toBuffer(), limits.maxPixels), 'ICC').to.equal(undefined);
    expect(openPng(await grey.clone().withMetadata({ orientation: 6 }).png().toBuffer(), limits.maxPixels), 'EXIF').to.equal(undefined);
    expect(openPng(writePng(spec(0, 8, 28, 28, { interlaced: false, transparent: false })), 28 * 28 - 1), 'over the pixel limit').to.equal(undefined);
  });

  it('refuses a truncated or corrupt PNG as sharp does, with InvalidInputError', async () => {
    const bytes = writePng(spec(2, 8, 28, 28, { interlaced: false, transparent: false }));
    const idat = bytes.indexOf('IDAT');
    const length = bytes.readUInt32BE(idat - 4);
    // Damaged deflate data behind a checksum that matches it: the header reads, the pixels do not.
    const corrupt = Buffer.from(bytes);
    corrupt.fill(0xff, idat + 6, idat + 4 + length);
    corrupt.writeUInt32BE(crc32(corrupt.subarray(idat, idat + 4 + length)), idat + 4 + length);
    const badChecksum = Buffer.from(bytes);
    badChecksum[idat + 10]! ^= 0xff;
    const cases: [string, Buffer][] = [['truncated', bytes.subarray(0, bytes.length - 30)], ['corrupt deflate stream', corrupt], ['bad checksum', badChecksum], ['header only', bytes.subarray(0, 33)]];
    for (const [what, damaged] of cases) {
      const outcome = async (inProcess: boolean) => {
        try {
          await (await ImageInput.fromEncoded(damaged, limits, { inProcess })).tensor(preps(28, 28)[0]!);
          return 'accepted';
        } catch (err) {
          expect(err, what).to.be.instanceOf(InvalidInputError);
          return (err as Error).message;
        }
      };
      const fast = await outcome(true);
      expect(fast, what).to.not.equal('accepted');
      expect(fast, what).to.equal(await outcome(false));
    }
  });
});
