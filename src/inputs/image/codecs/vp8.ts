/**
 * The lossy half of WebP: a VP8 key frame (the payload of a "VP8 " chunk) decoded to its Y, U and V
 * planes, for webp.ts to convert as libwebp does. libvips' webpload (libwebp 1.6.0) gives the pixels
 * the models were calibrated on, so this is libwebp's own integer arithmetic, step for step: the
 * boolean decoder (src/utils/bit_reader*), the frame, segment and filter headers and the token
 * probabilities (src/dec/vp8_dec.c, tree_dec.c, quant_dec.c), coefficients dequantised into int16
 * as libwebp stores them (wrapping included), the intra predictors with libwebp's edge samples (127
 * above the picture, 129 left of it), the inverse transforms with their DC-only and "AC3"
 * shortcuts, and the simple and normal loop filters (src/dsp/dec.c, src/dec/frame_dec.c). Anything
 * libwebp refuses (a truncated partition, an inter frame, a size over the limit) is undefined:
 * nothing here throws on hostile input, and memory is bounded by the frame's size.
 */

/** A decoded key frame: luma `stride` samples a row, chroma at half the resolution and stride; the planes cover whole macroblocks, past the image's `width` and `height`. */
export interface Vp8Planes {
  width: number;
  height: number;
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
  stride: number;
}

/**
 * The size in a VP8 frame header, checked as libwebp's VP8GetInfo checks it against its chunk's
 * declared `chunkSize`; undefined for anything but a shown key frame of a known profile.
 */
export function vp8FrameSize(data: Uint8Array, chunkSize: number): { width: number; height: number } | undefined {
  if (data.length < 10 || data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) return undefined;
  const bits = data[0]! | (data[1]! << 8) | (data[2]! << 16);
  const width = ((data[7]! << 8) | data[6]!) & 0x3fff;
  const height = ((data[9]! << 8) | data[8]!) & 0x3fff;
  const keyFrame = (bits & 1) === 0;
  const profile = (bits >> 1) & 7;
  const shown = (bits >> 4) & 1;
  if (!keyFrame || profile > 3 || !shown || bits >>> 5 >= chunkSize || width === 0 || height === 0) return undefined;
  return { width, height };
}

/**
 * The boolean decoder of libwebp's VP8BitReader, 16 bits loaded at a time (libwebp takes 56 on
 * x86-64; the bits read, and the point where the data run out, are the same, and 16 keep the
 * window a small integer). Running out sets `eof`, which libwebp treats as a damaged stream.
 */
class BoolReader {
  private window = 0;
  /** The range minus one, in [127, 254]. */
  private range = 254;
  /** Bits in `window` below the 8 being decoded; negative when a load is due. */
  private bits = -8;
  eof = false;

  constructor(
    private readonly data: Uint8Array,
    private at: number,
    private readonly end: number,
  ) {
    this.load();
  }

  private load(): void {
    const { data, at } = this;
    if (at + 2 <= this.end) {
      this.window = (this.window << 16) | (data[at]! << 8) | data[at + 1]!;
      this.at = at + 2;
      this.bits += 16;
    } else if (at < this.end) {
      this.window = (this.window << 8) | data[at]!;
      this.at = at + 1;
      this.bits += 8;
    } else if (!this.eof) {
      this.window <<= 8;
      this.bits += 8;
      this.eof = true;
    } else {
      this.bits = 0; // libwebp's guard once past the end; the stream is already refused
    }
  }

  /** VP8GetBit: one bit of probability `prob` / 256 of being 0. */
  bit(prob: number): number {
    let range = this.range;
    if (this.bits < 0) this.load();
    const pos = this.bits;
    const split = (range * prob) >>> 8;
    let bit = 0;
    if (this.window >>> pos > split) {
      range -= split;
      this.window -= (split + 1) << pos;
      bit = 1;
    } else {
      range = split + 1;
    }
    const shift = 7 ^ (31 - Math.clz32(range));
    this.bits -= shift;
    this.range = (range << shift) - 1;
    return bit;
  }

  /** VP8GetSigned: `v` or -`v` on an even bit, with libwebp's one-shift renormalisation. */
  signed(v: number): number {
    if (this.bits < 0) this.load();
    const pos = this.bits;
    const split = this.range >>> 1;
    const mask = (split - (this.window >>> pos)) >> 31;
    this.bits -= 1;
    this.range = (this.range + mask) | 1;
    this.window -= ((split + 1) & mask) << pos;
    return (v ^ mask) - mask;
  }

  /** VP8GetValue: `count` even bits, most significant first. */
  read(count: number): number {
    let v = 0;
    while (count-- > 0) v |= this.bit(0x80) << count;
    return v;
  }

  /** VP8GetSignedValue: a magnitude of `count` bits, then its sign. */
  readSigned(count: number): number {
    const v = this.read(count);
    return this.bit(0x80) ? -v : v;
  }
}

// The work area of one macroblock, as libwebp's yuv_b: rows of BPS bytes holding the 16x16 luma
// and the two 8x8 chroma blocks, each with the row above, the column left and, for luma, four
// samples above-right (intra 4x4 prediction reads them).
const BPS = 32;
const Y_OFF = BPS + 8;
const U_OFF = Y_OFF + 16 * BPS + BPS;
const V_OFF = U_OFF + 16;
const WORK_SIZE = BPS * 17 + BPS * 9;

// Intra modes: 4x4 ones 0..9; luma 16x16 and chroma use the first four, and DC without the top
// row, the left column or both at the picture's edges (libwebp's B_DC_PRED_NOTOP and after).
const DC_PRED = 0;
const TM_PRED = 1;
const V_PRED = 2;
const H_PRED = 3;
const DC_NO_TOP = 4;
const DC_NO_LEFT = 5;
const DC_NO_TOP_LEFT = 6;

/** Where each 4x4 luma block starts in the work area, in decoding order. */
const SCAN = Int32Array.from({ length: 16 }, (_, n) => (n & 3) * 4 + (n >> 2) * 4 * BPS);
const ZIGZAG = Uint8Array.from([0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15]);
/** The probability band of each coefficient position (and a 17th for "past the last"), as an offset into a type's 8 x 3 x 11 probabilities. */
const BAND_OFFSET = Uint16Array.from([0, 1, 2, 3, 6, 4, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 0], (band) => band * 33);
/** The extra bits of token categories 3 to 6, each with its probability. */
const CATEGORY_PROBAS = [[173, 148, 140], [176, 155, 140, 135], [180, 157, 141, 134, 130], [254, 254, 243, 230, 196, 177, 153, 140, 133, 130, 129]].map((p) => Uint8Array.from(p));
/** The 4x4 intra mode tree (libwebp's kYModesIntra4): a leaf is the mode negated, a node the index of its pair. */
const INTRA4_TREE = Int8Array.from([-DC_PRED, 1, -TM_PRED, 2, -V_PRED, 3, 4, 6, -H_PRED, 5, -4, -5, -6, 7, -7, 8, -8, -9]);

// Paragraph 14.1's dequantisation tables, by quantiser index.
const DC_TABLE = Uint8Array.from([
  4, 5, 6, 7, 8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 17, 18, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 25, 25, 26, 27, 28,
  29, 30, 31, 32, 33, 34, 35, 36, 37, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58,
  59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
  91, 93, 95, 96, 98, 100, 101, 102, 104, 106, 108, 110, 112, 114, 116, 118, 122, 124, 126, 128, 130, 132, 134, 136, 138, 140, 143, 145, 148, 151, 154, 157,
]);
const AC_TABLE = Uint16Array.from([
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
  36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 60, 62, 64, 66, 68, 70, 72, 74, 76,
  78, 80, 82, 84, 86, 88, 90, 92, 94, 96, 98, 100, 102, 104, 106, 108, 110, 112, 114, 116, 119, 122, 125, 128, 131, 134, 137, 140, 143, 146, 149, 152,
  155, 158, 161, 164, 167, 170, 173, 177, 181, 185, 189, 193, 197, 201, 205, 209, 213, 217, 221, 225, 229, 234, 239, 245, 249, 254, 259, 264, 269, 274, 279, 284,
]);

