/**
 * A fast path for small baseline JPEGs (what browsers, phones and sharp write by default): libvips
 * spends 0.5 to 2 ms opening and decoding a 28x28 JPEG, this decoder a few tens of microseconds.
 * It is libjpeg-turbo's own arithmetic, as sharp's libvips (mozjpeg) decodes: Huffman decoding,
 * the "islow" integer IDCT (jidctint.c), "fancy" triangle upsampling of 4:2:2 and 4:2:0 chroma
 * (jdsample.c) and the table-driven YCbCr to RGB conversion (jdcolor.c), so that the pixels are
 * libjpeg's, not an approximation of them. Scaled down on load by 2, 4 or 8 (sharp's
 * shrink-on-load), it is libjpeg's reduced IDCTs (jidctred.c) and its choice of block size per
 * component (jdmaster.c). Anything else (progressive or arithmetic coding, 12 bits, CMYK or Adobe
 * colour transforms, an ICC profile, EXIF rotation, other chroma layouts, a damaged or over-limit
 * file) returns undefined and is left to sharp, errors included.
 */
import type { DecodedImage, JpegShrink, OpenedImage } from '../colour.js';

/** Zigzag order: the natural (row-major) index of the kth coefficient of a block. */
const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

interface Component {
  id: number;
  h: number;
  v: number;
  quant: number;
  dc: Huffman | undefined;
  ac: Huffman | undefined;
  /** The side of its decoded blocks: 8, or less when scaled on load (libjpeg's DCT_scaled_size). */
  size: number;
  /** Decoded samples: whole blocks, `stride` wide. */
  plane: Uint8Array;
  stride: number;
  /** Samples that belong to the image (libjpeg's downsampled_width and _height). */
  width: number;
  height: number;
}

/** A Huffman table as canonical codes: the largest code of each length and where its values start. */
interface Huffman {
  maxCode: Int32Array;
  offset: Int32Array;
  values: Uint8Array;
  /** By the next LOOKAHEAD bits: the length of the code they start with and its value (length << 8 | value); 0 for a longer code. */
  lookup: Int32Array;
  /**
   * By the next LOOKAHEAD bits, for an AC code whose coefficient's bits fit in them too (as
   * libjpeg-turbo's jdhuff.c looks them up): the coefficient, the zero run before it and the bits
   * both take, (coefficient << 16) | (run << 8) | bits; 0 for any other (end of block, a run of 16, longer).
   */
  coefficient: Int32Array;
}

/** Bits of lookahead in a table, as libjpeg's jdhuff.c: most codes are this short or shorter. */
const LOOKAHEAD = 9;

/**
 * A baseline JPEG of at most `maxPixels` pixels, its headers read; its pixels, as libvips decodes
 * them, on demand. Undefined (or pixels undefined, for damaged data) for anything left to sharp.
 */
export function openJpeg(bytes: Uint8Array, maxPixels: number): OpenedImage | undefined {
  const opened = supported(() => open(bytes, maxPixels));
  if (opened === undefined) return undefined;
  const { frame, restartInterval, quant, start } = opened;
  return {
    width: frame.width,
    height: frame.height,
    decode: (load) => supported(() => {
      const shrink = load?.shrink ?? 1;
      need(isJpegShrink(shrink));
      layOut(frame, shrink);
      const end = decodeScan(bytes, start, frame, restartInterval, quant);
      // The end of image right after the scan; libvips refuses a file that stops short of it.
      need(bytes[end] === 0xff && bytes[end + 1] === 0xd9);
      // libjpeg rounds a scaled size up; libvips keeps only the whole pixels ("strict round down").
      return toImage(frame, Math.floor(frame.width / shrink), Math.floor(frame.height / shrink));
    }),
  };
}

const isJpegShrink = (shrink: number): shrink is JpegShrink => shrink === 1 || shrink === 2 || shrink === 4 || shrink === 8;

function supported<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

/**
 * Thrown inside the decoder for a file it leaves to sharp: one instance, made once, since every
 * request's image that is not a baseline JPEG comes through here and a new Error's stack trace
 * costs more than reading the header.
 */
class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported('left to sharp');
function need(condition: boolean): asserts condition {
  if (!condition) throw UNSUPPORTED;
}

interface Frame {
  width: number;
  height: number;
  components: Component[];
}

