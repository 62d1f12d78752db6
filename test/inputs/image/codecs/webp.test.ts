import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { InvalidInputError } from '../../../../src/errors/index.js';
import { decodeImageFile, ImageInput } from '../../../../src/inputs/image/decode.js';
import { CLIENT_ENCODINGS, encodeLikeClient } from '../../../../src/inputs/image/encode.js';
import type { ImagePreprocessing } from '../../../../src/inputs/image/preprocessing.js';
import { planResize } from '../../../../src/inputs/image/resize.js';
import { openWebp } from '../../../../src/inputs/image/codecs/webp.js';
import { seededRandom } from '../../../../src/premodel/forest.js';
import { differenceFromSharp, limits } from '../against-sharp.js';


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


/** Smooth shading, hard edges and noise, so that every predictor, filter and token path is exercised. */
function picture(width: number, height: number, channels: 1 | 3, random: () => number, kind: number): Buffer {
  return Buffer.from(Array.from({ length: width * height * channels }, (_, i) => {
    const [x, y, c] = [Math.floor(i / channels) % width, Math.floor(i / channels / width), i % channels];
    if (kind === 0) return Math.floor(random() * 256);
    if (kind === 1) return ((x >> 2) + (y >> 3)) % 2 === 0 ? 20 + c * 40 : 230 - c * 30;
    return Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 5 + c) * Math.cos(y / 7) + random() * 30 - 15)));
  }));
}

/** A RIFF chunk: tag, size, payload, padding. */
function chunk(tag: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(tag, 0, 'latin1');
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload, Buffer.alloc(payload.length & 1)]);
}

/** A WebP file of `chunks`. */
function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** 24-bit little-endian, as VP8X and ANMF store sizes less one. */
const side = (v: number) => Buffer.from([v & 0xff, (v >> 8) & 0xff, v >> 16]);

/** A one-frame animation of a simple lossy WebP's frame (28x28): VP8X with the animation flag, ANIM, and an ANMF around the VP8 chunk. */
function animation(simple: Buffer): Buffer {
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), side(27), side(27)]);
  const frame = Buffer.concat([side(0), side(0), side(27), side(27), side(100), Buffer.from([0]), simple.subarray(12)]);
  return riff(chunk('VP8X', vp8x), chunk('ANIM', Buffer.alloc(6)), chunk('ANMF', frame));
}

/** A simple WebP's image chunk behind a VP8X chunk of `flags` (0x10: alpha), with an XMP chunk after it. */
function extended(simple: Buffer, flags: number, width: number, height: number): Buffer {
  const vp8x = Buffer.concat([Buffer.from([flags | 0x04, 0, 0, 0]), side(width - 1), side(height - 1)]);
  return riff(chunk('VP8X', vp8x), simple.subarray(12), chunk('XMP ', Buffer.from('<x:xmpmeta/>', 'latin1')));
}

/** A WebP file's chunks: tag and payload. */
function chunksOf(file: Buffer): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (let at = 12; at + 8 <= file.length; ) {
    const size = file.readUInt32LE(at + 4);
    out.push([file.toString('latin1', at, at + 4), file.subarray(at + 8, at + 8 + size)]);
    at += 8 + size + (size & 1);
  }
  return out;
}

/**
 * A lossy WebP with alpha whose ALPH chunk is replaced by `alpha` stored raw behind `filter`
 * (1 horizontal, 2 vertical, 3 gradient: each sample less its prediction from the samples left,
 * above and above-left, as libwebp's encoder filters).
 */
function rawAlpha(file: Buffer, alpha: Uint8Array, width: number, height: number, filter: number): Buffer {
  const filtered = Buffer.alloc(1 + width * height);
  filtered[0] = filter << 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * width + x;
      const [left, top, topLeft] = [alpha[at - 1]!, alpha[at - width]!, alpha[at - width - 1]!];
      const prediction = filter === 0 ? 0 : y === 0 ? (x === 0 ? 0 : left) : x === 0 ? top
        : filter === 1 ? left : filter === 2 ? top : Math.max(0, Math.min(255, left + top - topLeft));
      filtered[1 + at] = alpha[at]! - prediction;
    }
  }
  return riff(...chunksOf(file).map(([tag, payload]) => chunk(tag, tag === 'ALPH' ? filtered : payload)));
}