/** Paragraph 13.5's default token probabilities, [type][band][context][node]. */
const COEFF_PROBAS = Uint8Array.from([
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  253, 136, 254, 255, 228, 219, 128, 128, 128, 128, 128, 189, 129, 242, 255, 227, 213, 255, 219, 128, 128, 128, 106, 126, 227, 252, 214, 209, 255, 255, 128, 128, 128,
  1, 98, 248, 255, 236, 226, 255, 255, 128, 128, 128, 181, 133, 238, 254, 221, 234, 255, 154, 128, 128, 128, 78, 134, 202, 247, 198, 180, 255, 219, 128, 128, 128,
  1, 185, 249, 255, 243, 255, 128, 128, 128, 128, 128, 184, 150, 247, 255, 236, 224, 128, 128, 128, 128, 128, 77, 110, 216, 255, 236, 230, 128, 128, 128, 128, 128,
  1, 101, 251, 255, 241, 255, 128, 128, 128, 128, 128, 170, 139, 241, 252, 236, 209, 255, 255, 128, 128, 128, 37, 116, 196, 243, 228, 255, 255, 255, 128, 128, 128,
  1, 204, 254, 255, 245, 255, 128, 128, 128, 128, 128, 207, 160, 250, 255, 238, 128, 128, 128, 128, 128, 128, 102, 103, 231, 255, 211, 171, 128, 128, 128, 128, 128,
  1, 152, 252, 255, 240, 255, 128, 128, 128, 128, 128, 177, 135, 243, 255, 234, 225, 128, 128, 128, 128, 128, 80, 129, 211, 255, 194, 224, 128, 128, 128, 128, 128,
  1, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128, 246, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128, 255, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  198, 35, 237, 223, 193, 187, 162, 160, 145, 155, 62, 131, 45, 198, 221, 172, 176, 220, 157, 252, 221, 1, 68, 47, 146, 208, 149, 167, 221, 162, 255, 223, 128,
  1, 149, 241, 255, 221, 224, 255, 255, 128, 128, 128, 184, 141, 234, 253, 222, 220, 255, 199, 128, 128, 128, 81, 99, 181, 242, 176, 190, 249, 202, 255, 255, 128,
  1, 129, 232, 253, 214, 197, 242, 196, 255, 255, 128, 99, 121, 210, 250, 201, 198, 255, 202, 128, 128, 128, 23, 91, 163, 242, 170, 187, 247, 210, 255, 255, 128,
  1, 200, 246, 255, 234, 255, 128, 128, 128, 128, 128, 109, 178, 241, 255, 231, 245, 255, 255, 128, 128, 128, 44, 130, 201, 253, 205, 192, 255, 255, 128, 128, 128,
  1, 132, 239, 251, 219, 209, 255, 165, 128, 128, 128, 94, 136, 225, 251, 218, 190, 255, 255, 128, 128, 128, 22, 100, 174, 245, 186, 161, 255, 199, 128, 128, 128,
  1, 182, 249, 255, 232, 235, 128, 128, 128, 128, 128, 124, 143, 241, 255, 227, 234, 128, 128, 128, 128, 128, 35, 77, 181, 251, 193, 211, 255, 205, 128, 128, 128,
  1, 157, 247, 255, 236, 231, 255, 255, 128, 128, 128, 121, 141, 235, 255, 225, 227, 255, 255, 128, 128, 128, 45, 99, 188, 251, 195, 217, 255, 224, 128, 128, 128,
  1, 1, 251, 255, 213, 255, 128, 128, 128, 128, 128, 203, 1, 248, 255, 255, 128, 128, 128, 128, 128, 128, 137, 1, 177, 255, 224, 255, 128, 128, 128, 128, 128,
  253, 9, 248, 251, 207, 208, 255, 192, 128, 128, 128, 175, 13, 224, 243, 193, 185, 249, 198, 255, 255, 128, 73, 17, 171, 221, 161, 179, 236, 167, 255, 234, 128,
  1, 95, 247, 253, 212, 183, 255, 255, 128, 128, 128, 239, 90, 244, 250, 211, 209, 255, 255, 128, 128, 128, 155, 77, 195, 248, 188, 195, 255, 255, 128, 128, 128,
  1, 24, 239, 251, 218, 219, 255, 205, 128, 128, 128, 201, 51, 219, 255, 196, 186, 128, 128, 128, 128, 128, 69, 46, 190, 239, 201, 218, 255, 228, 128, 128, 128,
  1, 191, 251, 255, 255, 128, 128, 128, 128, 128, 128, 223, 165, 249, 255, 213, 255, 128, 128, 128, 128, 128, 141, 124, 248, 255, 255, 128, 128, 128, 128, 128, 128,
  1, 16, 248, 255, 255, 128, 128, 128, 128, 128, 128, 190, 36, 230, 255, 236, 255, 128, 128, 128, 128, 128, 149, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128,
  1, 226, 255, 128, 128, 128, 128, 128, 128, 128, 128, 247, 192, 255, 128, 128, 128, 128, 128, 128, 128, 128, 240, 128, 255, 128, 128, 128, 128, 128, 128, 128, 128,
  1, 134, 252, 255, 255, 128, 128, 128, 128, 128, 128, 213, 62, 250, 255, 255, 128, 128, 128, 128, 128, 128, 55, 93, 255, 128, 128, 128, 128, 128, 128, 128, 128,
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  202, 24, 213, 235, 186, 191, 220, 160, 240, 175, 255, 126, 38, 182, 232, 169, 184, 228, 174, 255, 187, 128, 61, 46, 138, 219, 151, 178, 240, 170, 255, 216, 128,
  1, 112, 230, 250, 199, 191, 247, 159, 255, 255, 128, 166, 109, 228, 252, 211, 215, 255, 174, 128, 128, 128, 39, 77, 162, 232, 172, 180, 245, 178, 255, 255, 128,
  1, 52, 220, 246, 198, 199, 249, 220, 255, 255, 128, 124, 74, 191, 243, 183, 193, 250, 221, 255, 255, 128, 24, 71, 130, 219, 154, 170, 243, 182, 255, 255, 128,
  1, 182, 225, 249, 219, 240, 255, 224, 128, 128, 128, 149, 150, 226, 252, 216, 205, 255, 171, 128, 128, 128, 28, 108, 170, 242, 183, 194, 254, 223, 255, 255, 128,
  1, 81, 230, 252, 204, 203, 255, 192, 128, 128, 128, 123, 102, 209, 247, 188, 196, 255, 233, 128, 128, 128, 20, 95, 153, 243, 164, 173, 255, 203, 128, 128, 128,
  1, 222, 248, 255, 216, 213, 128, 128, 128, 128, 128, 168, 175, 246, 252, 235, 205, 255, 255, 128, 128, 128, 47, 116, 215, 255, 211, 212, 255, 255, 128, 128, 128,
  1, 121, 236, 253, 212, 214, 255, 255, 128, 128, 128, 141, 84, 213, 252, 201, 202, 255, 219, 128, 128, 128, 42, 80, 160, 240, 162, 185, 255, 205, 128, 128, 128,
  1, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128, 244, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128, 238, 1, 255, 128, 128, 128, 128, 128, 128, 128, 128,
]);

/** The probability that each token probability is updated in the frame header. */
const COEFF_UPDATE_PROBAS = Uint8Array.from([
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  176, 246, 255, 255, 255, 255, 255, 255, 255, 255, 255, 223, 241, 252, 255, 255, 255, 255, 255, 255, 255, 255, 249, 253, 253, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 244, 252, 255, 255, 255, 255, 255, 255, 255, 255, 234, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 253, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 246, 254, 255, 255, 255, 255, 255, 255, 255, 255, 239, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 248, 254, 255, 255, 255, 255, 255, 255, 255, 255, 251, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 251, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 254, 253, 255, 254, 255, 255, 255, 255, 255, 255, 250, 255, 254, 255, 254, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  217, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 225, 252, 241, 253, 255, 255, 254, 255, 255, 255, 255, 234, 250, 241, 250, 253, 255, 253, 254, 255, 255, 255,
  255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 223, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 238, 253, 254, 254, 255, 255, 255, 255, 255, 255, 255,
  255, 248, 254, 255, 255, 255, 255, 255, 255, 255, 255, 249, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 253, 255, 255, 255, 255, 255, 255, 255, 255, 255, 247, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 252, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 253, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 254, 253, 255, 255, 255, 255, 255, 255, 255, 255, 250, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  186, 251, 250, 255, 255, 255, 255, 255, 255, 255, 255, 234, 251, 244, 254, 255, 255, 255, 255, 255, 255, 255, 251, 251, 243, 253, 254, 255, 254, 255, 255, 255, 255,
  255, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 236, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 251, 253, 253, 254, 254, 255, 255, 255, 255, 255, 255,
  255, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 254, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  248, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 250, 254, 252, 254, 255, 255, 255, 255, 255, 255, 255, 248, 254, 249, 253, 255, 255, 255, 255, 255, 255, 255,
  255, 253, 253, 255, 255, 255, 255, 255, 255, 255, 255, 246, 253, 253, 255, 255, 255, 255, 255, 255, 255, 255, 252, 254, 251, 254, 254, 255, 255, 255, 255, 255, 255,
  255, 254, 252, 255, 255, 255, 255, 255, 255, 255, 255, 248, 254, 253, 255, 255, 255, 255, 255, 255, 255, 255, 253, 255, 254, 254, 255, 255, 255, 255, 255, 255, 255,
  255, 251, 254, 255, 255, 255, 255, 255, 255, 255, 255, 245, 251, 254, 255, 255, 255, 255, 255, 255, 255, 255, 253, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 251, 253, 255, 255, 255, 255, 255, 255, 255, 255, 252, 253, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 252, 255, 255, 255, 255, 255, 255, 255, 255, 255, 249, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 253, 255, 255, 255, 255, 255, 255, 255, 255, 250, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 254, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
]);