/** The headers up to the start of scan, every table the scan uses among them. */
function open(bytes: Uint8Array, maxPixels: number): { frame: Frame; restartInterval: number; quant: Int32Array[]; start: number } {
  need(bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8);
  const quant: (Int32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let jfif = false;
  for (let i = 2; ; ) {
    need(i + 4 <= bytes.length && bytes[i] === 0xff);
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    need(length >= 2 && i + 2 + length <= bytes.length);
    const data = bytes.subarray(i + 4, i + 2 + length);
    const text = String.fromCharCode(...data.subarray(0, 14));
    if (marker === 0xc0 || marker === 0xc1) frame = readFrame(data, maxPixels);
    else if (marker === 0xc4) readHuffman(data, dcTables, acTables);
    else if (marker === 0xdb) readQuant(data, quant);
    else if (marker === 0xdd) restartInterval = (data[0]! << 8) | data[1]!;
    else if (marker === 0xe0) jfif ||= text.startsWith('JFIF\0');
    else if (marker === 0xe1) need(!text.startsWith('Exif\0') || exifOrientation(data.subarray(6)) === 1);
    else if (marker === 0xe2) need(!text.startsWith('ICC_PROFILE\0'));
    else if (marker === 0xee) need(!text.startsWith('Adobe'));
    else if (marker === 0xda) {
      need(frame !== undefined);
      return { frame, restartInterval, quant: readScan(data, frame.components, quant, dcTables, acTables, jfif), start: i + 2 + length };
    } else need(marker >= 0xe0 || marker === 0xfe); // other APPn and COM: no effect on the pixels
    i += 2 + length;
  }
}

function readFrame(data: Uint8Array, maxPixels: number): Frame {
  const height = (data[1]! << 8) | data[2]!;
  const width = (data[3]! << 8) | data[4]!;
  const count = data[5]!;
  need(data[0] === 8 && width > 0 && height > 0 && width * height <= maxPixels && (count === 1 || count === 3) && data.length >= 6 + 3 * count);
  const components: Component[] = [];
  for (let c = 0; c < count; c++) {
    const [id, sampling, table] = [data[6 + 3 * c]!, data[7 + 3 * c]!, data[8 + 3 * c]!];
    components.push({ id, h: sampling >> 4, v: sampling & 15, quant: table, dc: undefined, ac: undefined, size: 8, plane: new Uint8Array(0), stride: 0, width: 0, height: 0 });
  }
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  // Luma at full resolution; chroma at full, half width (4:2:2) or half both ways (4:2:0).
  need(components[0]!.h === hMax && components[0]!.v === vMax);
  for (const c of components) {
    const [rh, rv] = [hMax / c.h, vMax / c.v];
    need(c.h >= 1 && c.v >= 1 && c.h <= 2 && c.v <= 2 && ((rh === 1 && rv === 1) || (rh === 2 && (rv === 1 || rv === 2))));
  }
  return { width, height, components };
}

/**
 * Each component's block size and planes for a decode scaled down by `shrink`, as jdmaster.c
 * chooses them: luma's blocks are 8 / shrink; subsampled chroma takes larger ones where that
 * makes it full size (then nothing is upsampled).
 */
function layOut(frame: Frame, shrink: JpegShrink): void {
  const { width, height, components } = frame;
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  const min = 8 / shrink;
  const interleaved = components.length > 1;
  for (const c of components) {
    let size = min;
    while (size < 8 && (hMax * min) % (c.h * size * 2) === 0 && (vMax * min) % (c.v * size * 2) === 0) size *= 2;
    c.size = size;
    c.width = Math.ceil((width * c.h * size) / (hMax * 8));
    c.height = Math.ceil((height * c.v * size) / (vMax * 8));
    const blocksX = interleaved ? Math.ceil(width / (8 * hMax)) * c.h : Math.ceil((width * c.h) / (hMax * 8));
    const blocksY = interleaved ? Math.ceil(height / (8 * vMax)) * c.v : Math.ceil((height * c.v) / (vMax * 8));
    c.stride = blocksX * size;
    c.plane = new Uint8Array(blocksX * blocksY * size * size);
  }
  // Scaled chroma that would still need upsampling (4:2:2, 4:4:0) is left to sharp: nothing here
  // writes such files to check it against.
  need(shrink === 1 || components.every((c) => c.h * c.size === hMax * min && c.v * c.size === vMax * min));
}

function readQuant(data: Uint8Array, quant: (Int32Array | undefined)[]): void {
  for (let i = 0; i < data.length; ) {
    const precision = data[i]! >> 4;
    const id = data[i]! & 15;
    need(precision <= 1 && id < 4 && i + 1 + 64 * (precision + 1) <= data.length);
    const table = new Int32Array(64);
    for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = precision === 0 ? data[i + 1 + k]! : (data[i + 1 + 2 * k]! << 8) | data[i + 2 + 2 * k]!;
    quant[id] = table;
    i += 1 + 64 * (precision + 1);
  }
}

function readHuffman(data: Uint8Array, dcTables: (Huffman | undefined)[], acTables: (Huffman | undefined)[]): void {
  for (let i = 0; i < data.length; ) {
    const kind = data[i]! >> 4;
    const id = data[i]! & 15;
    need(kind <= 1 && id < 4 && i + 17 <= data.length);
    const counts = data.subarray(i + 1, i + 17);
    let total = 0;
    for (let n = 0; n < 16; n++) total += counts[n]!;
    need(i + 17 + total <= data.length && total <= 256);
    (kind === 0 ? dcTables : acTables)[id] = huffmanTable(data.subarray(i + 1, i + 17 + total));
    i += 17 + total;
  }
}

/**
 * Tables already built, by their bytes (the counts, then the values): libjpeg's default encoder (as
 * phones and browsers run it) writes its standard tables at every quality, and building one's
 * lookups costs more than decoding a small image's blocks. An encoder that optimises the tables per
 * image (mozjpeg, sharp's default) makes each file's its own, built for it.
 */
const huffmanTables = new Map<string, Huffman>();
const MAX_HUFFMAN_TABLES = 64;

/** The table of a DHT entry's counts and values, built once. */
function huffmanTable(entry: Uint8Array): Huffman {
  const key = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength).toString('latin1');
  let table = huffmanTables.get(key);
  if (table === undefined) {
    table = buildHuffman(entry.subarray(0, 16), entry.subarray(16));
    if (huffmanTables.size >= MAX_HUFFMAN_TABLES) huffmanTables.clear();
    huffmanTables.set(key, table);
  }
  return table;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(18).fill(-1);
  const offset = new Int32Array(17);
  const lookup = new Int32Array(1 << LOOKAHEAD);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    offset[length] = k - code;
    // This length's codes are consecutive; a short one fills every entry it is the prefix of.
    const spread = LOOKAHEAD - length;
    for (let n = 0; spread >= 0 && n < counts[length - 1]!; n++) {
      lookup.fill((length << 8) | values[k + n]!, (code + n) << spread, (code + n + 1) << spread);
    }
    code += counts[length - 1]!;
    need(code <= 1 << length); // more codes than the length has: libjpeg refuses the table
    k += counts[length - 1]!;
    if (counts[length - 1]! > 0) maxCode[length] = code - 1;
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff; // no code is longer than 16 bits: a sentinel for corrupt data
  return { maxCode, offset, values: values.slice(), lookup, coefficient: coefficientLookup(lookup) };
}

