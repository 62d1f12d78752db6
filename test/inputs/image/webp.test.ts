import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { InvalidInputError } from '../../../src/errors/index.js';
import { decodeImageFile, ImageInput } from '../../../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../../../src/inputs/image/encode.js';
import { encodingGroup } from '../../../src/inputs/image/observed.js';
import type { ImagePreprocessing } from '../../../src/inputs/image/preprocessing.js';
import { planResize } from '../../../src/inputs/image/resize.js';
import { openWebp } from '../../../src/inputs/image/webp.js';
import { seededRandom } from '../../../src/premodel/forest.js';

const limits = { maxPixels: 4096 * 4096 };

/** libvips' own pixels of a WebP at its size: 3 bands, or 4 with the alpha flag. */
async function libvipsPixels(bytes: Uint8Array): Promise<{ data: Buffer; channels: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

/** The in-process decode at the image's own size, as libvips' bands. */
function ownSize(bytes: Uint8Array): { data: Buffer; channels: number } | undefined {
  const decoded = openWebp(bytes, limits.maxPixels)?.decode();
  return decoded && { data: Buffer.from(decoded.samples.buffer, decoded.samples.byteOffset, decoded.samples.byteLength), channels: decoded.channels };
}

function preps(width: number, height: number): ImagePreprocessing[] {
  const base = { type: 'image', width, height, mean: [0], std: [1] } as const;
  return [
    { ...base, channels: 1, fit: 'contain', background: 0 },
    { ...base, channels: 3, fit: 'cover', background: 77, mean: [0, 0, 0], std: [1, 1, 1] },
    { ...base, channels: 1, fit: 'fill', background: 200 },
  ];
}

/** The fast path's tensor against sharp's alone: the largest difference in levels, and whether the fast path made it. */
async function compared(bytes: Uint8Array, prep: ImagePreprocessing): Promise<number> {
  const fast = await ImageInput.fromEncoded(bytes, limits);
  const viaSharp = await ImageInput.fromEncoded(bytes, limits, { inProcess: false });
  expect(fast.observed).to.deep.equal(viaSharp.observed);
  expect(encodingGroup(fast.observed, 28, 28)).to.equal(encodingGroup(viaSharp.observed, 28, 28));
  const [a, b] = [await fast.tensor(prep), await viaSharp.tensor(prep)];
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!) * 255), 0);
}

/** Smooth shading, hard edges and noise, so that every predictor, filter and token path is exercised. */
function picture(width: number, height: number, channels: 1 | 3, random: () => number, kind: number): Buffer {
  return Buffer.from(Array.from({ length: width * height * channels }, (_, i) => {
    const [x, y, c] = [Math.floor(i / channels) % width, Math.floor(i / channels / width), i % channels];
    if (kind === 0) return Math.floor(random() * 256);
    if (kind === 1) return ((x >> 2) + (y >> 3)) % 2 === 0 ? 20 + c * 40 : 230 - c * 30;
    return Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 5 + c) * Math.cos(y / 7) + random() * 30 - 15)));
  }));
}

/** A one-frame animation of a simple lossy WebP's frame (28x28): VP8X with the animation flag, ANIM, and an ANMF around the VP8 chunk. */
function animation(simple: Buffer): Buffer {
  const chunk = (tag: string, payload: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(tag, 0, 'latin1');
    header.writeUInt32LE(payload.length, 4);
    return Buffer.concat([header, payload, Buffer.alloc(payload.length & 1)]);
  };
  const side = (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff, v >> 16]);
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), side(27), side(27)]);
  const frame = Buffer.concat([side(0), side(0), side(27), side(27), side(100), Buffer.from([0]), simple.subarray(12)]);
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), chunk('VP8X', vp8x), chunk('ANIM', Buffer.alloc(6)), chunk('ANMF', frame)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

const fashion = readdirSync('test/fixtures/fashion').filter((f) => f.endsWith('.png')).slice(0, 3);