/** Paragraph 11.5's 4x4 intra mode probabilities, [mode above][mode left][node]. */
const INTRA4_PROBAS = Uint8Array.from([
  231, 120, 48, 89, 115, 113, 120, 152, 112, 152, 179, 64, 126, 170, 118, 46, 70, 95, 175, 69, 143, 80, 85, 82, 72, 155, 103, 56, 58, 10, 171, 218, 189, 17, 13, 152, 114, 26, 17, 163, 44, 195, 21, 10, 173,
  121, 24, 80, 195, 26, 62, 44, 64, 85, 144, 71, 10, 38, 171, 213, 144, 34, 26, 170, 46, 55, 19, 136, 160, 33, 206, 71, 63, 20, 8, 114, 114, 208, 12, 9, 226, 81, 40, 11, 96, 182, 84, 29, 16, 36,
  134, 183, 89, 137, 98, 101, 106, 165, 148, 72, 187, 100, 130, 157, 111, 32, 75, 80, 66, 102, 167, 99, 74, 62, 40, 234, 128, 41, 53, 9, 178, 241, 141, 26, 8, 107, 74, 43, 26, 146, 73, 166, 49, 23, 157,
  65, 38, 105, 160, 51, 52, 31, 115, 128, 104, 79, 12, 27, 217, 255, 87, 17, 7, 87, 68, 71, 44, 114, 51, 15, 186, 23, 47, 41, 14, 110, 182, 183, 21, 17, 194, 66, 45, 25, 102, 197, 189, 23, 18, 22,
  88, 88, 147, 150, 42, 46, 45, 196, 205, 43, 97, 183, 117, 85, 38, 35, 179, 61, 39, 53, 200, 87, 26, 21, 43, 232, 171, 56, 34, 51, 104, 114, 102, 29, 93, 77, 39, 28, 85, 171, 58, 165, 90, 98, 64,
  34, 22, 116, 206, 23, 34, 43, 166, 73, 107, 54, 32, 26, 51, 1, 81, 43, 31, 68, 25, 106, 22, 64, 171, 36, 225, 114, 34, 19, 21, 102, 132, 188, 16, 76, 124, 62, 18, 78, 95, 85, 57, 50, 48, 51,
  193, 101, 35, 159, 215, 111, 89, 46, 111, 60, 148, 31, 172, 219, 228, 21, 18, 111, 112, 113, 77, 85, 179, 255, 38, 120, 114, 40, 42, 1, 196, 245, 209, 10, 25, 109, 88, 43, 29, 140, 166, 213, 37, 43, 154,
  61, 63, 30, 155, 67, 45, 68, 1, 209, 100, 80, 8, 43, 154, 1, 51, 26, 71, 142, 78, 78, 16, 255, 128, 34, 197, 171, 41, 40, 5, 102, 211, 183, 4, 1, 221, 51, 50, 17, 168, 209, 192, 23, 25, 82,
  138, 31, 36, 171, 27, 166, 38, 44, 229, 67, 87, 58, 169, 82, 115, 26, 59, 179, 63, 59, 90, 180, 59, 166, 93, 73, 154, 40, 40, 21, 116, 143, 209, 34, 39, 175, 47, 15, 16, 183, 34, 223, 49, 45, 183,
  46, 17, 33, 183, 6, 98, 15, 32, 183, 57, 46, 22, 24, 128, 1, 54, 17, 37, 65, 32, 73, 115, 28, 128, 23, 128, 205, 40, 3, 9, 115, 51, 192, 18, 6, 223, 87, 37, 9, 115, 59, 77, 64, 21, 47,
  104, 55, 44, 218, 9, 54, 53, 130, 226, 64, 90, 70, 205, 40, 41, 23, 26, 57, 54, 57, 112, 184, 5, 41, 38, 166, 213, 30, 34, 26, 133, 152, 116, 10, 32, 134, 39, 19, 53, 221, 26, 114, 32, 73, 255,
  31, 9, 65, 234, 2, 15, 1, 118, 73, 75, 32, 12, 51, 192, 255, 160, 43, 51, 88, 31, 35, 67, 102, 85, 55, 186, 85, 56, 21, 23, 111, 59, 205, 45, 37, 192, 55, 38, 70, 124, 73, 102, 1, 34, 98,
  125, 98, 42, 88, 104, 85, 117, 175, 82, 95, 84, 53, 89, 128, 100, 113, 101, 45, 75, 79, 123, 47, 51, 128, 81, 171, 1, 57, 17, 5, 71, 102, 57, 53, 41, 49, 38, 33, 13, 121, 57, 73, 26, 1, 85,
  41, 10, 67, 138, 77, 110, 90, 47, 114, 115, 21, 2, 10, 102, 255, 166, 23, 6, 101, 29, 16, 10, 85, 128, 101, 196, 26, 57, 18, 10, 102, 102, 213, 34, 20, 43, 117, 20, 15, 36, 163, 128, 68, 1, 26,
  102, 61, 71, 37, 34, 53, 31, 243, 192, 69, 60, 71, 38, 73, 119, 28, 222, 37, 68, 45, 128, 34, 1, 47, 11, 245, 171, 62, 17, 19, 70, 146, 85, 55, 62, 70, 37, 43, 37, 154, 100, 163, 85, 160, 1,
  63, 9, 92, 136, 28, 64, 32, 201, 85, 75, 15, 9, 9, 64, 255, 184, 119, 16, 86, 6, 28, 5, 64, 255, 25, 248, 1, 56, 8, 17, 132, 137, 255, 55, 116, 128, 58, 15, 20, 82, 135, 57, 26, 121, 40,
  164, 50, 31, 137, 154, 133, 25, 35, 218, 51, 103, 44, 131, 131, 123, 31, 6, 158, 86, 40, 64, 135, 148, 224, 45, 183, 128, 22, 26, 17, 131, 240, 154, 14, 1, 209, 45, 16, 21, 91, 64, 222, 7, 1, 197,
  56, 21, 39, 155, 60, 138, 23, 102, 213, 83, 12, 13, 54, 192, 255, 68, 47, 28, 85, 26, 85, 85, 128, 128, 32, 146, 171, 18, 11, 7, 63, 144, 171, 4, 4, 246, 35, 27, 10, 146, 174, 171, 12, 26, 128,
  190, 80, 35, 99, 180, 80, 126, 54, 45, 85, 126, 47, 87, 176, 51, 41, 20, 32, 101, 75, 128, 139, 118, 146, 116, 128, 85, 56, 41, 15, 176, 236, 85, 37, 9, 62, 71, 30, 17, 119, 118, 255, 17, 18, 138,
  101, 38, 60, 138, 55, 70, 43, 26, 142, 146, 36, 19, 30, 171, 255, 97, 27, 20, 138, 45, 61, 62, 219, 1, 81, 188, 64, 32, 41, 20, 117, 151, 142, 20, 21, 163, 112, 19, 12, 61, 195, 128, 48, 4, 24,
]);

// dsp/dec_clip_tables.c's tables, branch-free clamps for the loop filters: |i| for i in
// [-255, 255], i clamped to a signed byte for i in [-1020, 1020], and to [-16, 15] for i in [-112, 112].
const ABS = Uint8Array.from({ length: 511 }, (_, i) => Math.abs(i - 255));
const SCLIP1 = Int8Array.from({ length: 2041 }, (_, i) => Math.min(127, Math.max(-128, i - 1020)));
const SCLIP2 = Int8Array.from({ length: 225 }, (_, i) => Math.min(15, Math.max(-16, i - 112)));

/**
 * A VP8 key frame's planes, as libwebp decodes them: `loopFilter` false is libwebp's
 * bypass_filtering (which its scaled decoding sets for large reductions). Undefined where libwebp
 * fails: damaged or truncated data, or a frame over `maxPixels`.
 */
export function decodeVp8(data: Uint8Array, maxPixels: number, loopFilter: boolean): Vp8Planes | undefined {
  const size = vp8FrameSize(data, Infinity);
  const partitionLength = (data[0]! | (data[1]! << 8) | (data[2]! << 16)) >>> 5;
  if (size === undefined || size.width * size.height > maxPixels || partitionLength > data.length - 10) return undefined;
  const header = new BoolReader(data, 10, 10 + partitionLength);
  header.read(2); // colour space and clamping type: no effect on decoding
  const frame = new Frame(size.width, size.height, header);
  return frame.readHeaders(data, 10 + partitionLength, loopFilter) ? frame.decode() : undefined;
}

class Frame {
  readonly mbW: number;
  readonly mbH: number;
  readonly stride: number;
  /** Clamped: the loop filters' sums store as libwebp's clip1 table clips them. */
  readonly y: Uint8ClampedArray;
  readonly u: Uint8ClampedArray;
  readonly v: Uint8ClampedArray;

  // Segment header (paragraph 9.3).
  private segmentMap = false;
  private readonly segmentProbas = new Uint8Array([255, 255, 255]);
  /** Dequantisation factors by segment: Y1 DC, Y1 AC, Y2 DC, Y2 AC, UV DC, UV AC. */
  private readonly dequant = new Int32Array(4 * 6);
  /** Filter parameters by segment and 16x16 (0) or 4x4 (1) luma prediction: limit (0: none), interior limit, inner edges, high edge variance threshold. */
  private readonly filterLimit = new Uint8Array(8);
  private readonly filterInterior = new Uint8Array(8);
  private readonly filterInner = new Uint8Array(8);
  private readonly filterHev = new Uint8Array(8);
  /** 0: none, 1: simple, 2: normal. */
  private filterType = 0;
  private readonly probas = new Uint8Array(COEFF_PROBAS.length);
  private skipProba = -1;
  private partitions: BoolReader[] = [];

  // Contexts carried between macroblocks: the 4x4 modes along the bottom of the row above and
  // the right of the block to the left, and which of their blocks had coefficients.
  private readonly modesAbove: Uint8Array;
  private readonly modesLeft = new Uint8Array(4);
  private readonly nonZeroAbove: Uint8Array;
  private readonly dcNonZeroAbove: Uint8Array;
  private nonZeroLeft = 0;
  private dcNonZeroLeft = 0;

