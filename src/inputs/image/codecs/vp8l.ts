/**
 * The lossless half of WebP: a VP8L bitstream (the payload of a "VP8L" chunk) decoded to ARGB
 * pixels, and a lossy frame's ALPH chunk to its alpha plane, for webp.ts to convert as libwebp
 * does. libvips' webpload (libwebp 1.6.0) gives the pixels the models were calibrated on;
 * lossless decoding has one right answer, but what libwebp refuses, and what it makes of the odd
 * stream it accepts, are its own: so this is src/dec/vp8l_dec.c step for step: its bit reader's
 * end of stream (src/utils/bit_reader_utils.c), the prefix codes with their simple and
 * code-length forms and the checks of src/utils/huffman_utils.c, two-level lookup tables as
 * libwebp builds them, the colour cache, LZ77 copies with the distance map, the entropy image of
 * meta prefix codes, and the inverse transforms of src/dsp/lossless.c (the 14 predictors with
 * libwebp's averaging, select and clamping, the cross-colour and subtract-green transforms, colour
 * indexing with its bundled pixels); for alpha, src/dec/alpha_dec.c and the unfilters of
 * src/dsp/filters.c. Anything libwebp refuses is undefined: nothing here throws on hostile input,
 * and memory is bounded by the image's size.
 */

/** What a VP8L header says (VP8LGetInfo): the size, and whether the image claims alpha. */
export interface Vp8lInfo {
  width: number;
  height: number;
  alpha: boolean;
}

const MAGIC_BYTE = 0x2f;
/** Signature, 14-bit width and height less one, the alpha hint and a 3-bit version. */
const HEADER_SIZE = 5;

/** VP8LGetInfo (VP8LCheckSignature, ReadImageInfo): undefined without the signature byte, or for a version other than 0. */
export function vp8lInfo(data: Uint8Array): Vp8lInfo | undefined {
  if (data.length < HEADER_SIZE || data[0] !== MAGIC_BYTE || data[4]! >> 5 !== 0) return undefined;
  const bits = (data[1]! | (data[2]! << 8) | (data[3]! << 16) | (data[4]! << 24)) >>> 0;
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
}

/**
 * VP8LBitReader, least significant bit first. libwebp calls it the end of stream once a read goes
 * past the data's last bit, or, for data shorter than its 64-bit window, past the window; the bits
 * it reads there are zeros or wrapped around. In one-shot decoding that end is a failure, sooner or
 * later (but for the one case decodePixels notes), so decoding stops at it; until then, the bits
 * past the data that a lookup peeks at are zeros here too.
 */
class BitReader {
  /** The data, then zeros (room for the reads one step past the end). */
  private readonly bytes: Uint8Array;
  private readonly limit: number;
  /** Bits consumed. */
  private pos: number;

  constructor(data: Uint8Array, start: number) {
    const size = Math.max(data.length, 8);
    this.bytes = new Uint8Array(size + 32);
    this.bytes.set(data);
    this.limit = size * 8;
    this.pos = start * 8;
  }

  get eos(): boolean {
    return this.pos > this.limit;
  }

  /** VP8LPrefetchBits: at least the next 25 bits, lowest first. */
  peek(): number {
    const { bytes } = this;
    const at = this.pos >>> 3;
    return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> (this.pos & 7);
  }

  /** VP8LSetBitPos: `count` bits consumed, after a peek. */
  skip(count: number): void {
    this.pos += count;
  }

  /** VP8LReadBits: `count` (at most 24) bits as a number. */
  read(count: number): number {
    const value = this.peek() & ((1 << count) - 1);
    this.pos += count;
    return value;
  }
}

