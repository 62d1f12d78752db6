import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { flattenedGrey, toColourspace, type ImageFormat, type OpenedImage } from '../../../src/inputs/image/colour.js';
import { decodeImageFile, ImageInput } from '../../../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../../../src/inputs/image/encode.js';
import { openJpeg } from '../../../src/inputs/image/codecs/jpeg.js';
import { openPng } from '../../../src/inputs/image/codecs/png.js';
import type { ImagePreprocessing } from '../../../src/inputs/image/preprocessing.js';
import { planResize, resample } from '../../../src/inputs/image/resize.js';
import { openWebp } from '../../../src/inputs/image/codecs/webp.js';
import { seededRandom } from '../../../src/premodel/forest.js';
import { differenceFromSharp, limits } from './against-sharp.js';


/** Tensors of the pixels themselves: interleaved, pixel / 255. */
function prep(width: number, height: number, fit: ImagePreprocessing['fit'], channels: 1 | 3, background: number): ImagePreprocessing {
  return { type: 'image', width, height, channels, fit, background, mean: channels === 1 ? [0] : [0, 0, 0], std: channels === 1 ? [1] : [1, 1, 1], layout: 'nhwc' };
}

/** Grey and colour models, over black and over grey, with each fit. */
const PREPS = (width: number, height: number) => [prep(width, height, 'contain', 1, 0), prep(width, height, 'cover', 3, 77), prep(width, height, 'fill', 1, 200)];


/**
 * The pixels the in-process path makes of a resized image, whatever decode.ts's size limits:
 * undefined where it leaves the image to sharp (no plan, 16 bits, a decoder that declines).
 */
function resizedInProcess(bytes: Uint8Array, p: ImagePreprocessing): Uint8Array | undefined {
  const [format, opened]: [ImageFormat, OpenedImage | undefined] = bytes[0] === 0x89 ? ['png', openPng(bytes, limits.maxPixels)]
    : bytes[0] === 0xff ? ['jpeg', openJpeg(bytes, limits.maxPixels)]
    : ['webp', openWebp(bytes, limits.maxPixels)];
  const plan = opened === undefined ? undefined : planResize(opened.width, opened.height, format, p);
  const decoded = plan === undefined ? undefined : opened!.decode(plan.load);
  if (plan === undefined || decoded === undefined || decoded.samples instanceof Uint16Array) return undefined;
  return toColourspace(resample(flattenedGrey(decoded, p.background), plan, p.background), p.channels);
}

/** sharp's own pixels for `p`, from its tensor. */
async function sharpPixels(bytes: Uint8Array, p: ImagePreprocessing): Promise<Uint8Array> {
  const tensor = await (await ImageInput.fromEncoded(bytes, limits, { inProcess: false })).tensor(p);
  return Uint8Array.from(tensor, (v) => Math.round(v * 255));
}

/** The largest difference, in levels, between two images' bytes. */
function difference(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).to.equal(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
}