  // The row of macroblocks being decoded: modes, segment, skip flag, filter parameters.
  private readonly is4x4: Uint8Array;
  private readonly modes: Uint8Array;
  private readonly chromaModes: Uint8Array;
  private readonly segments: Uint8Array;
  private readonly skips: Uint8Array;
  private readonly rowLimit: Uint8Array;
  private readonly rowInterior: Uint8Array;
  private readonly rowInner: Uint8Array;
  private readonly rowHev: Uint8Array;

  /** The unfiltered bottom row of the macroblock row above, which intra prediction reads (libwebp's yuv_t). */
  private readonly aboveY: Uint8Array;
  private readonly aboveU: Uint8Array;
  private readonly aboveV: Uint8Array;
  /** Clamped: sums of prediction and residual store as libwebp's clip_8b clips them. */
  private readonly work = new Uint8ClampedArray(WORK_SIZE);
  private readonly coeffs = new Int16Array(384);
  private readonly dc = new Int16Array(16);
  private nonZeroY = 0;
  private nonZeroUv = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly header: BoolReader,
  ) {
    this.mbW = (width + 15) >> 4;
    this.mbH = (height + 15) >> 4;
    this.stride = this.mbW * 16;
    this.y = new Uint8ClampedArray(this.stride * this.mbH * 16);
    this.u = new Uint8ClampedArray(this.y.length >> 2);
    this.v = new Uint8ClampedArray(this.y.length >> 2);
    const mbW = this.mbW;
    this.modesAbove = new Uint8Array(4 * mbW);
    this.nonZeroAbove = new Uint8Array(mbW);
    this.dcNonZeroAbove = new Uint8Array(mbW);
    this.is4x4 = new Uint8Array(mbW);
    this.modes = new Uint8Array(16 * mbW);
    this.chromaModes = new Uint8Array(mbW);
    this.segments = new Uint8Array(mbW);
    this.skips = new Uint8Array(mbW);
    this.rowLimit = new Uint8Array(mbW);
    this.rowInterior = new Uint8Array(mbW);
    this.rowInner = new Uint8Array(mbW);
    this.rowHev = new Uint8Array(mbW);
    this.aboveY = new Uint8Array(16 * mbW);
    this.aboveU = new Uint8Array(8 * mbW);
    this.aboveV = new Uint8Array(8 * mbW);
  }

  /** The rest of the first partition's header, and the token partitions that start at `at`; false where libwebp fails. */
  readHeaders(data: Uint8Array, at: number, loopFilter: boolean): boolean {
    const br = this.header;
    const segment = this.readSegmentHeader();
    if (br.eof) return false;
    const filter = this.readFilterHeader();
    if (br.eof || !this.readPartitions(data, at)) return false;
    this.readQuantisers(segment);
    br.read(1); // refresh_entropy_probs: meaningless for a single frame
    for (let i = 0; i < COEFF_PROBAS.length; i++) this.probas[i] = br.bit(COEFF_UPDATE_PROBAS[i]!) ? br.read(8) : COEFF_PROBAS[i]!;
    this.skipProba = br.read(1) ? br.read(8) : -1;
    if (!loopFilter) this.filterType = 0;
    if (this.filterType > 0) this.setFilterStrengths(segment, filter);
    return true;
  }

  private readSegmentHeader(): { enabled: boolean; absolute: boolean; quantiser: Int32Array; strength: Int32Array } {
    const br = this.header;
    const segment = { enabled: br.read(1) === 1, absolute: true, quantiser: new Int32Array(4), strength: new Int32Array(4) };
    if (segment.enabled) {
      this.segmentMap = br.read(1) === 1;
      if (br.read(1)) {
        segment.absolute = br.read(1) === 1;
        for (let s = 0; s < 4; s++) segment.quantiser[s] = br.read(1) ? br.readSigned(7) : 0;
        for (let s = 0; s < 4; s++) segment.strength[s] = br.read(1) ? br.readSigned(6) : 0;
      }
      if (this.segmentMap) for (let s = 0; s < 3; s++) this.segmentProbas[s] = br.read(1) ? br.read(8) : 255;
    }
    return segment;
  }

  private readFilterHeader(): { level: number; sharpness: number; refDelta: number; modeDelta: number } {
    const br = this.header;
    const simple = br.read(1);
    const level = br.read(6);
    const sharpness = br.read(3);
    // Of the reference-frame and mode deltas, a key frame's macroblocks use the intra frame's and
    // the 4x4 mode's (the first of each).
    const deltas = new Int32Array(8);
    if (br.read(1) && br.read(1)) {
      for (let i = 0; i < 8; i++) if (br.read(1)) deltas[i] = br.readSigned(6);
    }
    this.filterType = level === 0 ? 0 : simple ? 1 : 2;
    return { level, sharpness, refDelta: deltas[0]!, modeDelta: deltas[4]! };
  }

  /** The token partitions' sizes and readers (ParsePartitions); false when the last one would be empty. */
  private readPartitions(data: Uint8Array, at: number): boolean {
    const count = 1 << this.header.read(2);
    const sizes = at;
    let start = at + 3 * (count - 1);
    if (start > data.length) return false;
    for (let p = 0; p < count - 1; p++) {
      const size = Math.min(data[sizes + 3 * p]! | (data[sizes + 3 * p + 1]! << 8) | (data[sizes + 3 * p + 2]! << 16), data.length - start);
      this.partitions.push(new BoolReader(data, start, start + size));
      start += size;
    }
    this.partitions.push(new BoolReader(data, start, data.length));
    return start < data.length;
  }

  private readQuantisers(segment: { enabled: boolean; absolute: boolean; quantiser: Int32Array }): void {
    const br = this.header;
    const base = br.read(7);
    // Optional deltas of the index, in this order.
    const dy1Dc = br.read(1) ? br.readSigned(4) : 0;
    const dy2Dc = br.read(1) ? br.readSigned(4) : 0;
    const dy2Ac = br.read(1) ? br.readSigned(4) : 0;
    const dUvDc = br.read(1) ? br.readSigned(4) : 0;
    const dUvAc = br.read(1) ? br.readSigned(4) : 0;
    for (let s = 0; s < 4; s++) {
      const q = segment.enabled ? segment.quantiser[s]! + (segment.absolute ? 0 : base) : base;
      const m = this.dequant;
      m[6 * s] = DC_TABLE[clipIndex(q + dy1Dc, 127)]!;
      m[6 * s + 1] = AC_TABLE[clipIndex(q, 127)]!;
      m[6 * s + 2] = DC_TABLE[clipIndex(q + dy2Dc, 127)]! * 2;
      // x * 155 / 100, as libwebp computes it.
      m[6 * s + 3] = Math.max(8, (AC_TABLE[clipIndex(q + dy2Ac, 127)]! * 101581) >> 16);
      m[6 * s + 4] = DC_TABLE[clipIndex(q + dUvDc, 117)]!;
      m[6 * s + 5] = AC_TABLE[clipIndex(q + dUvAc, 127)]!;
    }
  }

  /** PrecomputeFilterStrengths: each segment's level (absolute or relative to the frame's), the deltas, then the limits the sharpness allows. */
  private setFilterStrengths(segment: { enabled: boolean; absolute: boolean; strength: Int32Array }, filter: { level: number; sharpness: number; refDelta: number; modeDelta: number }): void {
    const { sharpness } = filter;
    for (let s = 0; s < 4; s++) {
      const base = segment.enabled ? segment.strength[s]! + (segment.absolute ? 0 : filter.level) : filter.level;
      for (let i4x4 = 0; i4x4 <= 1; i4x4++) {
        const at = 2 * s + i4x4;
        const level = Math.min(63, Math.max(0, base + filter.refDelta + (i4x4 ? filter.modeDelta : 0)));
        this.filterInner[at] = i4x4;
        if (level === 0) continue;
        let interior = level;
        if (sharpness > 0) {
          interior >>= sharpness > 4 ? 2 : 1;
          interior = Math.min(interior, 9 - sharpness);
        }
        interior = Math.max(interior, 1);
        this.filterInterior[at] = interior;
        this.filterLimit[at] = 2 * level + interior;
        this.filterHev[at] = level >= 40 ? 2 : level >= 15 ? 1 : 0;
      }
    }
  }

  /** Every macroblock row: modes from the first partition, tokens from the row's own, reconstruction, loop filter (ParseFrame). */
  decode(): Vp8Planes | undefined {
    const { mbW, mbH, header } = this;
    for (let mbY = 0; mbY < mbH; mbY++) {
      const tokens = this.partitions[mbY & (this.partitions.length - 1)]!;
      this.modesLeft.fill(DC_PRED);
      this.nonZeroLeft = 0;
      this.dcNonZeroLeft = 0;
      for (let mbX = 0; mbX < mbW; mbX++) this.readModes(mbX);
      if (header.eof) return undefined;
      for (let mbX = 0; mbX < mbW; mbX++) {
        this.readMacroblock(mbX, tokens);
        if (tokens.eof) return undefined;
        if (!this.reconstruct(mbX, mbY)) return undefined;
      }
      if (this.filterType > 0) for (let mbX = 0; mbX < mbW; mbX++) this.filter(mbX, mbY);
    }
    const { y, u, v } = this;
    return { width: this.width, height: this.height, y: new Uint8Array(y.buffer), u: new Uint8Array(u.buffer), v: new Uint8Array(v.buffer), stride: this.stride };
  }

  /** ParseIntraMode: segment, skip flag and prediction modes of one macroblock. */
  private readModes(mbX: number): void {
    const br = this.header;
    const p = this.segmentProbas;
    this.segments[mbX] = !this.segmentMap ? 0 : !br.bit(p[0]!) ? br.bit(p[1]!) : br.bit(p[2]!) + 2;
    this.skips[mbX] = this.skipProba >= 0 ? br.bit(this.skipProba) : 0;
    const above = this.modesAbove;
    const left = this.modesLeft;
    const is4x4 = !br.bit(145);
    this.is4x4[mbX] = is4x4 ? 1 : 0;
    if (!is4x4) {
      const mode = br.bit(156) ? (br.bit(128) ? TM_PRED : H_PRED) : br.bit(163) ? V_PRED : DC_PRED;
      this.modes[16 * mbX] = mode;
      above.fill(mode, 4 * mbX, 4 * mbX + 4);
      left.fill(mode);
    } else {
      for (let y = 0; y < 4; y++) {
        let mode = left[y]!;
        for (let x = 0; x < 4; x++) {
          const probas = (above[4 * mbX + x]! * 10 + mode) * 9;
          let node = INTRA4_TREE[br.bit(INTRA4_PROBAS[probas]!)]!;
          while (node > 0) node = INTRA4_TREE[2 * node + br.bit(INTRA4_PROBAS[probas + node]!)]!;
          mode = -node;
          above[4 * mbX + x] = mode;
          this.modes[16 * mbX + 4 * y + x] = mode;
        }
        left[y] = mode;
      }
    }
    this.chromaModes[mbX] = !br.bit(142) ? DC_PRED : !br.bit(114) ? V_PRED : br.bit(183) ? TM_PRED : H_PRED;
  }

  /** VP8DecodeMB: the macroblock's coefficients (unless skipped) and its filter parameters. */
  private readMacroblock(mbX: number, tokens: BoolReader): void {
    const is4x4 = this.is4x4[mbX]!;
    let skip = this.skipProba >= 0 ? this.skips[mbX]! : 0;
    if (!skip) {
      skip = this.readResiduals(mbX, tokens) ? 1 : 0;
    } else {
      this.nonZeroLeft = this.nonZeroAbove[mbX] = 0;
      if (!is4x4) this.dcNonZeroLeft = this.dcNonZeroAbove[mbX] = 0;
      this.nonZeroY = this.nonZeroUv = 0;
    }
    if (this.filterType > 0) {
      const at = 2 * this.segments[mbX]! + is4x4;
      this.rowLimit[mbX] = this.filterLimit[at]!;
      this.rowInterior[mbX] = this.filterInterior[at]!;
      this.rowHev[mbX] = this.filterHev[at]!;
      this.rowInner[mbX] = this.filterInner[at]! | (skip ? 0 : 1);
    }
  }

  /**
   * ParseResiduals: the 16 luma, 4 + 4 chroma blocks' coefficients, dequantised, with the luma DCs
   * through the Walsh-Hadamard transform for 16x16 prediction. Records which blocks have none, only
   * a DC, up to three or more coefficients (a 2-bit code each, first block highest), which picks
   * the inverse transform; true when no block has any.
   */
  private readResiduals(mbX: number, br: BoolReader): boolean {
    const coeffs = this.coeffs;
    const probas = this.probas;
    const q = 6 * this.segments[mbX]!;
    const dq = this.dequant;
    coeffs.fill(0);
    let first: number;
    let acType: number;
    if (!this.is4x4[mbX]) {
      const dc = this.dc;
      dc.fill(0);
      const nz = readCoeffs(br, probas, 1 * 264, this.dcNonZeroAbove[mbX]! + this.dcNonZeroLeft, dq[q + 2]!, dq[q + 3]!, 0, dc, 0);
      this.dcNonZeroAbove[mbX] = this.dcNonZeroLeft = nz > 0 ? 1 : 0;
      if (nz > 1) {
        inverseWht(dc, coeffs);
      } else {
        const dc0 = (dc[0]! + 3) >> 3;
        for (let i = 0; i < 256; i += 16) coeffs[i] = dc0;
      }
      first = 1;
      acType = 0;
    } else {
      first = 0;
      acType = 3 * 264;
    }
    let above = this.nonZeroAbove[mbX]! & 0x0f;
    let left = this.nonZeroLeft & 0x0f;
    let nonZeroY = 0;
    for (let y = 0; y < 4; y++) {
      let l = left & 1;
      let codes = 0;
      for (let x = 0; x < 4; x++) {
        const at = 64 * y + 16 * x;
        const nz = readCoeffs(br, probas, acType, l + (above & 1), dq[q]!, dq[q + 1]!, first, coeffs, at);
        l = nz > first ? 1 : 0;
        above = (above >> 1) | (l << 7);
        codes = (codes << 2) | (nz > 3 ? 3 : nz > 1 ? 2 : coeffs[at] !== 0 ? 1 : 0);
      }
      above >>= 4;
      left = (left >> 1) | (l << 7);
      nonZeroY = (nonZeroY << 8) | codes;
    }
    let aboveOut = above;
    let leftOut = left >> 4;
    let nonZeroUv = 0;
    for (let ch = 0; ch < 4; ch += 2) {
      let codes = 0;
      above = this.nonZeroAbove[mbX]! >> (4 + ch);
      left = this.nonZeroLeft >> (4 + ch);
      for (let y = 0; y < 2; y++) {
        let l = left & 1;
        for (let x = 0; x < 2; x++) {
          const at = 256 + 16 * (2 * ch + 2 * y + x);
          const nz = readCoeffs(br, probas, 2 * 264, l + (above & 1), dq[q + 4]!, dq[q + 5]!, 0, coeffs, at);
          l = nz > 0 ? 1 : 0;
          above = (above >> 1) | (l << 3);
          codes = (codes << 2) | (nz > 3 ? 3 : nz > 1 ? 2 : coeffs[at] !== 0 ? 1 : 0);
        }
        above >>= 2;
        left = (left >> 1) | (l << 5);
      }
      nonZeroUv |= codes << (4 * ch);
      aboveOut |= (above << 4) << ch;
      leftOut |= (left & 0xf0) << ch;
    }
    this.nonZeroAbove[mbX] = aboveOut;
    this.nonZeroLeft = leftOut & 0xff;
    this.nonZeroY = nonZeroY;
    this.nonZeroUv = nonZeroUv;
    return (nonZeroY | nonZeroUv) === 0;
  }

  /** ReconstructRow for one macroblock: predictions plus residuals in the work area, then into the planes. */
  private reconstruct(mbX: number, mbY: number): boolean {
    const w = this.work;
    if (mbX === 0) {
      for (let j = 0; j < 16; j++) w[Y_OFF + j * BPS - 1] = 129;
      for (let j = 0; j < 8; j++) w[U_OFF + j * BPS - 1] = w[V_OFF + j * BPS - 1] = 129;
      if (mbY > 0) {
        w[Y_OFF - BPS - 1] = w[U_OFF - BPS - 1] = w[V_OFF - BPS - 1] = 129;
      } else {
        // Above the picture, and above-left of it: 127, top-right samples included.
        w.fill(127, Y_OFF - BPS - 1, Y_OFF - BPS + 20);
        w.fill(127, U_OFF - BPS - 1, U_OFF - BPS + 8);
        w.fill(127, V_OFF - BPS - 1, V_OFF - BPS + 8);
      }
    } else {
      // The left neighbour's right columns (and above-left sample) become the left samples.
      for (let j = -1; j < 16; j++) for (let i = -4; i < 0; i++) w[Y_OFF + j * BPS + i] = w[Y_OFF + j * BPS + 16 + i]!;
      for (let j = -1; j < 8; j++) {
        for (let i = -4; i < 0; i++) {
          w[U_OFF + j * BPS + i] = w[U_OFF + j * BPS + 8 + i]!;
          w[V_OFF + j * BPS + i] = w[V_OFF + j * BPS + 8 + i]!;
        }
      }
    }
    const { aboveY, aboveU, aboveV, coeffs, mbW } = this;
    if (mbY > 0) {
      for (let i = 0; i < 16; i++) w[Y_OFF - BPS + i] = aboveY[16 * mbX + i]!;
      for (let i = 0; i < 8; i++) {
        w[U_OFF - BPS + i] = aboveU[8 * mbX + i]!;
        w[V_OFF - BPS + i] = aboveV[8 * mbX + i]!;
      }
    }
    let bits = this.nonZeroY;
    if (this.is4x4[mbX]) {
      const topRight = Y_OFF - BPS + 16;
      if (mbY > 0) {
        for (let i = 0; i < 4; i++) w[topRight + i] = mbX >= mbW - 1 ? aboveY[16 * mbX + 15]! : aboveY[16 * mbX + 16 + i]!;
      }
      // The right column of blocks sees the macroblock's top-right samples for every block row.
      for (let r = 4; r < 16; r += 4) for (let i = 0; i < 4; i++) w[topRight + r * BPS + i] = w[topRight + i]!;
      for (let n = 0; n < 16; n++, bits <<= 2) {
        const dst = Y_OFF + SCAN[n]!;
        predictLuma4(this.modes[16 * mbX + n]!, w, dst);
        if (!inverseTransform(bits >>> 30, coeffs, 16 * n, w, dst)) return false;
      }
    } else {
      predictLuma16(edgeMode(this.modes[16 * mbX]!, mbX, mbY), w, Y_OFF);
      for (let n = 0; bits !== 0 && n < 16; n++, bits <<= 2) if (!inverseTransform(bits >>> 30, coeffs, 16 * n, w, Y_OFF + SCAN[n]!)) return false;
    }
    const chromaMode = edgeMode(this.chromaModes[mbX]!, mbX, mbY);
    predictChroma8(chromaMode, w, U_OFF);
    predictChroma8(chromaMode, w, V_OFF);
    if (!inverseTransformUv(this.nonZeroUv, coeffs, 256, w, U_OFF) || !inverseTransformUv(this.nonZeroUv >> 8, coeffs, 320, w, V_OFF)) return false;
    if (mbY < this.mbH - 1) {
      for (let i = 0; i < 16; i++) aboveY[16 * mbX + i] = w[Y_OFF + 15 * BPS + i]!;
      for (let i = 0; i < 8; i++) {
        aboveU[8 * mbX + i] = w[U_OFF + 7 * BPS + i]!;
        aboveV[8 * mbX + i] = w[V_OFF + 7 * BPS + i]!;
      }
    }
    const { y, u, v, stride } = this;
    const uvStride = stride >> 1;
    for (let j = 0; j < 16; j++) {
      const to = (16 * mbY + j) * stride + 16 * mbX;
      const from = Y_OFF + j * BPS;
      for (let i = 0; i < 16; i++) y[to + i] = w[from + i]!;
    }
    for (let j = 0; j < 8; j++) {
      const to = (8 * mbY + j) * uvStride + 8 * mbX;
      for (let i = 0; i < 8; i++) {
        u[to + i] = w[U_OFF + j * BPS + i]!;
        v[to + i] = w[V_OFF + j * BPS + i]!;
      }
    }
    return true;
  }

  /** DoFilter: the macroblock's left and top edges (not at the picture's edge) and, where it has them, its inner edges. */
  private filter(mbX: number, mbY: number): void {
    const limit = this.rowLimit[mbX]!;
    if (limit === 0) return;
    const { y, u, v, stride } = this;
    const inner = this.rowInner[mbX]!;
    const yAt = 16 * mbY * stride + 16 * mbX;
    if (this.filterType === 1) {
      if (mbX > 0) simpleFilter(y, yAt, 1, stride, limit + 4);
      if (inner) for (let k = 4; k < 16; k += 4) simpleFilter(y, yAt + k, 1, stride, limit);
      if (mbY > 0) simpleFilter(y, yAt, stride, 1, limit + 4);
      if (inner) for (let k = 4; k < 16; k += 4) simpleFilter(y, yAt + k * stride, stride, 1, limit);
      return;
    }
    const uvStride = stride >> 1;
    const uvAt = 8 * mbY * uvStride + 8 * mbX;
    const interior = this.rowInterior[mbX]!;
    const hev = this.rowHev[mbX]!;
    if (mbX > 0) {
      edgeFilter(y, yAt, 1, stride, 16, limit + 4, interior, hev, true);
      edgeFilter(u, uvAt, 1, uvStride, 8, limit + 4, interior, hev, true);
      edgeFilter(v, uvAt, 1, uvStride, 8, limit + 4, interior, hev, true);
    }
    if (inner) {
      for (let k = 4; k < 16; k += 4) edgeFilter(y, yAt + k, 1, stride, 16, limit, interior, hev, false);
      edgeFilter(u, uvAt + 4, 1, uvStride, 8, limit, interior, hev, false);
      edgeFilter(v, uvAt + 4, 1, uvStride, 8, limit, interior, hev, false);
    }
    if (mbY > 0) {
      edgeFilter(y, yAt, stride, 1, 16, limit + 4, interior, hev, true);
      edgeFilter(u, uvAt, uvStride, 1, 8, limit + 4, interior, hev, true);
      edgeFilter(v, uvAt, uvStride, 1, 8, limit + 4, interior, hev, true);
    }
    if (inner) {
      for (let k = 4; k < 16; k += 4) edgeFilter(y, yAt + k * stride, stride, 1, 16, limit, interior, hev, false);
      edgeFilter(u, uvAt + 4 * uvStride, uvStride, 1, 8, limit, interior, hev, false);
      edgeFilter(v, uvAt + 4 * uvStride, uvStride, 1, 8, limit, interior, hev, false);
    }
  }
}