// src/webp/format_constants.h
const NUM_LITERAL_CODES = 256;
const NUM_LENGTH_CODES = 24;
const NUM_DISTANCE_CODES = 40;
const MAX_CACHE_BITS = 11;
const MAX_CODE_LENGTH = 15;
const ARGB_BLACK = 0xff000000 | 0;
/** Green (with the length prefixes and the colour cache's codes), red, blue, alpha, distance. */
const ALPHABET_SIZES = [NUM_LITERAL_CODES + NUM_LENGTH_CODES, NUM_LITERAL_CODES, NUM_LITERAL_CODES, NUM_LITERAL_CODES, NUM_DISTANCE_CODES] as const;
const [GREEN, RED, BLUE, ALPHA, DISTANCE] = [0, 1, 2, 3, 4] as const;
/** HUFFMAN_TABLE_BITS: the first-level lookup of a prefix code; LENGTHS_TABLE_BITS: of the code-length code. */
const TABLE_BITS = 8;
const LENGTHS_TABLE_BITS = 7;
const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] as const;
/** Code-length codes 16 (repeat the previous length), 17 and 18 (repeat zero): extra bits and least repeat. */
const REPEAT_EXTRA_BITS = [2, 3, 7] as const;
const REPEAT_OFFSETS = [3, 3, 11] as const;
const DEFAULT_CODE_LENGTH = 8;
const [PREDICTOR_TRANSFORM, CROSS_COLOR_TRANSFORM, SUBTRACT_GREEN_TRANSFORM, COLOR_INDEXING_TRANSFORM] = [0, 1, 2, 3] as const;
/** kCodeToPlane: the 120 short distance codes as (dy << 4) | (8 - dx) around the pixel. */
const CODE_TO_PLANE = [
  0x18, 0x07, 0x17, 0x19, 0x28, 0x06, 0x27, 0x29, 0x16, 0x1a, 0x26, 0x2a, 0x38, 0x05, 0x37, 0x39, 0x15, 0x1b, 0x36, 0x3a,
  0x25, 0x2b, 0x48, 0x04, 0x47, 0x49, 0x14, 0x1c, 0x35, 0x3b, 0x46, 0x4a, 0x24, 0x2c, 0x58, 0x45, 0x4b, 0x34, 0x3c, 0x03,
  0x57, 0x59, 0x13, 0x1d, 0x56, 0x5a, 0x23, 0x2d, 0x44, 0x4c, 0x55, 0x5b, 0x33, 0x3d, 0x68, 0x02, 0x67, 0x69, 0x12, 0x1e,
  0x66, 0x6a, 0x22, 0x2e, 0x54, 0x5c, 0x43, 0x4d, 0x65, 0x6b, 0x32, 0x3e, 0x78, 0x01, 0x77, 0x79, 0x53, 0x5d, 0x11, 0x1f,
  0x64, 0x6c, 0x42, 0x4e, 0x76, 0x7a, 0x21, 0x2f, 0x75, 0x7b, 0x31, 0x3f, 0x63, 0x6d, 0x52, 0x5e, 0x00, 0x74, 0x7c, 0x41,
  0x4f, 0x10, 0x20, 0x62, 0x6e, 0x30, 0x73, 0x7d, 0x51, 0x5f, 0x40, 0x72, 0x7e, 0x61, 0x6f, 0x50, 0x71, 0x7f, 0x60, 0x70,
] as const;

/** VP8LSubSampleSize: `size` in blocks of 2^bits, rounded up. */
const subSampled = (size: number, bits: number) => (size + (1 << bits) - 1) >> bits;

/** The histogram of the first `size` code lengths. */
function lengthCounts(lengths: Int32Array, size: number): Int32Array {
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let symbol = 0; symbol < size; symbol++) {
    const len = lengths[symbol]!;
    count[len] = count[len]! + 1;
  }
  return count;
}

/**
 * BuildHuffmanTable's checks: some symbol coded, no length over-subscribed, and the code complete,
 * except that a single symbol of any length is a code of no bits.
 */
function isValidCode(lengths: Int32Array, size: number): boolean {
  const count = lengthCounts(lengths, size);
  const symbols = size - count[0]!;
  if (symbols === 0) return false;
  for (let len = 1; len < MAX_CODE_LENGTH; len++) if (count[len]! > 1 << len) return false;
  if (symbols === 1) return true;
  let open = 1;
  let nodes = 1;
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    open <<= 1;
    nodes += open;
    open -= count[len]!;
    if (open < 0) return false;
  }
  return nodes === 2 * symbols - 1;
}

/** GetNextKey: the bit-reversed increment of a `len`-bit code. */
function nextKey(key: number, len: number): number {
  let step = 1 << (len - 1);
  while (key & step) step >>= 1;
  return step ? (key & (step - 1)) + step : key;
}

/** NextTableBitSize: the width of the second-level table that the codes from `len` on share. */
function nextTableBits(count: Int32Array, len: number, rootBits: number): number {
  let left = 1 << (len - rootBits);
  while (len < MAX_CODE_LENGTH) {
    left -= count[len]!;
    if (left <= 0) break;
    len++;
    left <<= 1;
  }
  return len - rootBits;
}