/** Huffman.coefficient of a table's lookup (used of AC tables only). */
function coefficientLookup(lookup: Int32Array): Int32Array {
  const table = new Int32Array(1 << LOOKAHEAD);
  for (let look = 0; look < table.length; look++) {
    const entry = lookup[look]!;
    const codeLength = entry >> 8;
    const run = (entry >> 4) & 15;
    const size = entry & 15;
    const bits = codeLength + size;
    if (entry === 0 || size === 0 || bits > LOOKAHEAD) continue;
    const magnitude = (look >> (LOOKAHEAD - bits)) & ((1 << size) - 1);
    table[look] = (extend(magnitude, size) << 16) | (run << 8) | bits;
  }
  return table;
}

/** The start of scan: every component in one interleaved scan, with its tables. */
function readScan(data: Uint8Array, components: Component[], quant: (Int32Array | undefined)[], dcTables: (Huffman | undefined)[], acTables: (Huffman | undefined)[], jfif: boolean): Int32Array[] {
  need(data[0] === components.length && data.length >= 4 + 2 * components.length);
  for (let c = 0; c < components.length; c++) {
    const component = components[c]!;
    need(data[1 + 2 * c] === component.id);
    component.dc = dcTables[data[2 + 2 * c]! >> 4];
    component.ac = acTables[data[2 + 2 * c]! & 15];
    need(component.dc !== undefined && component.ac !== undefined && quant[component.quant] !== undefined);
  }
  const at = 1 + 2 * components.length;
  need(data[at] === 0 && data[at + 1] === 63 && data[at + 2] === 0); // sequential: all 64 coefficients at once
  // libjpeg takes 3 components for RGB without JFIF when their ids spell it out.
  const ids = components.map((c) => c.id).join();
  need(jfif || ids !== '82,71,66');
  return components.map((c) => quant[c.quant]!);
}

/**
 * Reads the entropy-coded segment's bits, unstuffing 0xFF00, a few bytes ahead: past the end or at
 * a marker it reads zeros, and refuses to use them (a file libjpeg would read into a marker or past
 * its end is left to sharp).
 */