/** GetLargeValue: a token's magnitude past 1 (paragraph 13.2's categories). */
function largeValue(br: BoolReader, probas: Uint8Array, p: number): number {
  if (!br.bit(probas[p + 3]!)) return !br.bit(probas[p + 4]!) ? 2 : 3 + br.bit(probas[p + 5]!);
  if (!br.bit(probas[p + 6]!)) return !br.bit(probas[p + 7]!) ? 5 + br.bit(159) : 7 + 2 * br.bit(165) + br.bit(145);
  const bit1 = br.bit(probas[p + 8]!);
  const category = 2 * bit1 + br.bit(probas[p + 9 + bit1]!);
  const extra = CATEGORY_PROBAS[category]!;
  let v = 0;
  for (let i = 0; i < extra.length; i++) v += v + br.bit(extra[i]!);
  return v + 3 + (8 << category);
}

/**
 * GetCoeffs: one block's tokens from coefficient `n` on, in the probabilities of `type` (an offset)
 * and the neighbours' context `ctx`, dequantised (`dc` for the first, `ac` for the rest) into
 * `out` at `at` in natural order; returns one past the last non-zero coefficient.
 */
function readCoeffs(br: BoolReader, probas: Uint8Array, type: number, ctx: number, dc: number, ac: number, n: number, out: Int16Array, at: number): number {
  let p = type + BAND_OFFSET[n]! + 11 * ctx;
  for (; n < 16; n++) {
    if (!br.bit(probas[p]!)) return n; // no more coefficients
    while (!br.bit(probas[p + 1]!)) {
      // a zero
      p = type + BAND_OFFSET[++n]!;
      if (n === 16) return 16;
    }
    const next = type + BAND_OFFSET[n + 1]!;
    let v: number;
    if (!br.bit(probas[p + 2]!)) {
      v = 1;
      p = next + 11;
    } else {
      v = largeValue(br, probas, p);
      p = next + 22;
    }
    out[at + ZIGZAG[n]!] = br.signed(v) * (n > 0 ? ac : dc);
  }
  return 16;
}

