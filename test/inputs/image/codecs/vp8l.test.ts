import { expect } from 'chai';
import sharp from 'sharp';
import { openWebp } from '../../../../src/inputs/image/codecs/webp.js';
import { seededRandom } from '../../../../src/premodel/forest.js';

const maxPixels = 4096 * 4096;

/** libvips' own pixels of a WebP at its size (3 bands, or 4 with the alpha flag); undefined where it refuses the file. */
async function libvipsPixels(bytes: Uint8Array): Promise<{ data: Buffer; channels: number } | undefined> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    return { data, channels: info.channels };
  } catch {
    return undefined;
  }
}

/** The in-process decode at the image's own size; undefined where it declines. */
function ownSize(bytes: Uint8Array): { data: Buffer; channels: number } | undefined {
  const decoded = openWebp(bytes, maxPixels)?.decode();
  return decoded && { data: Buffer.from(decoded.samples.buffer, decoded.samples.byteOffset, decoded.samples.byteLength), channels: decoded.channels };
}

type Kind = 'noise' | 'gradient' | 'texture' | 'palette';

/** Directions of the ramps of 'texture', one per 8x8 tile, so that the predictor transform picks each of its modes somewhere. */
const RAMPS = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 1], [1, 2], [-1, 2], [3, -1], [0, 0]] as const;

/**
 * Pixels that push the encoder into each of its tools: noise (literals, the colour cache), smooth
 * gradients and tiles of ramps in every direction, some black (predictors, cross-colour), a few
 * colours (a palette: 2, 4 and 16 bundle 8, 4 and 2 pixels a byte); with alpha, transparent
 * blocks, translucent noise and opaque runs.
 */
function picture(width: number, height: number, channels: 1 | 3 | 4, kind: Kind, colours: number, random: () => number): Buffer {
  const palette = Array.from({ length: colours * channels }, () => Math.floor(random() * 256));
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * channels;
      const entry = (((x >> 2) + (y >> 1) * 3 + (random() < 0.1 ? 1 : 0)) % colours) * channels;
      const tile = (x >> 3) * 37 + (y >> 3) * 11;
      const [dx, dy] = RAMPS[tile % RAMPS.length]!;
      for (let c = 0; c < channels; c++) {
        if (c === 3) out[at + c] = ((x >> 3) + (y >> 3)) % 3 === 0 ? 0 : (x + y) % 5 === 0 ? Math.floor(random() * 256) : 255;
        else if (kind === 'noise') out[at + c] = Math.floor(random() * 256);
        else if (kind === 'gradient') out[at + c] = Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 6 + c) * Math.cos(y / 9) + random() * 6)));
        else if (kind === 'texture') out[at + c] = dx === 0 && dy === 0 ? 0 : ((x * dx + y * dy) * (3 + c) + tile + Math.floor(random() * 3)) & 0xff;
        else out[at + c] = palette[entry + c]!;
      }
      if (kind === 'palette' && channels === 4) out[at + 3] = palette[entry + 3]! < 80 ? 0 : palette[entry + 3]!;
    }
  }
  return out;
}

const sizes = [[1, 1], [3, 5], [17, 2], [28, 28], [56, 56], [100, 37], [112, 112]] as const;