class BitReader {
  /** The last `count` bits read (higher bits are stale); the last `padding` of them are the zeros past the data. */
  private bits = 0;
  private count = 0;
  private padding = 0;
  constructor(private readonly bytes: Uint8Array, private at: number) {}

  /** The next `length` (at most 24) bits, not consumed. */
  peek(length: number): number {
    while (this.count < length) {
      const byte = this.at < this.bytes.length ? this.bytes[this.at]! : -1;
      if (byte === -1 || (byte === 0xff && this.bytes[this.at + 1] !== 0)) {
        this.padding += 8;
        this.bits <<= 8;
      } else {
        this.at += byte === 0xff ? 2 : 1;
        this.bits = (this.bits << 8) | byte;
      }
      this.count += 8;
    }
    return (this.bits >>> (this.count - length)) & ((1 << length) - 1);
  }

  skip(length: number): void {
    this.count -= length;
    need(this.count >= this.padding);
  }

  bit(): number {
    const v = this.peek(1);
    this.skip(1);
    return v;
  }

  receive(length: number): number {
    const v = this.peek(length);
    this.skip(length);
    return v;
  }

  /** Where the data read end: the bits left over must be the last byte's padding. */
  end(): number {
    need(this.count - this.padding < 8);
    return this.at;
  }

  /** The next restart marker, RSTn for n = `index` mod 8, after the bits of the interval. */
  restart(index: number): void {
    const at = this.end();
    need(this.bytes[at] === 0xff && this.bytes[at + 1] === 0xd0 + (index % 8));
    this.at = at + 2;
    this.bits = this.count = this.padding = 0;
  }
}

function decodeSymbol(reader: BitReader, table: Huffman): number {
  const look = reader.peek(LOOKAHEAD);
  const entry = table.lookup[look]!;
  if (entry !== 0) {
    reader.skip(entry >> 8);
    return entry & 0xff;
  }
  // A code longer than the lookahead: on bit by bit, as jdhuff.c's slow path.
  reader.skip(LOOKAHEAD);
  let code = look;
  let length = LOOKAHEAD;
  while (code > table.maxCode[length]!) {
    code = (code << 1) | reader.bit();
    length++;
  }
  need(length <= 16);
  return table.values[code + table.offset[length]!]!;
}

/** JPEG's sign extension of a `length`-bit magnitude. */
function extend(v: number, length: number): number {
  return length === 0 ? 0 : v < 1 << (length - 1) ? v - (1 << length) + 1 : v;
}

/** Decodes every MCU of the scan into the components' planes; returns where its entropy-coded data ends. */
function decodeScan(bytes: Uint8Array, start: number, frame: Frame, restartInterval: number, quant: Int32Array[]): number {
  const { components } = frame;
  const single = components.length === 1;
  const hMax = Math.max(...components.map((c) => c.h));
  const vMax = Math.max(...components.map((c) => c.v));
  const first = components[0]!;
  const mcusX = single ? first.stride / first.size : Math.ceil(frame.width / (8 * hMax));
  const mcusY = single ? first.plane.length / (first.size * first.size) / mcusX : Math.ceil(frame.height / (8 * vMax));
  const reader = new BitReader(bytes, start);
  const predictors = new Int32Array(components.length);
  const coefficients = new Int32Array(64);
  for (let mcu = 0; mcu < mcusX * mcusY; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      reader.restart(mcu / restartInterval - 1);
      predictors.fill(0);
    }
    const mx = mcu % mcusX;
    const my = Math.floor(mcu / mcusX);
    for (let c = 0; c < components.length; c++) {
      const component = components[c]!;
      // Plain locals: destructuring would make an array each block row.
      const h = single ? 1 : component.h;
      const v = single ? 1 : component.v;
      for (let by = 0; by < v; by++) {
        for (let bx = 0; bx < h; bx++) {
          coefficients.fill(0);
          const size = decodeSymbol(reader, component.dc!);
          need(size <= 11);
          predictors[c] = predictors[c]! + extend(reader.receive(size), size);
          coefficients[0] = predictors[c]!;
          let hasAc = false;
          const ac = component.ac!;
          for (let k = 1; k < 64; ) {
            // Most coefficients: code and bits in one lookup.
            const fast = ac.coefficient[reader.peek(LOOKAHEAD)]!;
            if (fast !== 0) {
              reader.skip(fast & 0xff);
              k += (fast >> 8) & 0xff;
              need(k < 64);
              coefficients[ZIGZAG[k]!] = fast >> 16;
              hasAc = true;
              k++;
              continue;
            }
            const symbol = decodeSymbol(reader, ac);
            const run = symbol >> 4;
            const length = symbol & 15;
            if (length === 0) {
              if (run !== 15) break; // end of block
              k += 16;
              continue;
            }
            k += run;
            need(k < 64);
            coefficients[ZIGZAG[k]!] = extend(reader.receive(length), length);
            hasAc = true;
            k++;
          }
          const at = ((my * v + by) * component.stride + mx * h + bx) * component.size;
          // A block of its DC term alone (flat: most of a smooth image's, every chroma block of a grey one) is one value.
          if (hasAc) IDCTS[component.size]!(coefficients, quant[c]!, component.plane, at, component.stride);
          else flatBlock(DC_ONLY[component.size]!(coefficients[0] * quant[c]![0]!), component.plane, at, component.stride, component.size);
        }
      }
    }
  }
  return reader.end();
}