/** The inverse Walsh-Hadamard transform of the 16 luma DCs, into each block's first coefficient. */
function inverseWht(input: Int16Array, out: Int16Array): void {
  const tmp = WHT_TMP;
  for (let i = 0; i < 4; i++) {
    const a0 = input[i]! + input[12 + i]!;
    const a1 = input[4 + i]! + input[8 + i]!;
    const a2 = input[4 + i]! - input[8 + i]!;
    const a3 = input[i]! - input[12 + i]!;
    tmp[i] = a0 + a1;
    tmp[8 + i] = a0 - a1;
    tmp[4 + i] = a3 + a2;
    tmp[12 + i] = a3 - a2;
  }
  for (let i = 0; i < 4; i++) {
    const dc = tmp[4 * i]! + 3;
    const a0 = dc + tmp[3 + 4 * i]!;
    const a1 = tmp[1 + 4 * i]! + tmp[2 + 4 * i]!;
    const a2 = tmp[1 + 4 * i]! - tmp[2 + 4 * i]!;
    const a3 = dc - tmp[3 + 4 * i]!;
    out[64 * i] = (a0 + a1) >> 3;
    out[64 * i + 16] = (a3 + a2) >> 3;
    out[64 * i + 32] = (a0 - a1) >> 3;
    out[64 * i + 48] = (a3 - a2) >> 3;
  }
}
const WHT_TMP = new Int32Array(16);
const IDCT_TMP = new Int32Array(16);

// The transform's multipliers: sqrt(2) cos(pi/8) - 1 and sqrt(2) sin(pi/8), in 16-bit fixed point.
const mul1 = (a: number) => ((a * 20091) >> 16) + a;
const mul2 = (a: number) => (a * 35468) >> 16;

/** Adds a residual (in eighths) to a predicted sample, clipped by the clamped store. */
function addResidual(w: Uint8ClampedArray, at: number, v: number): void {
  w[at] = w[at]! + (v >> 3);
}

/**
 * Whether libwebp's SSE2 transforms (the ones sharp runs on x86-64) compute this block as its C
 * code does: they work in 16-bit lanes, wrapping (Transform_SSE2) or saturating
 * (TransformAC3_SSE2), so a block whose sums leave int16 (only damaged data make one) decodes
 * otherwise, and its frame is left to sharp. Coefficients within +-2048 keep every sum under
 * 15 * 2048 + 4; larger ones (rare) have each of the SSE2 code's sums checked.
 */
function fitsSimd(code: number, c: Int16Array, at: number): boolean {
  let bits = 0;
  for (let i = at; i < at + 16; i++) bits |= c[i]! + 2048;
  return bits >>> 12 === 0 || (code === 2 ? ac3Fits(c, at) : transformFits(c, at));
}

