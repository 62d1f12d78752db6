import { expect } from 'chai';
import sharp from 'sharp';
import { toPixels } from '../../../src/inputs/image/colour.js';

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
});