// jidctint.c's fixed-point constants (CONST_BITS 13) and pass scaling (PASS1_BITS 2).
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;
const CONST_SCALE = 8192; // 1 << CONST_BITS
// 2^(n-1) and 2^-n for the shifts of DESCALE: Math.pow on every sample was a tenth of a JPEG's decode.
const HALF = Float64Array.from({ length: 32 }, (_, n) => 2 ** (n - 1));
const INVERSE = Float64Array.from({ length: 32 }, (_, n) => 2 ** -n);
// The sums are libjpeg's 64-bit ones, exact in doubles (Math.floor of a power-of-two scaling is its
// DESCALE); what is stored between the passes is an int, as in libjpeg's workspace.
const workspace = new Int32Array(64);
const rowOut = new Int32Array(8);
const ONES = new Int32Array(64).fill(1);

/** The IDCT that makes a block of each side, from 8 (full size) down to 1 (scaled to 1/8). */
const IDCTS: Readonly<Record<number, (coefficients: Int32Array, quant: Int32Array, out: Uint8Array, at: number, stride: number) => void>> = {
  8: idctIslow,
  4: idct4x4,
  2: idct2x2,
  1: idct1x1,
};

/**
 * What each IDCT makes of a block whose AC terms are all zero, from its dequantized DC term: the
 * same passes with the zero terms dropped (their products are zeros, their descales exact).
 */
const DC_ONLY: Readonly<Record<number, (dc: number) => number>> = {
  8: (dc) => rangeLimit(descale(dc * 4, 5)),
  4: (dc) => rangeLimit(descale(descale(dc * 16384, 12) * 16384, 19)),
  2: (dc) => rangeLimit(descale(descale(dc * 32768, 13) * 32768, 20)),
  1: (dc) => rangeLimit(descale(dc, 3)),
};

/** A block of `size` x `size` samples of one `value`, into `out` at `at`. */
function flatBlock(value: number, out: Uint8Array, at: number, stride: number, size: number): void {
  // Stored one by one: fill's call costs more than the two to eight samples of a row.
  for (let row = 0, line = at; row < size; row++, line += stride) for (let k = 0; k < size; k++) out[line + k] = value;
}

/** The post-IDCT range limit: the level shift by 128, clamped, through libjpeg's wrapped 10-bit table. */
function rangeLimit(x: number): number {
  const i = x & 1023;
  return i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896;
}

/** jpeg_idct_islow: dequantizes a block of coefficients and writes its 8x8 samples into `out` at `at`. */
function idctIslow(coefficients: Int32Array, quant: Int32Array, out: Uint8Array, at: number, stride: number): void {
  // Columns into the workspace (descaled by CONST_BITS - PASS1_BITS), then rows out (by CONST_BITS + PASS1_BITS + 3).
  // A column or row of zero AC terms is its DC term throughout, as jidctint.c shortcuts it (the same values).
  for (let col = 0; col < 8; col++) {
    if (acZero(coefficients, col, 8)) {
      const dc = dequantize(coefficients, quant, col) * 4;
      for (let k = col; k < 64; k += 8) workspace[k] = dc;
    } else {
      idct1d(coefficients, quant, col, 8, workspace, col, 8, 11);
    }
  }
  for (let row = 0; row < 8; row++) {
    const line = at + row * stride;
    if (acZero(workspace, row * 8, 1)) {
      out.fill(rangeLimit(descale(workspace[row * 8]!, 5)), line, line + 8);
      continue;
    }
    idct1d(workspace, ONES, row * 8, 1, rowOut, 0, 1, 18);
    for (let k = 0; k < 8; k++) out[line + k] = rangeLimit(rowOut[k]!);
  }
}