/** ReplicateValue: `entry` at every `step`-th place of a table of `size` from `at`. */
function replicate(table: Int32Array, at: number, step: number, size: number, entry: number): void {
  for (let i = size - step; i >= 0; i -= step) table[at + i] = entry;
}

/**
 * BuildHuffmanTable's filling, of `table` or (undefined) only counting its size: the root table
 * of 2^rootBits entries, then the second-level tables of the longer codes. Each entry is
 * (bits << 16) | value: a symbol and the bits it takes, or, in the root, a second-level table's
 * start and its width plus rootBits.
 */
function fillTable(table: Int32Array | undefined, counts: Int32Array, sorted: Int32Array, rootBits: number): number {
  const count = counts.slice();
  const rootSize = 1 << rootBits;
  let total = rootSize;
  let key = 0;
  let symbol = 0;
  for (let len = 1, step = 2; len <= rootBits; len++, step <<= 1) {
    for (; count[len]! > 0; count[len] = count[len]! - 1) {
      if (table !== undefined) replicate(table, key, step, rootSize, (len << 16) | sorted[symbol]!);
      symbol++;
      key = nextKey(key, len);
    }
  }
  const mask = rootSize - 1;
  let low = -1;
  let start = 0;
  let size = rootSize;
  for (let len = rootBits + 1, step = 2; len <= MAX_CODE_LENGTH; len++, step <<= 1) {
    for (; count[len]! > 0; count[len] = count[len]! - 1) {
      if ((key & mask) !== low) {
        start += size;
        const bits = nextTableBits(count, len, rootBits);
        size = 1 << bits;
        total += size;
        low = key & mask;
        if (table !== undefined) table[low] = ((bits + rootBits) << 16) | start;
      }
      if (table !== undefined) replicate(table, start + (key >> rootBits), step, size, ((len - rootBits) << 16) | sorted[symbol]!);
      symbol++;
      key = nextKey(key, len);
    }
  }
  return total;
}

/** VP8LBuildHuffmanTable for a code `isValidCode` accepts: its lookup table, symbols in order of length, then value. */
function buildTable(lengths: Int32Array, size: number, rootBits: number): Int32Array {
  const count = lengthCounts(lengths, size);
  const offset = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let len = 1; len < MAX_CODE_LENGTH; len++) offset[len + 1] = offset[len]! + count[len]!;
  const sorted = new Int32Array(size - count[0]!);
  for (let symbol = 0; symbol < size; symbol++) {
    const len = lengths[symbol]!;
    if (len > 0) {
      sorted[offset[len]!] = symbol;
      offset[len] = offset[len]! + 1;
    }
  }
  // A single symbol takes no bits.
  if (sorted.length === 1) return new Int32Array(1 << rootBits).fill(sorted[0]!);
  const table = new Int32Array(fillTable(undefined, count, sorted, rootBits));
  fillTable(table, count, sorted, rootBits);
  return table;
}

/** ReadSymbol: one symbol through a two-level table (TABLE_BITS at the root). */
function readSymbol(table: Int32Array, br: BitReader): number {
  const bits = br.peek();
  let entry = table[bits & ((1 << TABLE_BITS) - 1)]!;
  let length = entry >>> 16;
  if (length > TABLE_BITS) {
    br.skip(TABLE_BITS);
    entry = table[(entry & 0xffff) + ((bits >>> TABLE_BITS) & ((1 << (length - TABLE_BITS)) - 1))]!;
    length = entry >>> 16;
  }
  br.skip(length);
  return entry & 0xffff;
}

/**
 * ReadHuffmanCodeLengths: the code lengths of an alphabet of `size`, themselves prefix-coded (by
 * the code-length code's lengths), with runs of the previous length or of zeros, and optionally
 * fewer tokens than symbols (the rest zero). False where libwebp fails.
 */