/** RGB with alpha: transparent blocks, translucent noise, opaque elsewhere. */
function withAlpha(rgb: Buffer, width: number, height: number, random: () => number): Buffer {
  const out = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const [x, y] = [i % width, Math.floor(i / width)];
    rgb.copy(out, i * 4, i * 3, i * 3 + 3);
    out[i * 4 + 3] = ((x >> 3) + (y >> 3)) % 3 === 0 ? 0 : random() < 0.3 ? Math.floor(random() * 256) : 255;
  }
  return out;
}

const fashion = readdirSync('test/fixtures/fashion').filter((f) => f.endsWith('.png')).slice(0, 3);

describe('inputs/webp (in-process WebP decoding)', () => {
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
          expect(await differenceFromSharp(bytes, prep), `${width}x${height} to ${w}x${h} ${prep.fit}`).to.equal(0);
          const plan = planResize(width, height, 'webp', prep);
          if (plan === undefined) continue;
          expect(openWebp(bytes, limits.maxPixels)!.decode(plan.load), `${width}x${height} to ${w}x${h} ${prep.fit}: decoded`).to.not.equal(undefined);
          taken++;
          loads.add(plan.load.shrink === 1 ? 'own size' : Number.isInteger(plan.load.shrink) ? 'whole shrink' : 'fractional shrink');
        }
      }
    }
    expect(taken).to.be.above(40);
    expect([...loads].sort()).to.deep.equal(['fractional shrink', 'own size', 'whole shrink']);
  });

  it("decodes the fashion fixtures as clients send them (every WebP encoding of encode.ts: lossy at each quality and size, lossless with a cut-out's alpha) to sharp's tensors", async () => {
    for (const file of fashion) {
      const image = await decodeImageFile(readFileSync(`test/fixtures/fashion/${file}`));
      for (const encoding of CLIENT_ENCODINGS.filter((e) => e.format === 'webp')) {
        const bytes = await encodeLikeClient(image, encoding);
        const { width, height } = (await sharp(bytes).metadata()) as { width: number; height: number };
        expect(ownSize(bytes), `${encoding.id}: fast path taken`).to.not.equal(undefined);
        for (const prep of [...preps(width, height), ...preps(28, 28)]) expect(await differenceFromSharp(bytes, prep), `${file} ${encoding.id}`).to.equal(0);
      }
    }
  });

  it("reproduces sharp's resize of grey, RGB and RGBA lossless WebPs (premultiplied through libwebp's scaled decoding) wherever it takes them", async () => {
    const random = seededRandom(29);
    const loads = new Set<string>();
    let taken = 0;
    const sizes = [[14, 14], [20, 15], [56, 56], [57, 55], [83, 29], [100, 60], [112, 112], [200, 37]] as const;
    for (const [i, [width, height]] of sizes.entries()) {
      // Two of grey, RGB and RGBA at each size.
      for (const channels of ([1, 3, 4] as const).filter((_, c) => c !== i % 3)) {
        const rgb = picture(width, height, channels === 1 ? 1 : 3, random, taken % 3);
        const image = sharp(channels === 4 ? withAlpha(rgb, width, height, random) : rgb, { raw: { width, height, channels } });
        const bytes = await (channels === 1 ? image.toColourspace('b-w') : image).webp({ lossless: true, effort: taken % 7 }).toBuffer();
        expect(ownSize(bytes), `${width}x${height}x${channels}: fast path taken`).to.not.equal(undefined);
        for (const [w, h] of [[28, 28], [32, 24], [50, 50]] as const) {
          for (const prep of preps(w, h)) {
            expect(await differenceFromSharp(bytes, prep), `${width}x${height}x${channels} to ${w}x${h} ${prep.fit}`).to.equal(0);
            const plan = planResize(width, height, 'webp', prep);
            if (plan === undefined) continue;
            expect(openWebp(bytes, limits.maxPixels)!.decode(plan.load), `${width}x${height}x${channels} to ${w}x${h} ${prep.fit}: decoded`).to.not.equal(undefined);
            taken++;
            loads.add(plan.load.shrink === 1 ? 'own size' : Number.isInteger(plan.load.shrink) ? 'whole shrink' : 'fractional shrink');
          }
        }
      }
    }
    expect(taken).to.be.above(80);
    expect([...loads].sort()).to.deep.equal(['fractional shrink', 'own size', 'whole shrink']);
  });

  it("gives libvips' bands for lossless WebPs whatever their alpha flags say: VP8X's flag, else the VP8L header's bit", async () => {
    const random = seededRandom(31);
    const [width, height] = [57, 43];
    const rgba = withAlpha(picture(width, height, 3, random, 2), width, height, random);
    const translucent = await sharp(rgba, { raw: { width, height, channels: 4 } }).webp({ lossless: true }).toBuffer();
    const opaque = await sharp(picture(width, height, 3, random, 0), { raw: { width, height, channels: 3 } }).webp({ lossless: true }).toBuffer();
    // The VP8L header's alpha bit (bit 4 of its fifth byte) cleared: the stream's alpha is still there.
    const unflagged = Buffer.from(translucent);
    unflagged[24] = unflagged[24]! & ~0x10;
    const files: [string, Buffer, number][] = [
      ['simple, alpha bit set', translucent, 4],
      ['simple, opaque', opaque, 3],
      ['simple, alpha bit cleared', unflagged, 3],
      ['VP8X with the alpha flag', extended(translucent, 0x10, width, height), 4],
      ['VP8X without it', extended(translucent, 0, width, height), 3],
      ['VP8X with the alpha flag, opaque stream', extended(opaque, 0x10, width, height), 4],
    ];
    for (const [what, bytes, channels] of files) {
      const theirs = await libvipsPixels(bytes);
      expect(theirs.channels, what).to.equal(channels);
      expect(ownSize(bytes)!.data.equals(theirs.data), what).to.equal(true);
      let scaled = 0;
      for (const prep of [...preps(28, 28), ...preps(40, 30)]) {
        expect(await differenceFromSharp(bytes, prep), `${what} ${prep.fit} ${prep.width}`).to.equal(0);
        const plan = planResize(width, height, 'webp', prep);
        if (plan !== undefined && plan.load.shrink > 1 && openWebp(bytes, limits.maxPixels)!.decode(plan.load) !== undefined) scaled++;
      }
      expect(scaled, `${what}: scaled on load`).to.be.above(2);
    }
  });

  it("decodes lossy WebPs with alpha (ALPH: VP8L-coded at any alpha quality, or raw behind each filter) to libvips' pixels and tensors", async () => {
    const random = seededRandom(37);
    let scaled = 0;
    for (const [width, height] of [[1, 1], [17, 2], [28, 28], [56, 56], [57, 43]] as const) {
      const rgba = withAlpha(picture(width, height, 3, random, scaled % 3), width, height, random);
      const image = sharp(rgba, { raw: { width, height, channels: 4 } });
      const files: [string, Buffer][] = [];
      for (const alphaQuality of [100, 60, 5]) files.push([`alpha quality ${alphaQuality}`, await image.clone().webp({ quality: 10 + Math.floor(random() * 90), alphaQuality, effort: scaled % 7 }).toBuffer()]);
      const alpha = Uint8Array.from({ length: width * height }, (_, i) => rgba[i * 4 + 3]!);
      for (const filter of [0, 1, 2, 3]) files.push([`raw alpha, filter ${filter}`, rawAlpha(files[0]![1], alpha, width, height, filter)]);
      // Without the VP8X alpha flag, libwebp's demuxer drops the ALPH chunk: 3 bands.
      files.push(['alpha flag cleared', riff(...chunksOf(files[0]![1]).map(([tag, payload]) => chunk(tag, tag === 'VP8X' ? Buffer.concat([Buffer.from([payload[0]! & ~0x10]), payload.subarray(1)]) : payload)))]);
      for (const [what, bytes] of files) {
        const name = `${width}x${height} ${what}`;
        const theirs = await libvipsPixels(bytes);
        expect(theirs.channels, name).to.equal(what === 'alpha flag cleared' ? 3 : 4);
        const before = Buffer.from(bytes);
        expect(ownSize(bytes), `${name}: fast path taken`).to.not.equal(undefined);
        expect(bytes.equals(before), `${name}: the file left as it was`).to.equal(true);
        expect(ownSize(bytes)!.data.equals(theirs.data), name).to.equal(true);
        for (const prep of preps(28, 28)) {
          expect(await differenceFromSharp(bytes, prep), `${name} ${prep.fit}`).to.equal(0);
          const plan = planResize(width, height, 'webp', prep);
          if (plan !== undefined && plan.load.shrink > 1 && openWebp(bytes, limits.maxPixels)!.decode(plan.load) !== undefined) scaled++;
        }
      }
    }
    expect(scaled).to.be.above(12);
  });

  it('leaves animated, ICC-tagged, EXIF-rotated and over-limit WebPs to sharp', async () => {
    const image = sharp(Buffer.alloc(28 * 28 * 4, 90), { raw: { width: 28, height: 28, channels: 4 } });
    const opaque = image.clone().removeAlpha();
    expect(openWebp(await image.clone().webp({ lossless: true }).toBuffer(), 28 * 28 - 1), 'lossless over the limit').to.equal(undefined);
    expect(openWebp(await image.clone().webp({ quality: 80 }).toBuffer(), 28 * 28 - 1), 'lossy with alpha over the limit').to.equal(undefined);
    expect(openWebp(await opaque.clone().withIccProfile('p3').webp().toBuffer(), limits.maxPixels), 'ICC').to.equal(undefined);
    const rotated = await opaque.clone().withMetadata({ orientation: 6 }).webp().toBuffer();
    expect(openWebp(rotated, limits.maxPixels), 'rotated').to.equal(undefined);
    const animated = animation(await opaque.clone().webp().toBuffer());
    expect((await sharp(animated).metadata()).pages, 'animated').to.equal(1);
    expect(openWebp(animated, limits.maxPixels), 'animated').to.equal(undefined);
    expect(await differenceFromSharp(animated, preps(28, 28)[1]!)).to.equal(0);
    expect(openWebp(await opaque.clone().webp().toBuffer(), 28 * 28 - 1), 'over the limit').to.equal(undefined);
    expect(await differenceFromSharp(rotated, preps(28, 28)[0]!)).to.equal(0);
  });

  it('treats a truncated or corrupt WebP, lossy or lossless, as sharp does: the same InvalidInputError, or the same pixels where libwebp decodes it', async () => {
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
    for (let k = 0; k < 40; k++) {
      const [width, height] = [8 + Math.floor(random() * 60), 8 + Math.floor(random() * 60)];
      const rgba = withAlpha(picture(width, height, 3, random, k % 3), width, height, random);
      const bytes = await sharp(rgba, { raw: { width, height, channels: 4 } }).webp({ lossless: true, effort: k % 7 }).toBuffer();
      // Past the VP8L header (20 + 5 bytes), a few bits of the stream flipped.
      const flipped = Buffer.from(bytes);
      for (let f = 0; f < 1 + (k % 3); f++) {
        const at = 25 + Math.floor(random() * (bytes.length - 25));
        flipped[at] = flipped[at]! ^ (1 << Math.floor(random() * 8));
      }
      cases.push([`${width}x${height} lossless, bits flipped`, flipped, width, height]);
      // A lossy frame's ALPH chunk (after VP8X's 30 bytes and its own header, 8 + 1) with bits flipped.
      const lossy = Buffer.from(await sharp(rgba, { raw: { width, height, channels: 4 } }).webp({ quality: 50, alphaQuality: 20 + k }).toBuffer());
      const alphaEnd = 38 + lossy.readUInt32LE(34);
      for (let f = 0; f < 1 + (k % 3); f++) {
        const at = 39 + Math.floor(random() * (alphaEnd - 39));
        lossy[at] = lossy[at]! ^ (1 << Math.floor(random() * 8));
      }
      cases.push([`${width}x${height} lossy with alpha, ALPH bits flipped`, lossy, width, height]);
      // The VP8L stream cut short, in a file whose sizes agree.
      const stream = chunksOf(bytes)[0]![1];
      if (k % 5 === 0) cases.push([`${width}x${height} lossless, truncated`, riff(chunk('VP8L', stream.subarray(0, 5 + Math.floor(random() * (stream.length - 5))))), width, height]);
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