/** Whether the 7 terms after the first of a column (`step` 8) or row (`step` 1) are all zero. */
function acZero(block: Int32Array, from: number, step: number): boolean {
  for (let k = 1; k < 8; k++) if (block[from + k * step] !== 0) return false;
  return true;
}

function dequantize(input: Int32Array, quant: Int32Array, at: number): number {
  return input[at]! * quant[at]!;
}

/** One 1-D pass of jidctint.c over 8 inputs (`step` apart from `from`, times `quant`), descaled by `shift` bits. */
function idct1d(input: Int32Array, quant: Int32Array, from: number, step: number, output: Int32Array, to: number, outStep: number, shift: number): void {
  // No closures here: tsx (esbuild keepNames) would name one on every call, most of the decode's time.
  const i0 = dequantize(input, quant, from);
  const i1 = dequantize(input, quant, from + step);
  const i2 = dequantize(input, quant, from + 2 * step);
  const i3 = dequantize(input, quant, from + 3 * step);
  const i4 = dequantize(input, quant, from + 4 * step);
  const i5 = dequantize(input, quant, from + 5 * step);
  const i6 = dequantize(input, quant, from + 6 * step);
  const i7 = dequantize(input, quant, from + 7 * step);
  const z1 = (i2 + i6) * FIX_0_541196100;
  const tmp2 = z1 - i6 * FIX_1_847759065;
  const tmp3 = z1 + i2 * FIX_0_765366865;
  const tmp0 = (i0 + i4) * CONST_SCALE;
  const tmp1 = (i0 - i4) * CONST_SCALE;
  const e0 = tmp0 + tmp3;
  const e1 = tmp1 + tmp2;
  const e2 = tmp1 - tmp2;
  const e3 = tmp0 - tmp3;
  const z5 = (i7 + i3 + i5 + i1) * FIX_1_175875602;
  const o1 = (i7 + i1) * -FIX_0_899976223;
  const o2 = (i5 + i3) * -FIX_2_562915447;
  const o3 = (i7 + i3) * -FIX_1_961570560 + z5;
  const o4 = (i5 + i1) * -FIX_0_390180644 + z5;
  const t0 = i7 * FIX_0_298631336 + o1 + o3;
  const t1 = i5 * FIX_2_053119869 + o2 + o4;
  const t2 = i3 * FIX_3_072711026 + o2 + o3;
  const t3 = i1 * FIX_1_501321110 + o1 + o4;
  const round = HALF[shift]!;
  const scale = INVERSE[shift]!;
  output[to] = Math.floor((e0 + t3 + round) * scale);
  output[to + 7 * outStep] = Math.floor((e0 - t3 + round) * scale);
  output[to + outStep] = Math.floor((e1 + t2 + round) * scale);
  output[to + 6 * outStep] = Math.floor((e1 - t2 + round) * scale);
  output[to + 2 * outStep] = Math.floor((e2 + t1 + round) * scale);
  output[to + 5 * outStep] = Math.floor((e2 - t1 + round) * scale);
  output[to + 3 * outStep] = Math.floor((e3 + t0 + round) * scale);
  output[to + 4 * outStep] = Math.floor((e3 - t0 + round) * scale);
}

/** The decoded planes' first `width` x `height` samples as interleaved pixels: grey as it is, colour upsampled and converted to RGB. */
function toImage(frame: Frame, width: number, height: number): DecodedImage {
  const { components } = frame;
  // A colour JPEG of a grey picture (both chroma planes 128 throughout) is its luma: each R, G and B is Y.
  if (components.length === 1 || (allNeutral(components[1]!.plane) && allNeutral(components[2]!.plane))) {
    const [y] = components as [Component];
    const samples = new Uint8Array(width * height);
    for (let row = 0; row < height; row++) samples.set(y.plane.subarray(row * y.stride, row * y.stride + width), row * width);
    return { samples, width, height, channels: 1 };
  }
  const [luma, cb, cr] = components.map((c) => upsample(c, components[0]!)) as [Uint8Array, Uint8Array, Uint8Array];
  const stride = components[0]!.stride;
  const samples = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    for (let x = 0; x < width; x++) {
      const i = row * stride + x;
      const o = (row * width + x) * 3;
      const y = luma[i]!;
      samples[o] = clamp(y + CR_R[cr[i]!]!);
      samples[o + 1] = clamp(y + ((CB_G[cb[i]!]! + CR_G[cr[i]!]!) >> 16));
      samples[o + 2] = clamp(y + CB_B[cb[i]!]!);
    }
  }
  return { samples, width, height, channels: 3 };
}