function readCodeLengths(br: BitReader, codeLengthLengths: Int32Array, size: number, lengths: Int32Array): boolean {
  if (!isValidCode(codeLengthLengths, CODE_LENGTH_ORDER.length)) return false;
  const table = buildTable(codeLengthLengths, CODE_LENGTH_ORDER.length, LENGTHS_TABLE_BITS);
  let tokens = size;
  if (br.read(1)) {
    tokens = 2 + br.read(2 + 2 * br.read(3));
    if (tokens > size) return false;
  }
  let previous = DEFAULT_CODE_LENGTH;
  for (let symbol = 0; symbol < size && tokens-- > 0; ) {
    if (br.eos) return false;
    const entry = table[br.peek() & ((1 << LENGTHS_TABLE_BITS) - 1)]!;
    br.skip(entry >>> 16);
    const length = entry & 0xffff;
    if (length < 16) {
      lengths[symbol++] = length;
      if (length !== 0) previous = length;
    } else {
      const slot = (length - 16) as 0 | 1 | 2;
      const repeat = br.read(REPEAT_EXTRA_BITS[slot]) + REPEAT_OFFSETS[slot];
      if (symbol + repeat > size) return false;
      lengths.fill(length === 16 ? previous : 0, symbol, symbol + repeat);
      symbol += repeat;
    }
  }
  return true;
}

/**
 * ReadHuffmanCode up to its table: the lengths of one prefix code of an alphabet of `size` into
 * `lengths`, either simple (one or two symbols of 1 or 8 bits, a symbol outside the alphabet
 * ignored) or coded; true where libwebp would build a table of them.
 */