describe('inputs/vp8l (in-process lossless WebP decoding: VP8L images, ALPH planes)', () => {
  it("decodes lossless WebPs of every size, channel count, content and effort to libvips' pixels, at their own size", async function () {
    this.timeout(60000);
    const random = seededRandom(41);
    const kinds: [Kind, number][] = [['noise', 0], ['gradient', 0], ['texture', 0], ['palette', 2], ['palette', 4], ['palette', 16], ['palette', 100]];
    let n = 0;
    for (const [width, height] of sizes) {
      for (const channels of [1, 3, 4] as const) {
        for (const [kind, colours] of kinds) {
          if (width * height > 3000 && (n + colours) % 3 !== 0) continue;
          const options: sharp.WebpOptions = { lossless: true, effort: n % 7, quality: [100, 1, 50, 75][n % 4], ...(n % 5 === 4 ? { nearLossless: true, quality: 20 + (n % 80) } : {}) };
          n++;
          const image = sharp(picture(width, height, channels, kind, colours, random), { raw: { width, height, channels } });
          const bytes = await (channels === 1 ? image.toColourspace('b-w') : image).webp(options).toBuffer();
          const what = `${width}x${height}x${channels} ${kind} ${colours} ${JSON.stringify(options)}`;
          const mine = ownSize(bytes);
          expect(mine, `${what}: fast path taken`).to.not.equal(undefined);
          const theirs = (await libvipsPixels(bytes))!;
          expect(mine!.channels, what).to.equal(theirs.channels);
          expect(mine!.data.equals(theirs.data), what).to.equal(true);
        }
      }
    }
    expect(n).to.be.above(60);
  });

  it('fails exactly where libwebp does on truncated and corrupted lossless streams, and otherwise gives its pixels', async () => {
    const random = seededRandom(7);
    const cases: [string, Buffer][] = [];
    for (let k = 0; k < 400; k++) {
      const [width, height] = [1 + Math.floor(random() * 40), 1 + Math.floor(random() * 40)];
      const channels = ([1, 3, 4] as const)[k % 3]!;
      const kind = (['noise', 'gradient', 'texture', 'palette'] as const)[Math.floor(k / 3) % 4]!;
      const pixels = picture(width, height, channels, kind, 1 + (k % 17), random);
      const bytes = await sharp(pixels, { raw: { width, height, channels } }).webp({ lossless: true, effort: k % 7 }).toBuffer();
      // The RIFF and chunk headers (20 bytes) and the VP8L header (5) stay; past them, bits of the
      // transforms, codes and pixels change, or the stream stops short (its sizes made to agree).
      const damaged = Buffer.from(bytes);
      if (k % 4 === 0) {
        const cut = 25 + Math.floor(random() * (bytes.length - 25));
        const truncated = damaged.subarray(0, cut + (cut & 1));
        truncated.writeUInt32LE(truncated.length - 8, 4);
        truncated.writeUInt32LE(truncated.length - 20 - (cut & 1 ? 1 : 0), 16);
        cases.push([`${width}x${height}x${channels} ${kind} cut at ${cut} of ${bytes.length}`, truncated]);
        continue;
      }
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) {
        const at = 25 + Math.floor(random() * (bytes.length - 25));
        damaged[at] = damaged[at]! ^ (1 << Math.floor(random() * 8));
      }
      cases.push([`${width}x${height}x${channels} ${kind} ${flips} bits flipped`, damaged]);
    }
    let [refused, decoded] = [0, 0];
    for (const [what, bytes] of cases) {
      const theirs = await libvipsPixels(bytes);
      const mine = ownSize(bytes);
      if (theirs === undefined) {
        refused++;
        expect(mine, `${what}: refused`).to.equal(undefined);
      } else {
        decoded++;
        expect(mine, `${what}: decoded`).to.not.equal(undefined);
        expect(mine!.channels, what).to.equal(theirs.channels);
        expect(mine!.data.equals(theirs.data), what).to.equal(true);
      }
    }
    expect(refused).to.be.above(50);
    expect(decoded).to.be.above(20);
  });

  it("decodes lossy frames' VP8L-coded alpha planes (ALPH), corrupted or not, to libwebp's, or leaves them to it", async () => {
    const random = seededRandom(13);
    let [exact, leftToLibwebp, refused] = [0, 0, 0];
    for (let k = 0; k < 200; k++) {
      const [width, height] = [1 + Math.floor(random() * 40), 1 + Math.floor(random() * 40)];
      const pixels = picture(width, height, 4, (['noise', 'gradient', 'texture', 'palette'] as const)[k % 4]!, 2 + (k % 15), random);
      const bytes = await sharp(pixels, { raw: { width, height, channels: 4 } }).webp({ quality: 60, alphaQuality: [100, 40, 5][k % 3]!, effort: k % 7 }).toBuffer();
      // RIFF (12 bytes), VP8X (18), then ALPH's header (8) and payload; past its first byte (method,
      // filter), bits flipped in all but every fourth file.
      if (bytes.toString('latin1', 30, 34) !== 'ALPH') continue;
      const alphaEnd = 38 + bytes.readUInt32LE(34);
      for (let f = 0; k % 4 !== 0 && f < 1 + (k % 3); f++) {
        const at = 39 + Math.floor(random() * (alphaEnd - 39));
        bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
      }
      const what = `${width}x${height} #${k}`;
      const theirs = await libvipsPixels(bytes);
      const mine = ownSize(bytes);
      if (theirs === undefined) {
        refused++;
        expect(mine, `${what}: refused`).to.equal(undefined);
      } else if (mine === undefined) {
        // Only a stream libwebp's 8-bit path reads past its end (wrapping its bit window) may be left to it.
        expect(k % 4, `${what}: undamaged`).to.not.equal(0);
        leftToLibwebp++;
      } else {
        exact++;
        expect(mine.data.equals(theirs.data), what).to.equal(true);
      }
    }
    expect(exact).to.be.above(60);
    expect(refused).to.be.above(20);
    expect(leftToLibwebp).to.be.below(exact / 10);
  });
});