/** Whether every chroma sample is 128, no colour. */
function allNeutral(plane: Uint8Array): boolean {
  for (let i = 0; i < plane.length; i++) if (plane[i] !== 128) return false;
  return true;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

// jdcolor.c's tables (SCALEBITS 16): R = Y + 1.402 Cr, G = Y - 0.34414 Cb - 0.71414 Cr, B = Y + 1.772 Cb.
const fix = (x: number) => Math.round(x * 65536);
const CR_R = Int32Array.from({ length: 256 }, (_, i) => (fix(1.402) * (i - 128) + 32768) >> 16);
const CB_B = Int32Array.from({ length: 256 }, (_, i) => (fix(1.772) * (i - 128) + 32768) >> 16);
const CR_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.71414) * (i - 128));
const CB_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.34414) * (i - 128) + 32768);

/**
 * A component at the luma's resolution, in the luma's stride: as it is, or upsampled as libjpeg-turbo
 * does: "fancy" (3/4 of the nearer sample, 1/4 of the farther, with alternating rounding biases, edge
 * columns special-cased, the rows above the first and below the last repeating them) when the
 * component is over 2 samples wide, else each sample repeated.
 */
function upsample(c: Component, luma: Component): Uint8Array {
  // Scaled on load, chroma's larger blocks make it full size (layOut refuses any other case).
  if (c.size > luma.size || (c.h === luma.h && c.v === luma.v)) return c.plane;
  const rows = luma.plane.length / luma.stride;
  const out = new Uint8Array(luma.plane.length);
  const vertical = luma.v === 2 * c.v;
  const n = c.width;
  const fancy = n > 2;
  for (let row = 0; row < rows; row++) {
    const line = row * luma.stride;
    const near = Math.min(vertical ? row >> 1 : row, c.height - 1) * c.stride;
    if (!fancy) {
      for (let x = 0; x < luma.stride; x++) out[line + x] = c.plane[near + (x >> 1)]!;
    } else if (!vertical) {
      const p = c.plane;
      out[line] = p[near]!;
      out[line + 1] = (p[near]! * 3 + p[near + 1]! + 2) >> 2;
      for (let x = 1; x < n - 1; x++) {
        out[line + 2 * x] = (p[near + x]! * 3 + p[near + x - 1]! + 1) >> 2;
        out[line + 2 * x + 1] = (p[near + x]! * 3 + p[near + x + 1]! + 2) >> 2;
      }
      out[line + 2 * n - 2] = (p[near + n - 1]! * 3 + p[near + n - 2]! + 1) >> 2;
      out[line + 2 * n - 1] = p[near + n - 1]!;
    } else {
      const farRow = Math.max(0, Math.min(c.height - 1, (row >> 1) + (row % 2 === 0 ? -1 : 1)));
      const far = farRow * c.stride;
      // Column sums of 3 x the nearer row + the farther one.
      const sums = columnSums(c.plane, near, far, n + 1);
      out[line] = (sums[0]! * 4 + 8) >> 4;
      out[line + 1] = (sums[0]! * 3 + sums[1]! + 7) >> 4;
      for (let x = 1; x < n - 1; x++) {
        out[line + 2 * x] = (sums[x]! * 3 + sums[x - 1]! + 8) >> 4;
        out[line + 2 * x + 1] = (sums[x]! * 3 + sums[x + 1]! + 7) >> 4;
      }
      out[line + 2 * n - 2] = (sums[n - 1]! * 3 + sums[n - 2]! + 8) >> 4;
      out[line + 2 * n - 1] = (sums[n - 1]! * 4 + 7) >> 4;
    }
  }
  return out;
}

function columnSums(plane: Uint8Array, near: number, far: number, count: number): Int32Array {
  const sums = new Int32Array(count);
  for (let x = 0; x < count; x++) sums[x] = plane[near + x]! * 3 + plane[far + x]!;
  return sums;
}

/** The orientation (1..8) in an EXIF block's first IFD, 1 when it names none. */
function exifOrientation(tiff: Uint8Array): number {
  need(tiff.length >= 8);
  const little = tiff[0] === 0x49;
  const u16 = (at: number) => (little ? tiff[at]! | (tiff[at + 1]! << 8) : (tiff[at]! << 8) | tiff[at + 1]!);
  const ifd = little ? u16(4) | (u16(6) << 16) : (u16(4) << 16) | u16(6);
  need(ifd + 2 <= tiff.length);
  for (let e = 0; e < u16(ifd); e++) {
    const at = ifd + 2 + 12 * e;
    need(at + 12 <= tiff.length);
    if (u16(at) === 0x0112) return u16(at + 8);
  }
  return 1;
}