function readCode(br: BitReader, size: number, lengths: Int32Array): boolean {
  lengths.fill(0, 0, size);
  if (br.read(1)) {
    const symbols = br.read(1) + 1;
    const first = br.read(br.read(1) === 0 ? 1 : 8);
    if (first < size) lengths[first] = 1;
    if (symbols === 2) {
      const second = br.read(8);
      if (second < size) lengths[second] = 1;
    }
  } else {
    const codeLengthLengths = new Int32Array(CODE_LENGTH_ORDER.length);
    const count = br.read(4) + 4;
    for (let i = 0; i < count; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = br.read(3);
    if (!readCodeLengths(br, codeLengthLengths, size, lengths)) return false;
  }
  return !br.eos && isValidCode(lengths, size);
}

/** The prefix codes of an entropy-coded image: groups of five tables, chosen per tile by the entropy image (or group 0 alone). */
interface MetaCodes {
  /** Tables by group, green, red, blue, alpha, distance; undefined for a group no tile uses. */
  groups: (readonly Int32Array[] | undefined)[];
  /** Per tile of 2^bits pixels square, its group; undefined for one group. */
  entropyImage: Int32Array | undefined;
  bits: number;
  tilesPerRow: number;
  cacheBits: number;
}

/**
 * ReadHuffmanCodes (and ReadHuffmanCodesHelper): for the main image, optionally an entropy image
 * (itself entropy-coded) assigning tiles to groups of codes, then every group's five codes in
 * order; those of groups no tile uses are checked and dropped, as libwebp's mapping does.
 */
function readMetaCodes(br: BitReader, width: number, height: number, cacheBits: number, allowEntropyImage: boolean): MetaCodes | undefined {
  let entropyImage: Int32Array | undefined;
  let bits = 0;
  let groupCount = 1;
  if (allowEntropyImage && br.read(1)) {
    bits = 2 + br.read(3);
    entropyImage = decodeEntropyCoded(br, subSampled(width, bits), subSampled(height, bits), false);
    if (entropyImage === undefined) return undefined;
    for (let i = 0; i < entropyImage.length; i++) {
      // The group is in the red and green bytes.
      const group = (entropyImage[i]! >> 8) & 0xffff;
      entropyImage[i] = group;
      if (group >= groupCount) groupCount = group + 1;
    }
  }
  if (br.eos) return undefined;
  const used = new Uint8Array(groupCount);
  if (entropyImage === undefined) used[0] = 1;
  else for (const group of entropyImage) used[group] = 1;
  const lengths = new Int32Array(ALPHABET_SIZES[GREEN] + (1 << MAX_CACHE_BITS));
  const groups: (Int32Array[] | undefined)[] = new Array(groupCount);
  for (let group = 0; group < groupCount; group++) {
    const tables: Int32Array[] = [];
    for (let code: number = GREEN; code <= DISTANCE; code++) {
      const size = ALPHABET_SIZES[code]! + (code === GREEN && cacheBits > 0 ? 1 << cacheBits : 0);
      if (!readCode(br, size, lengths)) return undefined;
      if (used[group]) tables.push(buildTable(lengths, size, TABLE_BITS));
    }
    if (used[group]) groups[group] = tables;
  }
  return { groups, entropyImage, bits, tilesPerRow: subSampled(width, bits), cacheBits };
}

/** GetCopyDistance (and GetCopyLength): a prefix symbol's value, its low bits read raw. */
function prefixValue(symbol: number, br: BitReader): number {
  if (symbol < 4) return symbol + 1;
  const extraBits = (symbol - 2) >> 1;
  return ((2 + (symbol & 1)) << extraBits) + br.read(extraBits) + 1;
}

/** PlaneCodeToDistance: the first 120 codes are offsets to nearby pixels, the rest plain distances. */
function planeDistance(width: number, code: number): number {
  if (code > CODE_TO_PLANE.length) return code - CODE_TO_PLANE.length;
  const plane = CODE_TO_PLANE[code - 1]!;
  const distance = (plane >> 4) * width + 8 - (plane & 0xf);
  return distance >= 1 ? distance : 1;
}

/** VP8LHashPix: the colour cache's index of a pixel. */
const cacheKey = (argb: number, cacheBits: number) => Math.imul(argb, 0x1e35a7bd) >>> (32 - cacheBits);

/**
 * DecodeImageData: `width` x `height` pixels of literals (green first, its code also naming
 * copies and cache entries), LZ77 copies and colour-cache hits, the codes switching per tile of
 * the entropy image. A copy reaching before the first pixel or past the last, or a read past the
 * data, is a failure. (libwebp defers inserting into the cache to row ends and lookups; the
 * cache's contents at each lookup are the same. Its 8-bit path for paletted alpha planes,
 * DecodeAlphaData, accepts a read past the data by the symbol that completes the image, with bits
 * its window then wraps around to: such a plane is refused here, and left to libwebp.)
 */
function decodePixels(br: BitReader, width: number, height: number, codes: MetaCodes): Int32Array | undefined {
  const { groups, entropyImage, bits, tilesPerRow, cacheBits } = codes;
  const end = width * height;
  const pixels = new Int32Array(end);
  const cache = cacheBits > 0 ? new Int32Array(1 << cacheBits) : undefined;
  const mask = bits === 0 ? ~0 : (1 << bits) - 1;
  const groupAt = (x: number, y: number) => groups[entropyImage === undefined ? 0 : entropyImage[(y >> bits) * tilesPerRow + (x >> bits)]!]!;
  let tables = groupAt(0, 0);
  let [x, y, at] = [0, 0, 0];
  while (at < end) {
    if ((x & mask) === 0) tables = groupAt(x, y);
    const green = readSymbol(tables[GREEN]!, br);
    if (green < NUM_LITERAL_CODES || green >= NUM_LITERAL_CODES + NUM_LENGTH_CODES) {
      let argb: number;
      if (green < NUM_LITERAL_CODES) {
        const red = readSymbol(tables[RED]!, br);
        const blue = readSymbol(tables[BLUE]!, br);
        const alpha = readSymbol(tables[ALPHA]!, br);
        argb = (alpha << 24) | (red << 16) | (green << 8) | blue;
      } else {
        const key = green - NUM_LITERAL_CODES - NUM_LENGTH_CODES;
        if (cache === undefined || key >= cache.length) return undefined;
        argb = cache[key]!;
      }
      pixels[at++] = argb;
      if (cache !== undefined) cache[cacheKey(argb, cacheBits)] = argb;
      if (++x >= width) {
        x = 0;
        y++;
      }
    } else {
      const length = prefixValue(green - NUM_LITERAL_CODES, br);
      const distance = planeDistance(width, prefixValue(readSymbol(tables[DISTANCE]!, br), br));
      if (at < distance || end - at < length) return undefined;
      for (const stop = at + length; at < stop; at++) {
        const argb = pixels[at - distance]!;
        pixels[at] = argb;
        if (cache !== undefined) cache[cacheKey(argb, cacheBits)] = argb;
      }
      x += length;
      while (x >= width) {
        x -= width;
        y++;
      }
      if (x & mask) tables = groupAt(x, y);
    }
    if (br.eos) return undefined;
  }
  return pixels;
}

/**
 * DecodeImageStream after the transforms: the colour cache's size (1 to 11 bits, or none), the
 * prefix codes, then the pixels. The main image may have an entropy image; the images inside it
 * (transform data, the entropy image) may not.
 */
function decodeEntropyCoded(br: BitReader, width: number, height: number, main: boolean): Int32Array | undefined {
  let cacheBits = 0;
  if (br.read(1)) {
    cacheBits = br.read(4);
    if (cacheBits < 1 || cacheBits > MAX_CACHE_BITS) return undefined;
  }
  const codes = readMetaCodes(br, width, height, cacheBits, main);
  return codes && decodePixels(br, width, height, codes);
}

/** One transform as ReadTransform reads it: the width it applies at, and its data (per-tile modes or multipliers, or the palette). */
interface Transform {
  type: number;
  width: number;
  bits: number;
  data: Int32Array;
}

/** VP8LAddPixels: per-channel sum, modulo 256. */
const addPixels = (a: number, b: number) => (((a & 0xff00ff00) + (b & 0xff00ff00)) & 0xff00ff00) | (((a & 0x00ff00ff) + (b & 0x00ff00ff)) & 0x00ff00ff);

/**
 * ReadTransform: predictor and cross-colour transforms with their tile size and per-tile image,
 * subtract-green with nothing, colour indexing with its palette (delta-coded, widened to the
 * 2, 4, 16 or 256 entries its bundling can index, black and transparent past its colours: libwebp's
 * ExpandColorMap). Each type at most once.
 */
function readTransform(br: BitReader, type: number, width: number, height: number): Transform | undefined {
  switch (type) {
    case PREDICTOR_TRANSFORM:
    case CROSS_COLOR_TRANSFORM: {
      const bits = 2 + br.read(3);
      const data = decodeEntropyCoded(br, subSampled(width, bits), subSampled(height, bits), false);
      return data && { type, width, bits, data };
    }
    case COLOR_INDEXING_TRANSFORM: {
      const colours = br.read(8) + 1;
      const bits = colours > 16 ? 0 : colours > 4 ? 1 : colours > 2 ? 2 : 3;
      const palette = decodeEntropyCoded(br, colours, 1, false);
      if (palette === undefined) return undefined;
      const data = new Int32Array(1 << (8 >> bits));
      data[0] = palette[0]!;
      for (let i = 1; i < colours; i++) data[i] = addPixels(palette[i]!, data[i - 1]!);
      return { type, width, bits, data };
    }
    default:
      return { type, width, bits: 0, data: new Int32Array(0) };
  }
}

/** Average2: per-channel mean, rounded down. */
const average2 = (a: number, b: number) => ((((a ^ b) & 0xfefefefe) >>> 1) + (a & b)) | 0;

/** Clip255 of a channel's signed sum. */
const clip255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * Select: top or left, whichever is nearer the gradient left + top - top-left over the four
 * channels (top's distance being |left - top-left|, left's |top - top-left|); top on a tie.
 */
function select(top: number, left: number, topLeft: number): number {
  let topFartherBy = 0;
  for (let shift = 0; shift < 32; shift += 8) {
    const [t, l, tl] = [(top >>> shift) & 0xff, (left >>> shift) & 0xff, (topLeft >>> shift) & 0xff];
    topFartherBy += Math.abs(l - tl) - Math.abs(t - tl);
  }
  return topFartherBy <= 0 ? top : left;
}

/** ClampedAddSubtractFull: left + top - top-left, per channel, clamped. */
function clampedAddSubtractFull(left: number, top: number, topLeft: number): number {
  let out = 0;
  for (let shift = 0; shift < 32; shift += 8) out |= clip255(((left >>> shift) & 0xff) + ((top >>> shift) & 0xff) - ((topLeft >>> shift) & 0xff)) << shift;
  return out;
}

/** ClampedAddSubtractHalf: the mean of left and top, moved away from top-left by half their difference (C's division, toward zero), clamped. */
function clampedAddSubtractHalf(left: number, top: number, topLeft: number): number {
  const mean = average2(left, top);
  let out = 0;
  for (let shift = 0; shift < 32; shift += 8) {
    const a = (mean >>> shift) & 0xff;
    out |= clip255(a + Math.trunc((a - ((topLeft >>> shift) & 0xff)) / 2)) << shift;
  }
  return out;
}

/** VP8LPredictors 0 to 13 (14 and 15 are black) of the pixel at `at`, from the decoded pixels left, above-left, above and above-right. */
function predict(mode: number, p: Int32Array, at: number, width: number): number {
  const above = at - width;
  switch (mode) {
    case 1:
      return p[at - 1]!;
    case 2:
      return p[above]!;
    case 3:
      return p[above + 1]!;
    case 4:
      return p[above - 1]!;
    case 5:
      return average2(average2(p[at - 1]!, p[above + 1]!), p[above]!);
    case 6:
      return average2(p[at - 1]!, p[above - 1]!);
    case 7:
      return average2(p[at - 1]!, p[above]!);
    case 8:
      return average2(p[above - 1]!, p[above]!);
    case 9:
      return average2(p[above]!, p[above + 1]!);
    case 10:
      return average2(average2(p[at - 1]!, p[above - 1]!), average2(p[above]!, p[above + 1]!));
    case 11:
      return select(p[above]!, p[at - 1]!, p[above - 1]!);
    case 12:
      return clampedAddSubtractFull(p[at - 1]!, p[above]!, p[above - 1]!);
    case 13:
      return clampedAddSubtractHalf(p[at - 1]!, p[above]!, p[above - 1]!);
    default:
      return ARGB_BLACK;
  }
}

/**
 * PredictorInverseTransform, in place: the first row predicted from black then the left, each
 * row's first pixel from above, the rest by their tile's mode (the last pixel's above-right being
 * its own row's first, as libwebp reads it).
 */
function unpredict(t: Transform, p: Int32Array, height: number): void {
  const { width, bits, data } = t;
  const tilesPerRow = subSampled(width, bits);
  p[0] = addPixels(p[0]!, ARGB_BLACK);
  for (let x = 1; x < width; x++) p[x] = addPixels(p[x]!, p[x - 1]!);
  for (let y = 1; y < height; y++) {
    const row = y * width;
    const modes = (y >> bits) * tilesPerRow;
    p[row] = addPixels(p[row]!, p[row - width]!);
    for (let x = 1; x < width; x++) p[row + x] = addPixels(p[row + x]!, predict((data[modes + (x >> bits)]! >> 8) & 0xf, p, row + x, width));
  }
}

/** ColorSpaceInverseTransform, in place: red from green, blue from green and the new red, by the tile's signed multipliers (ColorTransformDelta: product >> 5). */
function uncrossColours(t: Transform, p: Int32Array, height: number): void {
  const { width, bits, data } = t;
  const tilesPerRow = subSampled(width, bits);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const code = data[(y >> bits) * tilesPerRow + (x >> bits)]!;
      const at = y * width + x;
      const argb = p[at]!;
      const green = (argb << 16) >> 24;
      const red = (((argb >> 16) & 0xff) + ((((code << 24) >> 24) * green) >> 5)) & 0xff;
      const blue = ((argb & 0xff) + ((((code << 16) >> 24) * green) >> 5) + ((((code << 8) >> 24) * ((red << 24) >> 24)) >> 5)) & 0xff;
      p[at] = (argb & 0xff00ff00) | (red << 16) | blue;
    }
  }
}