/** Accumulates sums into a mask that has a bit over 16 set once any leaves int16. */
const outside = (mask: number, ...sums: number[]) => sums.reduce((m, v) => m | (v + 0x8000), mask);
// _mm_mulhi_epi16 by 20091 and by -30068 (35468 - 65536): the SSE2 form of mul1 and mul2.
const mulhi1 = (a: number) => (a * 20091) >> 16;
const mulhi2 = (a: number) => (a * -30068) >> 16;

/** Transform_SSE2's sums, each checked: the columns, then (transposed) the rows. */
function transformFits(c: Int16Array, at: number): boolean {
  let mask = 0;
  const tmp = IDCT_TMP;
  const pass = (in0: number, in1: number, in2: number, in3: number, out: number) => {
    const [a, b] = [in0 + in2, in0 - in2];
    const [c3, c4, d3, d4] = [in1 - in3, mulhi2(in1) - mulhi1(in3), in1 + in3, mulhi1(in1) + mulhi2(in3)];
    const [cc, d] = [c3 + c4, d3 + d4];
    mask = outside(mask, in0, a, b, c3, c4, cc, d3, d4, d, a + d, b + cc, b - cc, a - d);
    [tmp[out], tmp[out + 1], tmp[out + 2], tmp[out + 3]] = [a + d, b + cc, b - cc, a - d];
  };
  for (let i = 0; i < 4; i++) pass(c[at + i]!, c[at + 4 + i]!, c[at + 8 + i]!, c[at + 12 + i]!, 4 * i);
  const columns = Int32Array.from(tmp);
  for (let i = 0; i < 4; i++) pass(columns[i]! + 4, columns[4 + i]!, columns[8 + i]!, columns[12 + i]!, 4 * i);
  return mask >>> 16 === 0;
}

/** TransformAC3_SSE2's values, each set into 16-bit lanes, and its saturating sums. */
function ac3Fits(c: Int16Array, at: number): boolean {
  const a = c[at]! + 4;
  const [c4, d4, c1, d1] = [mul2(c[at + 4]!), mul1(c[at + 4]!), mul2(c[at + 1]!), mul1(c[at + 1]!)];
  let mask = outside(0, a, c4, d4, c1, d1, -c1, -d1);
  for (const column of [a + d1, a + c1, a - c1, a - d1]) mask = outside(mask, column, column + d4, column + c4, column - c4, column - d4);
  return mask >>> 16 === 0;
}

/**
 * The inverse transform a block's code calls for (3: full, 2: only coefficients 0, 1 and 4, 1: DC
 * only, 0: none), added to the prediction at `dst`; false where libwebp's SIMD code would differ.
 */
function inverseTransform(code: number, c: Int16Array, at: number, w: Uint8ClampedArray, dst: number): boolean {
  if (code >= 2 && !fitsSimd(code, c, at)) return false;
  if (code === 3) {
    inverseDct(c, at, w, dst);
  } else if (code === 2) {
    const a = c[at]! + 4;
    const c4 = mul2(c[at + 4]!);
    const d4 = mul1(c[at + 4]!);
    const c1 = mul2(c[at + 1]!);
    const d1 = mul1(c[at + 1]!);
    for (let row = 0; row < 4; row++) {
      const dc = row === 0 ? a + d4 : row === 1 ? a + c4 : row === 2 ? a - c4 : a - d4;
      const line = dst + row * BPS;
      addResidual(w, line, dc + d1);
      addResidual(w, line + 1, dc + c1);
      addResidual(w, line + 2, dc - c1);
      addResidual(w, line + 3, dc - d1);
    }
  } else if (code === 1) {
    inverseDc(c, at, w, dst);
  }
  return true;
}

function inverseDc(c: Int16Array, at: number, w: Uint8ClampedArray, dst: number): void {
  const dc = c[at]! + 4;
  for (let row = 0; row < 4; row++) for (let x = 0; x < 4; x++) addResidual(w, dst + row * BPS + x, dc);
}

/** TransformOne: columns, then rows, rounded and added to the prediction. */
function inverseDct(c: Int16Array, at: number, w: Uint8ClampedArray, dst: number): void {
  const tmp = IDCT_TMP;
  for (let i = 0; i < 4; i++) {
    const i0 = c[at + i]!;
    const i4 = c[at + 4 + i]!;
    const i8 = c[at + 8 + i]!;
    const i12 = c[at + 12 + i]!;
    const a = i0 + i8;
    const b = i0 - i8;
    const cc = mul2(i4) - mul1(i12);
    const d = mul1(i4) + mul2(i12);
    tmp[4 * i] = a + d;
    tmp[4 * i + 1] = b + cc;
    tmp[4 * i + 2] = b - cc;
    tmp[4 * i + 3] = a - d;
  }
  for (let i = 0; i < 4; i++) {
    const dc = tmp[i]! + 4;
    const a = dc + tmp[8 + i]!;
    const b = dc - tmp[8 + i]!;
    const cc = mul2(tmp[4 + i]!) - mul1(tmp[12 + i]!);
    const d = mul1(tmp[4 + i]!) + mul2(tmp[12 + i]!);
    const line = dst + i * BPS;
    addResidual(w, line, a + d);
    addResidual(w, line + 1, b + cc);
    addResidual(w, line + 2, b - cc);
    addResidual(w, line + 3, a - d);
  }
}

/**
 * DoUVTransform: a chroma block's four residuals, fully transformed if any has an AC coefficient,
 * else DC only where there is one; false where libwebp's SIMD code would differ.
 */
function inverseTransformUv(codes: number, c: Int16Array, at: number, w: Uint8ClampedArray, dst: number): boolean {
  if ((codes & 0xff) === 0) return true;
  for (let k = 0; k < 4; k++) {
    const block = at + 16 * k;
    const to = dst + (k & 1) * 4 + (k >> 1) * 4 * BPS;
    if (codes & 0xaa) {
      if (!fitsSimd(3, c, block)) return false;
      inverseDct(c, block, w, to);
    } else if (c[block] !== 0) inverseDc(c, block, w, to);
  }
  return true;
}

/** CheckMode: DC prediction without the neighbours a macroblock at the picture's top or left edge lacks. */
function edgeMode(mode: number, mbX: number, mbY: number): number {
  if (mode !== DC_PRED) return mode;
  return mbX === 0 ? (mbY === 0 ? DC_NO_TOP_LEFT : DC_NO_LEFT) : mbY === 0 ? DC_NO_TOP : DC_PRED;
}

const clipIndex = (q: number, max: number) => (q < 0 ? 0 : q > max ? max : q);
const avg3 = (a: number, b: number, c: number) => (a + 2 * b + c + 2) >> 2;
const avg2 = (a: number, b: number) => (a + b + 1) >> 1;

/** Fills a `size` x `size` block with `v`. */
function fillBlock(w: Uint8ClampedArray, dst: number, size: number, v: number): void {
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) w[dst + j * BPS + i] = v;
}

/** TrueMotion: above + left - above-left, clipped. */
function trueMotion(w: Uint8ClampedArray, dst: number, size: number): void {
  const corner = w[dst - BPS - 1]!;
  for (let j = 0; j < size; j++) {
    const left = w[dst + j * BPS - 1]! - corner;
    for (let i = 0; i < size; i++) w[dst + j * BPS + i] = w[dst - BPS + i]! + left;
  }
}

/** VE16 and VE8uv: each row the row above. */
function vertical(w: Uint8ClampedArray, dst: number, size: number): void {
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) w[dst + j * BPS + i] = w[dst - BPS + i]!;
}

/** HE16 and HE8uv: each row its left sample. */
function horizontal(w: Uint8ClampedArray, dst: number, size: number): void {
  for (let j = 0; j < size; j++) {
    const left = w[dst + j * BPS - 1]!;
    for (let i = 0; i < size; i++) w[dst + j * BPS + i] = left;
  }
}

/** The DC predictions of 16x16 luma and 8x8 chroma (`shift` log2 of twice the size): the rounded mean of the edges the mode uses. */
function predictDc(mode: number, w: Uint8ClampedArray, dst: number, size: number, shift: number): void {
  let sum = 0;
  if (mode !== DC_NO_TOP && mode !== DC_NO_TOP_LEFT) for (let i = 0; i < size; i++) sum += w[dst - BPS + i]!;
  if (mode !== DC_NO_LEFT && mode !== DC_NO_TOP_LEFT) for (let j = 0; j < size; j++) sum += w[dst + j * BPS - 1]!;
  const bits = mode === DC_PRED ? shift : shift - 1;
  fillBlock(w, dst, size, mode === DC_NO_TOP_LEFT ? 0x80 : (sum + (1 << (bits - 1))) >> bits);
}

function predictLuma16(mode: number, w: Uint8ClampedArray, dst: number): void {
  if (mode === TM_PRED) trueMotion(w, dst, 16);
  else if (mode === V_PRED) vertical(w, dst, 16);
  else if (mode === H_PRED) horizontal(w, dst, 16);
  else predictDc(mode, w, dst, 16, 5);
}

function predictChroma8(mode: number, w: Uint8ClampedArray, dst: number): void {
  if (mode === TM_PRED) trueMotion(w, dst, 8);
  else if (mode === V_PRED) vertical(w, dst, 8);
  else if (mode === H_PRED) horizontal(w, dst, 8);
  else predictDc(mode, w, dst, 8, 4);
}