describe('inputs/webp (in-process lossy WebP decoding)', () => {
  it("decodes lossy WebPs of many sizes, qualities, presets and filter strengths to libvips' pixels, at their own size", async () => {
    const random = seededRandom(17);
    const presets = ['default', 'photo', 'picture', 'drawing', 'icon', 'text'] as const;
    let n = 0;
    for (const [width, height] of [[1, 1], [3, 5], [16, 16], [17, 2], [28, 28], [29, 31], [56, 40], [64, 64], [100, 37]] as const) {
      for (const channels of [1, 3] as const) {
        for (const kind of [0, 1, 2]) {
          const options: sharp.WebpOptions = { quality: 1 + Math.floor(random() * 100), preset: presets[n % 6], effort: n % 7, smartSubsample: n % 4 === 0 };
          n++;
          const bytes = await sharp(picture(width, height, channels, random, kind), { raw: { width, height, channels } }).webp(options).toBuffer();
          const what = `${width}x${height}x${channels} kind ${kind} ${JSON.stringify(options)}`;
          const mine = ownSize(bytes);
          expect(mine, `${what}: fast path taken`).to.not.equal(undefined);
          const theirs = await libvipsPixels(bytes);
          expect(mine!.channels, what).to.equal(theirs.channels);
          expect(mine!.data.equals(theirs.data), what).to.equal(true);
        }
      }
    }
  });

  it("reproduces sharp's resize of lossy WebPs (libwebp's scaled decoding on load, then lanczos3) wherever it takes them", async () => {
    const random = seededRandom(23);
    const loads = new Set<string>();
    let taken = 0;
    for (const [width, height] of [[14, 14], [20, 15], [56, 56], [57, 55], [83, 29], [100, 60], [112, 112], [200, 37]] as const) {
      const bytes = await sharp(picture(width, height, 3, random, 2), { raw: { width, height, channels: 3 } }).webp({ quality: 70 }).toBuffer();
      for (const [w, h] of [[28, 28], [32, 24], [50, 50]] as const) {
        for (const prep of preps(w, h)) {
          expect(await compared(bytes, prep), `${width}x${height} to ${w}x${h} ${prep.fit}`).to.equal(0);
          const plan = planResize(width, height, 'webp', prep);
          if (plan === undefined) continue;
          taken++;
          loads.add(plan.load.shrink === 1 ? 'own size' : Number.isInteger(plan.load.shrink) ? 'whole shrink' : 'fractional shrink');
        }
      }
    }
    expect(taken).to.be.above(40);
    expect([...loads].sort()).to.deep.equal(['fractional shrink', 'own size', 'whole shrink']);
  });

  it('decodes the fashion fixtures as clients send them (lossy WebP at every quality and size of encode.ts) to sharp\'s tensors', async () => {
    for (const file of fashion) {
      const image = await decodeImageFile(readFileSync(`test/fixtures/fashion/${file}`));
      for (const encoding of CLIENT_ENCODINGS.filter((e) => e.format === 'webp' && e.quality !== undefined)) {
        const bytes = await encodeLikeClient(image, encoding);
        const { width, height } = (await sharp(bytes).metadata()) as { width: number; height: number };
        expect(ownSize(bytes), `${encoding.id}: fast path taken`).to.not.equal(undefined);
        for (const prep of [...preps(width, height), ...preps(28, 28)]) expect(await compared(bytes, prep), `${file} ${encoding.id}`).to.equal(0);
      }
    }
  });

  it('leaves lossless, alpha, animated, ICC-tagged, EXIF-rotated and over-limit WebPs to sharp', async () => {
    const image = sharp(Buffer.alloc(28 * 28 * 4, 90), { raw: { width: 28, height: 28, channels: 4 } });
    const opaque = image.clone().removeAlpha();
    expect(openWebp(await opaque.clone().webp({ lossless: true }).toBuffer(), limits.maxPixels), 'lossless').to.equal(undefined);
    expect(openWebp(await image.clone().webp({ quality: 80 }).toBuffer(), limits.maxPixels), 'alpha').to.equal(undefined);
    expect(openWebp(await opaque.clone().withIccProfile('p3').webp().toBuffer(), limits.maxPixels), 'ICC').to.equal(undefined);
    const rotated = await opaque.clone().withMetadata({ orientation: 6 }).webp().toBuffer();
    expect(openWebp(rotated, limits.maxPixels), 'rotated').to.equal(undefined);
    const animated = animation(await opaque.clone().webp().toBuffer());
    expect((await sharp(animated).metadata()).pages, 'animated').to.equal(1);
    expect(openWebp(animated, limits.maxPixels), 'animated').to.equal(undefined);
    expect(await compared(animated, preps(28, 28)[1]!)).to.equal(0);
    expect(openWebp(await opaque.clone().webp().toBuffer(), 28 * 28 - 1), 'over the limit').to.equal(undefined);
    expect(await compared(rotated, preps(28, 28)[0]!)).to.equal(0);
  });

  it('treats a truncated or corrupt WebP as sharp does: the same InvalidInputError, or the same pixels where libwebp decodes it', async () => {
    const random = seededRandom(5);
    const cases: [string, Buffer, number, number][] = [];
    for (let k = 0; k < 300; k++) {
      const [width, height] = [8 + Math.floor(random() * 60), 8 + Math.floor(random() * 60)];
      const bytes = await sharp(picture(width, height, 3, random, 0), { raw: { width, height, channels: 3 } }).webp({ quality: 1 + Math.floor(random() * 100) }).toBuffer();
      if (k === 0) {
        cases.push(['truncated in the frame', bytes.subarray(0, bytes.length - 200), width, height], ['truncated in the header', bytes.subarray(0, 24), width, height]);
        cases.push(['RIFF size past the end', Buffer.concat([bytes.subarray(0, 4), Buffer.from([0xff, 0xff, 0, 0]), bytes.subarray(8)]), width, height]);
      }
      // Past the chunk and frame headers (20 + 10 bytes), bytes of the partitions changed: some
      // streams fail, most decode to other pixels, a few to sums libwebp's SIMD code wraps.
      const flipped = Buffer.from(bytes);
      const skip = Math.floor(random() * 40);
      for (let i = 30 + skip; i < flipped.length; i += 29 + skip * 7) flipped[i] = flipped[i]! ^ (1 + Math.floor(random() * 255));
      cases.push([`${width}x${height} bytes changed from ${30 + skip}`, flipped, width, height]);
    }
    for (const [what, damaged, width, height] of cases) {
      const outcome = async (inProcess: boolean) => {
        try {
          return Buffer.from((await (await ImageInput.fromEncoded(damaged, limits, { inProcess })).tensor(preps(width, height)[1]!)).buffer);
        } catch (err) {
          expect(err, what).to.be.instanceOf(InvalidInputError);
          return (err as Error).message;
        }
      };
      expect(await outcome(true), what).to.deep.equal(await outcome(false));
    }
  });
});