/** VP8LAddGreenToBlueAndRed, in place. */
function addGreen(p: Int32Array): void {
  for (let i = 0; i < p.length; i++) {
    const argb = p[i]!;
    const green = (argb >> 8) & 0xff;
    p[i] = (argb & 0xff00ff00) | (((argb & 0x00ff00ff) + ((green << 16) | green)) & 0x00ff00ff);
  }
}

/** ColorIndexInverseTransform: each index (in green) to its palette colour, 2, 4 or 8 indices bundled per pixel below 17 colours, lowest bits first. */
function unindexColours(t: Transform, p: Int32Array, height: number): Int32Array {
  const { width, bits, data } = t;
  const out = new Int32Array(width * height);
  const indexBits = 8 >> bits;
  const indexMask = (1 << indexBits) - 1;
  const bundle = (1 << bits) - 1;
  let at = 0;
  for (let y = 0; y < height; y++) {
    let packed = 0;
    for (let x = 0; x < width; x++) {
      if ((x & bundle) === 0) packed = (p[at++]! >> 8) & 0xff;
      out[y * width + x] = data[packed & indexMask]!;
      packed >>= indexBits;
    }
  }
  return out;
}

/**
 * DecodeImageStream at the top level: the transforms, the entropy-coded image, the transforms
 * undone last to first, to ARGB (0xAARRGGBB per pixel, row-major).
 */