/** The ten 4x4 luma predictions (dsp/dec.c's DC4 to HU4), from the row above (with four above-right) and the column left. */
function predictLuma4(mode: number, w: Uint8ClampedArray, dst: number): void {
  const r1 = dst + BPS;
  const r2 = dst + 2 * BPS;
  const r3 = dst + 3 * BPS;
  const top = dst - BPS;
  const I = w[dst - 1]!;
  const J = w[r1 - 1]!;
  const K = w[r2 - 1]!;
  const L = w[r3 - 1]!;
  const X = w[top - 1]!;
  const A = w[top]!;
  const B = w[top + 1]!;
  const C = w[top + 2]!;
  const D = w[top + 3]!;
  switch (mode) {
    case DC_PRED:
      fillBlock(w, dst, 4, (A + B + C + D + I + J + K + L + 4) >> 3);
      return;
    case TM_PRED:
      trueMotion(w, dst, 4);
      return;
    case V_PRED: {
      const E = w[top + 4]!;
      for (let at = dst; at <= r3; at += BPS) {
        w[at] = avg3(X, A, B);
        w[at + 1] = avg3(A, B, C);
        w[at + 2] = avg3(B, C, D);
        w[at + 3] = avg3(C, D, E);
      }
      return;
    }
    case H_PRED:
      for (let i = 0; i < 4; i++) {
        w[dst + i] = avg3(X, I, J);
        w[r1 + i] = avg3(I, J, K);
        w[r2 + i] = avg3(J, K, L);
        w[r3 + i] = avg3(K, L, L);
      }
      return;
    case 4: // down-right
      w[r3] = avg3(J, K, L);
      w[r3 + 1] = w[r2] = avg3(I, J, K);
      w[r3 + 2] = w[r2 + 1] = w[r1] = avg3(X, I, J);
      w[r3 + 3] = w[r2 + 2] = w[r1 + 1] = w[dst] = avg3(A, X, I);
      w[r2 + 3] = w[r1 + 2] = w[dst + 1] = avg3(B, A, X);
      w[r1 + 3] = w[dst + 2] = avg3(C, B, A);
      w[dst + 3] = avg3(D, C, B);
      return;
    case 5: // vertical-right
      w[dst] = w[r2 + 1] = avg2(X, A);
      w[dst + 1] = w[r2 + 2] = avg2(A, B);
      w[dst + 2] = w[r2 + 3] = avg2(B, C);
      w[dst + 3] = avg2(C, D);
      w[r3] = avg3(K, J, I);
      w[r2] = avg3(J, I, X);
      w[r1] = w[r3 + 1] = avg3(I, X, A);
      w[r1 + 1] = w[r3 + 2] = avg3(X, A, B);
      w[r1 + 2] = w[r3 + 3] = avg3(A, B, C);
      w[r1 + 3] = avg3(B, C, D);
      return;
    case 6: { // down-left
      const E = w[top + 4]!;
      const F = w[top + 5]!;
      const G = w[top + 6]!;
      const H = w[top + 7]!;
      w[dst] = avg3(A, B, C);
      w[dst + 1] = w[r1] = avg3(B, C, D);
      w[dst + 2] = w[r1 + 1] = w[r2] = avg3(C, D, E);
      w[dst + 3] = w[r1 + 2] = w[r2 + 1] = w[r3] = avg3(D, E, F);
      w[r1 + 3] = w[r2 + 2] = w[r3 + 1] = avg3(E, F, G);
      w[r2 + 3] = w[r3 + 2] = avg3(F, G, H);
      w[r3 + 3] = avg3(G, H, H);
      return;
    }
    case 7: { // vertical-left
      const E = w[top + 4]!;
      const F = w[top + 5]!;
      const G = w[top + 6]!;
      const H = w[top + 7]!;
      w[dst] = avg2(A, B);
      w[dst + 1] = w[r2] = avg2(B, C);
      w[dst + 2] = w[r2 + 1] = avg2(C, D);
      w[dst + 3] = w[r2 + 2] = avg2(D, E);
      w[r1] = avg3(A, B, C);
      w[r1 + 1] = w[r3] = avg3(B, C, D);
      w[r1 + 2] = w[r3 + 1] = avg3(C, D, E);
      w[r1 + 3] = w[r3 + 2] = avg3(D, E, F);
      w[r2 + 3] = avg3(E, F, G);
      w[r3 + 3] = avg3(F, G, H);
      return;
    }
    case 8: // horizontal-down
      w[dst] = w[r1 + 2] = avg2(I, X);
      w[r1] = w[r2 + 2] = avg2(J, I);
      w[r2] = w[r3 + 2] = avg2(K, J);
      w[r3] = avg2(L, K);
      w[dst + 3] = avg3(A, B, C);
      w[dst + 2] = avg3(X, A, B);
      w[dst + 1] = w[r1 + 3] = avg3(I, X, A);
      w[r1 + 1] = w[r2 + 3] = avg3(J, I, X);
      w[r2 + 1] = w[r3 + 3] = avg3(K, J, I);
      w[r3 + 1] = avg3(L, K, J);
      return;
    default: // horizontal-up
      w[dst] = avg2(I, J);
      w[dst + 2] = w[r1] = avg2(J, K);
      w[r1 + 2] = w[r2] = avg2(K, L);
      w[dst + 1] = avg3(I, J, K);
      w[dst + 3] = w[r1 + 1] = avg3(J, K, L);
      w[r1 + 3] = w[r2 + 1] = avg3(K, L, L);
      w[r2 + 2] = w[r2 + 3] = w[r3] = w[r3 + 1] = w[r3 + 2] = w[r3 + 3] = L;
  }
}

// The loop filters (paragraph 15), along an edge: `step` crosses it, `along` moves along it;
// p3 p2 p1 p0 | q0 q1 q2 q3 are the samples either side. The planes are clamped arrays: stores
// clip to 0..255 as libwebp's clip1 table does.

/** DoFilter2: the two samples at the edge, by the clipped 4-tap difference. */
function filter2(b: Uint8ClampedArray, at: number, step: number): void {
  const p0 = b[at - step]!;
  const q0 = b[at]!;
  const a = 3 * (q0 - p0) + SCLIP1[b[at - 2 * step]! - b[at + step]! + 1020]!;
  b[at - step] = p0 + SCLIP2[((a + 3) >> 3) + 112]!;
  b[at] = q0 - SCLIP2[((a + 4) >> 3) + 112]!;
}

/** The simple filter along 16 samples of an edge, where the step across it is under `thresh`. */
function simpleFilter(b: Uint8ClampedArray, at: number, step: number, along: number, thresh: number): void {
  const limit = 2 * thresh + 1;
  for (let i = 0; i < 16; i++, at += along) {
    if (4 * ABS[b[at - step]! - b[at]! + 255]! + ABS[b[at - 2 * step]! - b[at + step]! + 255]! <= limit) filter2(b, at, step);
  }
}

/**
 * FilterLoop26 (a macroblock edge, `outer`) and FilterLoop24 (an inner edge) of the normal filter
 * along `size` samples: where the edge and the samples either side are smooth enough, libwebp's
 * DoFilter6 (six samples) or DoFilter4 (four), or only the two at the edge (DoFilter2) where the
 * variance is high.
 */
function edgeFilter(b: Uint8ClampedArray, at: number, step: number, along: number, size: number, thresh: number, interior: number, hevThresh: number, outer: boolean): void {
  const limit = 2 * thresh + 1;
  for (let i = 0; i < size; i++, at += along) {
    const p1 = b[at - 2 * step]!;
    const p0 = b[at - step]!;
    const q0 = b[at]!;
    const q1 = b[at + step]!;
    if (4 * ABS[p0 - q0 + 255]! + ABS[p1 - q1 + 255]! > limit) continue;
    const p2 = b[at - 3 * step]!;
    const q2 = b[at + 2 * step]!;
    const p10 = ABS[p1 - p0 + 255]!;
    const q10 = ABS[q1 - q0 + 255]!;
    if (Math.max(ABS[b[at - 4 * step]! - p2 + 255]!, ABS[p2 - p1 + 255]!, p10, ABS[b[at + 3 * step]! - q2 + 255]!, ABS[q2 - q1 + 255]!, q10) > interior) continue;
    if (p10 > hevThresh || q10 > hevThresh) {
      filter2(b, at, step);
    } else if (outer) {
      const a = SCLIP1[3 * (q0 - p0) + SCLIP1[p1 - q1 + 1020]! + 1020]!;
      const a1 = (27 * a + 63) >> 7;
      const a2 = (18 * a + 63) >> 7;
      const a3 = (9 * a + 63) >> 7;
      b[at - 3 * step] = p2 + a3;
      b[at - 2 * step] = p1 + a2;
      b[at - step] = p0 + a1;
      b[at] = q0 - a1;
      b[at + step] = q1 - a2;
      b[at + 2 * step] = q2 - a3;
    } else {
      const a = 3 * (q0 - p0);
      const a1 = SCLIP2[((a + 4) >> 3) + 112]!;
      const a2 = SCLIP2[((a + 3) >> 3) + 112]!;
      const a3 = (a1 + 1) >> 1;
      b[at - 2 * step] = p1 + a3;
      b[at - step] = p0 + a2;
      b[at] = q0 - a1;
      b[at + step] = q1 - a3;
    }
  }
}
