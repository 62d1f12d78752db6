import { expect } from 'chai';
import sharp from 'sharp';
import { decodeVp8, vp8FrameSize } from '../../../../src/inputs/image/codecs/vp8.js';
import { seededRandom } from '../../../../src/premodel/forest.js';

/**
 * A lossy WebP of smooth shading and noise (at low quality its blocks show, and the encoder sets
 * a loop filter), and its VP8 frame (the payload of the simple file's one chunk, padding included).
 */
async function frameOf(width: number, height: number, quality: number): Promise<Uint8Array> {
  const random = seededRandom(width * 131 + height);
  const pixels = Buffer.from(Array.from({ length: width * height * 3 }, (_, i) => {
    const [x, y] = [Math.floor(i / 3) % width, Math.floor(i / 3 / width)];
    return Math.max(0, Math.min(255, Math.floor(128 + 100 * Math.sin(x / 9 + (i % 3)) * Math.cos(y / 11) + random() * 20 - 10)));
  }));
  const bytes = await sharp(pixels, { raw: { width, height, channels: 3 } }).webp({ quality }).toBuffer();
  expect(bytes.toString('latin1', 12, 16)).to.equal('VP8 ');
  return new Uint8Array(bytes.subarray(20));
}

describe('inputs/image/codecs/vp8 (VP8 key frames, as libwebp decodes them)', () => {
  it("reads a key frame's size, and refuses what libwebp's VP8GetInfo refuses", async () => {
    const frame = await frameOf(37, 21, 80);
    expect(vp8FrameSize(frame, frame.length)).to.deep.equal({ width: 37, height: 21 });
    const inter = Uint8Array.from(frame);
    inter[0] = inter[0]! | 1;
    expect(vp8FrameSize(inter, frame.length), 'an inter frame').to.equal(undefined);
    const badStartCode = Uint8Array.from(frame);
    badStartCode[3] = 0;
    expect(vp8FrameSize(badStartCode, frame.length), 'no start code').to.equal(undefined);
    const partition = (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16)) >>> 5;
    expect(vp8FrameSize(frame, partition), 'a first partition as long as the chunk').to.equal(undefined);
  });

  it('decodes whole macroblocks of planes, luma at full and chroma at half resolution', async () => {
    const planes = decodeVp8(await frameOf(37, 21, 80), 1 << 20, true)!;
    expect([planes.width, planes.height, planes.stride]).to.deep.equal([37, 21, 48]);
    expect(planes.y.length).to.equal(48 * 32);
    expect([planes.u.length, planes.v.length]).to.deep.equal([24 * 16, 24 * 16]);
  });

  it('applies the loop filter unless told not to (libwebp skips it for large scaled reductions)', async () => {
    const frame = await frameOf(64, 64, 30);
    const [filtered, unfiltered] = [decodeVp8(frame, 1 << 20, true)!, decodeVp8(frame, 1 << 20, false)!];
    expect(Buffer.from(filtered.y).equals(Buffer.from(unfiltered.y))).to.equal(false);
  });

  it('refuses a frame over the pixel limit, and a truncated one, without throwing', async () => {
    const frame = await frameOf(64, 64, 90);
    expect(decodeVp8(frame, 64 * 64 - 1, true), 'over the limit').to.equal(undefined);
    for (const end of [10, 40, frame.length >> 1, frame.length - 40]) {
      expect(decodeVp8(frame.subarray(0, end), 1 << 20, true), `cut at ${end} of ${frame.length}`).to.equal(undefined);
    }
  });
});