function decodeStream(br: BitReader, width: number, height: number): Int32Array | undefined {
  const transforms: Transform[] = [];
  let packedWidth = width;
  let seen = 0;
  while (br.read(1)) {
    const type = br.read(2);
    if (seen & (1 << type)) return undefined;
    seen |= 1 << type;
    const transform = readTransform(br, type, packedWidth, height);
    if (transform === undefined) return undefined;
    transforms.push(transform);
    // Bundled indices narrow the image that follows.
    if (type === COLOR_INDEXING_TRANSFORM) packedWidth = subSampled(packedWidth, transform.bits);
  }
  let pixels = decodeEntropyCoded(br, packedWidth, height, true);
  for (let i = transforms.length - 1; i >= 0 && pixels !== undefined; i--) {
    const transform = transforms[i]!;
    if (transform.type === PREDICTOR_TRANSFORM) unpredict(transform, pixels, height);
    else if (transform.type === CROSS_COLOR_TRANSFORM) uncrossColours(transform, pixels, height);
    else if (transform.type === SUBTRACT_GREEN_TRANSFORM) addGreen(pixels);
    else pixels = unindexColours(transform, pixels, height);
  }
  return pixels;
}

/**
 * A VP8L stream (the chunk's payload, padding included, as libwebp is given it) decoded to ARGB
 * (0xAARRGGBB per pixel, row-major). Undefined for anything libwebp refuses, or over `maxPixels`.
 */
