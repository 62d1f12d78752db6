import { expect } from 'chai';
import sharp from 'sharp';
import { seededRandom } from '../../../src/premodel/forest.js';
import { flattened, flattenedGrey, toPixels, type DecodedImage } from '../../../src/inputs/image/colour.js';

/** Indices where two byte arrays differ. */
const mismatches = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);

describe('inputs/colour (sharp\'s conversions, redone)', () => {
  it("makes grey from RGB as libvips does, to the last bit, over a grid of 64^3 colours", async () => {
    const n = 64;
    const rgb = new Uint8Array(n * n * n * 3);
    for (let i = 0; i < n * n * n; i++) rgb.set([(i >> 12) * 4 + (i & 3), ((i >> 6) & 63) * 4 + ((i >> 12) & 3), (i & 63) * 4 + ((i >> 6) & 3)], i * 3);
    const reference = await sharp(rgb, { raw: { width: n * n, height: n, channels: 3 } }).toColourspace('b-w').raw().toBuffer();
    expect(mismatches(toPixels({ samples: rgb, width: n * n, height: n, channels: 3 }, 1, 0), reference)).to.equal(0);
  });

  it('composites every grey and alpha over a background as libvips does', async () => {
    const ga = new Uint8Array(256 * 256 * 2).map((_, i) => (i % 2 === 0 ? (i >> 1) & 255 : i >> 9));
    for (const background of [0, 200]) {
      for (const channels of [1, 3] as const) {
        const pipeline = sharp(ga, { raw: { width: 256, height: 256, channels: 2 } }).flatten({ background: { r: background, g: background, b: background, alpha: 1 } });
        const reference = await pipeline.toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer();
        expect(mismatches(toPixels({ samples: ga, width: 256, height: 256, channels: 2 }, channels, background), reference), `on ${background} to ${channels}`).to.equal(0);
      }
    }
  });

  it("keeps every grey of an RGB image as it is, as libvips' 'b-w' does", async () => {
    const rgb = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    const reference = await sharp(rgb, { raw: { width: 256, height: 1, channels: 3 } }).toColourspace('b-w').raw().toBuffer();
    expect([...reference]).to.deep.equal(Array.from({ length: 256 }, (_, v) => v));
    expect(mismatches(toPixels({ samples: rgb, width: 256, height: 1, channels: 3 }, 1, 0), reference)).to.equal(0);
  });

  it('flattens a grey picture in RGB or RGBA to its one channel, and any other to RGB, as flatten would', () => {
    const random = seededRandom(11);
    const size = 40 * 30;
    const image = (channels: 3 | 4, grey: boolean, samples = new Uint8Array(size * channels)): DecodedImage => {
      for (let i = 0; i < size; i++) {
        const v = Math.floor(random() * 256);
        for (let c = 0; c < 3; c++) samples[i * channels + c] = grey ? v : Math.floor(random() * 256);
        // Transparent pixels may hold any colour: they flatten to the background all the same.
        if (channels === 4) samples[i * 4 + 3] = i % 7 === 0 ? 0 : i % 3 === 0 ? Math.floor(random() * 256) : 255;
        if (channels === 4 && i % 7 === 0) samples[i * 4] = 255 - samples[i * 4 + 1]!;
      }
      return { samples, width: 40, height: 30, channels };
    };
    for (const background of [0, 90, 255]) {
      for (const channels of [3, 4] as const) {
        for (const grey of [true, false]) {
          const source = image(channels, grey);
          // Also out of a buffer at an odd offset, where RGBA cannot be read a word at a time.
          const unaligned = new Uint8Array(source.samples.length + 1).subarray(1);
          unaligned.set(source.samples);
          const expected = flattened(source, background).samples;
          for (const input of [source, { ...source, samples: unaligned }]) {
            const made = flattenedGrey(input, background);
            expect(made.channels, `${channels} channels, grey ${grey}`).to.equal(grey ? 1 : 3);
            const rgb = made.channels === 1 ? Uint8Array.from({ length: size * 3 }, (_, i) => made.samples[Math.floor(i / 3)]!) : made.samples;
            expect(mismatches(rgb as Uint8Array, expected as Uint8Array), `${channels} channels, grey ${grey}, on ${background}`).to.equal(0);
          }
        }
      }
    }
  });
});