describe('inputs/image/resize (sharp\'s resize, in-process)', () => {
  it('reproduces sharp on every client encoding of the fashion fixtures, resizing every PNG, baseline JPEG and WebP in-process', async () => {
    const expected = ['png-rgba-cutout-4x', 'png-rgb-2x', 'png-rgb-half', 'jpeg-92-4x', 'jpeg-75-2x', 'jpeg-50-8x', 'webp-80-4x', 'webp-50-2x', 'webp-lossless-rgba-2x'];
    for (const file of readdirSync('test/fixtures/fashion').filter((f) => f.endsWith('.png'))) {
      const image = await decodeImageFile(readFileSync(`test/fixtures/fashion/${file}`));
      const taken: string[] = [];
      for (const encoding of CLIENT_ENCODINGS) {
        const bytes = await encodeLikeClient(image, encoding);
        for (const p of PREPS(28, 28)) {
          expect(await differenceFromSharp(bytes, p), `${file} ${encoding.id} ${p.fit}`).to.equal(0);
          if (encoding.scale !== 1 && resizedInProcess(bytes, p) !== undefined && !taken.includes(encoding.id)) taken.push(encoding.id);
        }
      }
      // The sizes of their own are png.test.ts's, jpeg.test.ts's and webp.test.ts's.
      expect(taken, file).to.deep.equal(expected);
    }
  });

  it('reproduces sharp on grey, grey+alpha, RGB and RGBA PNGs (of colour and of grey pictures) and grey, 4:2:0 and 4:4:4 JPEGs of many sizes and aspect ratios, wherever it takes them', async () => {
    const random = seededRandom(5);
    const sizes = [[14, 14], [20, 15], [9, 30], [56, 56], [112, 112], [57, 55], [100, 60], [300, 200], [83, 29], [29, 83], [200, 37]] as const;
    let [taken, shrunkOnLoad] = [0, new Set<number>()];
    for (const [width, height] of sizes) {
      // A grey picture in RGB or RGBA (R = G = B) is resized from its one channel (colour.ts's flattenedGrey).
      for (const [channels, greyPicture] of [[1, false], [2, false], [3, false], [4, false], [3, true], [4, true]] as const) {
        // Smooth shading with noise (and, with alpha, transparent and translucent patches): ringing and clipping both show.
        const noise = Array.from({ length: width * height * channels }, () => random() * 40 - 20);
        const pixels = Buffer.from(Array.from({ length: width * height * channels }, (_, i) => {
          const [x, y, c] = [Math.floor(i / channels) % width, Math.floor(i / channels / width), i % channels];
          if (c === channels - 1 && channels % 2 === 0) return ((x >> 3) + (y >> 3)) % 3 === 0 ? 0 : random() < 0.2 ? Math.floor(random() * 256) : 255;
          const shade = greyPicture ? 0 : c;
          return Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 5 + shade) * Math.cos(y / 7) + noise[i - c + shade]!)));
        }));
        const image = sharp(pixels, { raw: { width, height, channels } });
        const grey = () => image.clone().toColourspace('b-w');
        const files = channels % 2 === 0 ? [await image.clone().png().toBuffer()]
          : channels === 1 ? [await grey().png().toBuffer(), await grey().jpeg({ quality: 80 }).toBuffer()]
          : [await image.clone().png().toBuffer(), await image.clone().jpeg({ quality: 80 }).toBuffer(), await image.clone().jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer()];
        for (const bytes of files) {
          for (const [w, h] of [[28, 28], [32, 24], [50, 50]] as const) {
            for (const p of PREPS(w, h)) {
              const pixels = resizedInProcess(bytes, p);
              if (pixels === undefined) continue;
              taken++;
              if (bytes[0] !== 0x89) shrunkOnLoad.add(planResize(width, height, 'jpeg', p)!.load.shrink);
              expect(difference(pixels, await sharpPixels(bytes, p)), `${width}x${height}x${channels} ${bytes[0] === 0x89 ? 'png' : 'jpeg'} to ${w}x${h} ${p.fit}`).to.equal(0);
            }
          }
        }
      }
    }
    expect(taken).to.be.above(300);
    expect([...shrunkOnLoad].sort()).to.deep.equal([1, 2, 4, 8]);
  });

  it("letterboxes a grey image with the very background grey sharp uses, for every grey", async () => {
    const bytes = await sharp(Buffer.alloc(56 * 28, 128), { raw: { width: 56, height: 28, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    for (let background = 0; background < 256; background++) {
      const p = prep(28, 28, 'contain', 1, background);
      expect(difference(resizedInProcess(bytes, p)!, await sharpPixels(bytes, p)), `background ${background}`).to.equal(0);
    }
  });

  it("takes sharp's JPEG shrink-on-load (a power of two, one short of an exact one), and leaves to sharp what depends on libvips' tiling", () => {
    const square = prep(28, 28, 'contain', 1, 0);
    expect([56, 112, 224, 448, 300].map((side) => planResize(side, side, 'jpeg', square)?.load.shrink)).to.deep.equal([1, 2, 4, 8, 8]);
    expect(planResize(224, 224, 'png', square)?.load.shrink).to.equal(1);
    expect(planResize(14, 14, 'png', square)?.enlarge?.horizontal.size).to.equal(28);
    // A shrink of 60 / 28: the phases of sampling points summed from a region's first pixel vary with that pixel.
    expect(planResize(100, 60, 'png', prep(28, 28, 'cover', 1, 0))).to.equal(undefined);
  });
});