export function decodeVp8l(data: Uint8Array, maxPixels: number): Int32Array | undefined {
  const info = vp8lInfo(data);
  if (info === undefined || info.width * info.height > maxPixels) return undefined;
  return decodeStream(new BitReader(data, HEADER_SIZE), info.width, info.height);
}

// ALPH's header byte (src/dec/alpha_dec.c): compression (none or VP8L), filter (none, horizontal,
// vertical, gradient), pre-processing, reserved bits.
const [NO_COMPRESSION, LOSSLESS_COMPRESSION] = [0, 1] as const;
const [FILTER_HORIZONTAL, FILTER_VERTICAL] = [1, 2] as const;

/**
 * The unfilters of src/dsp/filters.c, in place, row by row: each sample plus its left neighbour
 * (horizontal), the one above (vertical) or the clipped gradient left + above - above-left; the
 * first row always horizontally from 0, each later row's first sample from the one above.
 */
function unfilter(plane: Uint8Array, filter: number, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const above = row - width;
    if (y === 0 || filter === FILTER_HORIZONTAL) {
      let left = y === 0 ? 0 : plane[above]!;
      for (let x = 0; x < width; x++) left = plane[row + x] = (plane[row + x]! + left) & 0xff;
    } else if (filter === FILTER_VERTICAL) {
      for (let x = 0; x < width; x++) plane[row + x] = plane[row + x]! + plane[above + x]!;
    } else {
      let [left, topLeft] = [plane[above]!, plane[above]!];
      for (let x = 0; x < width; x++) {
        const top = plane[above + x]!;
        const gradient = left + top - topLeft;
        left = plane[row + x] = (plane[row + x]! + (gradient < 0 ? 0 : gradient > 255 ? 255 : gradient)) & 0xff;
        topLeft = top;
      }
    }
  }
}

/**
 * An ALPH chunk's payload (without padding, as libwebp's parser gives it) decoded to the alpha
 * plane of a `width` x `height` lossy frame (ALPHInit, ALPHDecode): raw or VP8L-coded (its green),
 * then unfiltered. libvips asks for no alpha dithering, so pre-processing changes nothing.
 * Undefined for anything libwebp refuses.
 */
export function decodeAlphaPlane(data: Uint8Array, width: number, height: number): Uint8Array | undefined {
  if (data.length <= 1) return undefined;
  const header = data[0]!;
  const [method, filter, preProcessing, reserved] = [header & 3, (header >> 2) & 3, (header >> 4) & 3, header >> 6];
  if (method > LOSSLESS_COMPRESSION || preProcessing > 1 || reserved !== 0) return undefined;
  let plane: Uint8Array;
  if (method === NO_COMPRESSION) {
    if (data.length - 1 < width * height) return undefined;
    // A copy (a Buffer's slice would share its bytes): the unfilters work in place.
    plane = new Uint8Array(data.subarray(1, 1 + width * height));
  } else {
    const argb = decodeStream(new BitReader(data.subarray(1), 0), width, height);
    if (argb === undefined) return undefined;
    plane = Uint8Array.from(argb, (pixel) => (pixel >> 8) & 0xff);
  }
  if (filter !== 0) unfilter(plane, filter, width, height);
  return plane;
}