// jidctred.c's constants (CONST_BITS 13).
const FIX_0_211164243 = 1730;
const FIX_0_509795579 = 4176;
const FIX_0_601344887 = 4926;
const FIX_0_720959822 = 5906;
const FIX_0_850430095 = 6967;
const FIX_1_061594337 = 8697;
const FIX_1_272758580 = 10426;
const FIX_1_451774981 = 11893;
const FIX_2_172734803 = 17799;
const FIX_3_624509785 = 29692;

/** libjpeg's DESCALE: a right shift by `n` bits, rounded; exact on the doubles that stand for its 64-bit sums. */
function descale(x: number, n: number): number {
  return Math.floor((x + HALF[n]!) * INVERSE[n]!);
}

/** jpeg_idct_4x4: a block's 4x4 samples (coefficient row and column 4 play no part). */
function idct4x4(coefficients: Int32Array, quant: Int32Array, out: Uint8Array, at: number, stride: number): void {
  for (let col = 0; col < 8; col++) {
    if (col !== 4) idct4(coefficients, quant, col, 8, workspace, col, 8, 12);
  }
  for (let row = 0; row < 4; row++) {
    idct4(workspace, ONES, row * 8, 1, rowOut, 0, 1, 19);
    for (let k = 0; k < 4; k++) out[at + row * stride + k] = rangeLimit(rowOut[k]!);
  }
}

/** One 1-D pass of jpeg_idct_4x4 over 8 inputs (`step` apart from `from`, times `quant`) to 4 outputs, descaled by `shift` bits. */
function idct4(input: Int32Array, quant: Int32Array, from: number, step: number, output: Int32Array, to: number, outStep: number, shift: number): void {
  const i0 = dequantize(input, quant, from) * 16384; // << CONST_BITS + 1
  const i2 = dequantize(input, quant, from + 2 * step);
  const i6 = dequantize(input, quant, from + 6 * step);
  const tmp2 = i2 * FIX_1_847759065 - i6 * FIX_0_765366865;
  const tmp10 = i0 + tmp2;
  const tmp12 = i0 - tmp2;
  const z1 = dequantize(input, quant, from + 7 * step);
  const z2 = dequantize(input, quant, from + 5 * step);
  const z3 = dequantize(input, quant, from + 3 * step);
  const z4 = dequantize(input, quant, from + step);
  const tmp0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803 + z4 * FIX_1_061594337;
  const odd = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447;
  output[to] = descale(tmp10 + odd, shift);
  output[to + 3 * outStep] = descale(tmp10 - odd, shift);
  output[to + outStep] = descale(tmp12 + tmp0, shift);
  output[to + 2 * outStep] = descale(tmp12 - tmp0, shift);
}

/** The columns (and rows) of coefficients that a 2x2 block depends on: the DC's and the odd ones. */
const DC_AND_ODD = [0, 1, 3, 5, 7];

/** jpeg_idct_2x2: a block's 2x2 samples. */
function idct2x2(coefficients: Int32Array, quant: Int32Array, out: Uint8Array, at: number, stride: number): void {
  for (const col of DC_AND_ODD) idct2(coefficients, quant, col, 8, workspace, col, 8, 13);
  for (let row = 0; row < 2; row++) {
    idct2(workspace, ONES, row * 8, 1, rowOut, 0, 1, 20);
    out[at + row * stride] = rangeLimit(rowOut[0]!);
    out[at + row * stride + 1] = rangeLimit(rowOut[1]!);
  }
}

/** One 1-D pass of jpeg_idct_2x2 over 8 inputs (as idct4's) to 2 outputs. */
function idct2(input: Int32Array, quant: Int32Array, from: number, step: number, output: Int32Array, to: number, outStep: number, shift: number): void {
  const even = dequantize(input, quant, from) * 32768; // << CONST_BITS + 2
  const odd =
    -dequantize(input, quant, from + 7 * step) * FIX_0_720959822 +
    dequantize(input, quant, from + 5 * step) * FIX_0_850430095 -
    dequantize(input, quant, from + 3 * step) * FIX_1_272758580 +
    dequantize(input, quant, from + step) * FIX_3_624509785;
  output[to] = descale(even + odd, shift);
  output[to + outStep] = descale(even - odd, shift);
}

/** jpeg_idct_1x1: the block's mean, an eighth of its DC. */
function idct1x1(coefficients: Int32Array, quant: Int32Array, out: Uint8Array, at: number): void {
  out[at] = rangeLimit(descale(coefficients[0]! * quant[0]!, 3));
}
