/**
 * A fast path for the commonest request image, a small PNG: libvips takes about 1.7 ms to decode a
 * 28x28 PNG through sharp's pipeline, more than every model of the zoo but one; zlib and PNG's row
 * filters take a few microseconds. Every colour type, bit depth, transparency chunk and Adam7
 * interlacing is decoded to the samples libvips' PNG loader (libspng) gives: palettes expanded to
 * RGB(A), grey of 1, 2 or 4 bits scaled to 8, 16 bits kept, tRNS turned into an alpha channel.
 * What would change the pixels sharp makes (an ICC profile, EXIF orientation, an unknown critical
 * chunk) and any damaged or over-limit file are not handled here: `decodePng` returns undefined and
 * sharp decodes it as before, so every error message stays sharp's.
 */
import { crc32 } from 'node:zlib';
import type { DecodedImage, OpenedImage } from '../colour.js';
import { inflateExactly } from './inflate.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Ancillary chunks that sharp acts on: an ICC profile is converted from, EXIF orientation applied. */
const HONOURED = new Set(['iCCP', 'eXIf']);

/** Samples per pixel of each colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA). */
const SAMPLES: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7's passes: column and row of the first pixel, then the steps between pixels. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** Whether `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.every((b, i) => bytes[i] === b);
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colourType: number;
  interlaced: boolean;
  palette: Uint8Array | undefined;
  transparency: Uint8Array | undefined;
}

/**
 * A PNG of at most `maxPixels` pixels, its chunks read and checked; its samples, as libvips loads
 * them, on demand. Undefined (or samples undefined, for damaged data) for anything left to sharp.
 */
export function openPng(bytes: Uint8Array, maxPixels: number): OpenedImage | undefined {
  const chunks = readChunks(bytes, maxPixels);
  if (chunks === undefined) return undefined;
  return { width: chunks.header.width, height: chunks.header.height, decode: () => decodeSamples(chunks.header, chunks.compressed) };
}

function decodeSamples(header: Header, compressed: Uint8Array): DecodedImage | undefined {
  const { width, height, depth, colourType } = header;
  const bitsPerPixel = SAMPLES[colourType]! * depth;
  const passes = header.interlaced ? ADAM7 : [[0, 0, 1, 1] as const];
  const sizes = passes.map(([x0, y0, dx, dy]) => [Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)] as const);
  // A filter byte, then the row's bytes, for each row of each pass that has pixels.
  const total = sizes.reduce((sum, [w, h]) => sum + (w > 0 && h > 0 ? (Math.ceil((w * bitsPerPixel) / 8) + 1) * h : 0), 0);
  const scanlines = inflateExactly(compressed, total);
  if (scanlines === undefined) return undefined;
  const channels = SAMPLES[colourType]!;
  if (depth === 8 && colourType !== 3 && header.transparency === undefined && !header.interlaced) {
    // 8-bit grey or colour, no tRNS: the unfiltered rows are the samples as libvips gives them.
    const rows = unfilter(scanlines, width * channels, height, channels);
    return rows === undefined ? undefined : { samples: rows, width, height, channels: channels as DecodedImage['channels'] };
  }
  const out = new Sampler(header);
  let offset = 0;
  for (let p = 0; p < passes.length; p++) {
    const [x0, y0, dx, dy] = passes[p]!;
    const [w, h] = sizes[p]!;
    if (w <= 0 || h <= 0) continue;
    const rowBytes = Math.ceil((w * bitsPerPixel) / 8);
    const rows = unfilter(scanlines.subarray(offset, offset + (rowBytes + 1) * h), rowBytes, h, Math.max(1, bitsPerPixel >> 3));
    if (rows === undefined) return undefined;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) if (!out.put(rows, y * rowBytes, x, (y0 + y * dy) * width + x0 + x * dx)) return undefined;
    }
    offset += (rowBytes + 1) * h;
  }
  return out.image();
}

/** The header and the IDAT stream, chunk checksums checked; undefined for a file left to sharp. */
function readChunks(bytes: Uint8Array, maxPixels: number): { header: Header; compressed: Uint8Array } | undefined {
  if (!isPng(bytes)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  const compressed: Uint8Array[] = [];
  for (let offset = SIGNATURE.length; ; ) {
    if (offset + 12 > bytes.length) return undefined;
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) return undefined;
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) return undefined;
    if (header === undefined) {
      if (type !== 'IHDR' || length !== 13) return undefined;
      header = parseHeader(view, offset + 8, maxPixels);
      if (header === undefined) return undefined;
    } else if (type === 'PLTE') {
      header.palette = data;
    } else if (type === 'tRNS') {
      header.transparency = data;
    } else if (type === 'IDAT') {
      compressed.push(data);
    } else if (type === 'IEND') {
      break;
    } else if (HONOURED.has(type) || (bytes[offset + 4]! & 0x20) === 0) {
      return undefined; // a chunk that changes the pixels, or a critical one this reader does not know
    }
    offset = end;
  }
  if (header === undefined || compressed.length === 0 || !consistent(header)) return undefined;
  return { header, compressed: compressed.length === 1 ? compressed[0]! : Buffer.concat(compressed) };
}

/** A palette where one is due, of at most 2^depth whole entries, and a tRNS chunk of the size its colour type takes (libspng refuses others). */
function consistent({ colourType, depth, palette, transparency }: Header): boolean {
  if ((colourType === 3) !== (palette !== undefined)) return false;
  if (palette !== undefined && (palette.length % 3 !== 0 || palette.length / 3 > 2 ** depth)) return false;
  if (transparency === undefined) return true;
  return colourType === 3 ? transparency.length <= palette!.length / 3 : transparency.length === (colourType === 0 ? 2 : colourType === 2 ? 6 : -1);
}

function parseHeader(view: DataView, at: number, maxPixels: number): Header | undefined {
  const width = view.getUint32(at);
  const height = view.getUint32(at + 4);
  const [depth, colourType, compression, filter, interlace] = [0, 1, 2, 3, 4].map((i) => view.getUint8(at + 8 + i)) as [number, number, number, number, number];
  const depths = colourType === 0 ? [1, 2, 4, 8, 16] : colourType === 3 ? [1, 2, 4, 8] : [8, 16];
  if (SAMPLES[colourType] === undefined || !depths.includes(depth) || compression !== 0 || filter !== 0 || interlace > 1) return undefined;
  if (width === 0 || height === 0 || width * height > maxPixels) return undefined;
  return { width, height, depth, colourType, interlaced: interlace === 1, palette: undefined, transparency: undefined };
}

/** Writes each pixel's samples where libvips puts them: palette expanded, low-bit grey scaled, tRNS as alpha. */
class Sampler {
  private readonly samples: Uint8Array | Uint16Array;
  private readonly channels: 1 | 2 | 3 | 4;
  private readonly inChannels: number;
  private readonly max: number;
  /** tRNS of grey or RGB: the sample values that are transparent. */
  private readonly key: number[] | undefined;

  constructor(private readonly header: Header) {
    const { width, height, depth, colourType, transparency } = header;
    this.inChannels = SAMPLES[colourType]!;
    const alpha = colourType === 4 || colourType === 6 || transparency !== undefined;
    const colour = colourType === 2 || colourType === 3 || colourType === 6;
    this.channels = ((colour ? 3 : 1) + (alpha ? 1 : 0)) as 1 | 2 | 3 | 4;
    this.max = depth === 16 ? 65535 : 255;
    this.samples = depth === 16 ? new Uint16Array(width * height * this.channels) : new Uint8Array(width * height * this.channels);
    if (transparency !== undefined && (colourType === 0 || colourType === 2)) {
      this.key = Array.from({ length: this.inChannels }, (_, c) => ((transparency[2 * c] ?? 0) << 8) | (transparency[2 * c + 1] ?? 0));
    }
  }

  /** The `x`th pixel of the row at `row` in `rows`, to pixel `at` of the image; false for a palette index out of range. */
  put(rows: Uint8Array, row: number, x: number, at: number): boolean {
    const { depth, colourType, palette, transparency } = this.header;
    const out = at * this.channels;
    const n = this.inChannels;
    if (colourType === 3) {
      const index = depth === 8 ? rows[row + x]! : bits(rows, row, x, depth);
      if (3 * index + 3 > palette!.length) return false;
      this.samples.set(palette!.subarray(3 * index, 3 * index + 3), out);
      if (transparency !== undefined) this.samples[out + 3] = transparency[index] ?? 255;
      return true;
    }
    let opaque = this.key === undefined;
    for (let c = 0; c < n; c++) {
      const raw = depth === 16 ? (rows[row + 2 * (x * n + c)]! << 8) | rows[row + 2 * (x * n + c) + 1]! : depth === 8 ? rows[row + x * n + c]! : bits(rows, row, x, depth);
      if (this.key !== undefined && raw !== this.key[c]) opaque = true;
      this.samples[out + c] = depth < 8 ? (raw * 255) / ((1 << depth) - 1) : raw;
    }
    if (this.key !== undefined) this.samples[out + n] = opaque ? this.max : 0;
    return true;
  }

  image(): DecodedImage {
    return { samples: this.samples, width: this.header.width, height: this.header.height, channels: this.channels };
  }
}

/** The `x`th sample of `depth` (1, 2 or 4) bits of a row, most significant bits first. */
function bits(rows: Uint8Array, row: number, x: number, depth: number): number {
  const bit = x * depth;
  return (rows[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
}

/**
 * Undoes PNG's per-row filters (`rowBytes` per row, `step` bytes per pixel); undefined for an unknown
 * filter type. One loop per filter, the first row's missing neighbours as zeros: a branch per byte
 * made this the PNG decode's largest cost.
 */
function unfilter(scanlines: Uint8Array, rowBytes: number, height: number, step: number): Uint8Array | undefined {
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const filter = scanlines[y * (rowBytes + 1)]!;
    const line = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const up = row - rowBytes;
    const left = Math.min(step, rowBytes);
    // Above the first row is zero: Up adds nothing, Paeth picks the left neighbour (Sub).
    const type = y > 0 || filter === 3 ? filter : filter === 2 ? 0 : filter === 4 ? 1 : filter;
    if (type === 0) {
      out.set(scanlines.subarray(line, line + rowBytes), row);
    } else if (type === 1) {
      for (let x = 0; x < left; x++) out[row + x] = scanlines[line + x]!;
      for (let x = step; x < rowBytes; x++) out[row + x] = (scanlines[line + x]! + out[row + x - step]!) & 0xff;
    } else if (type === 2) {
      for (let x = 0; x < rowBytes; x++) out[row + x] = (scanlines[line + x]! + out[up + x]!) & 0xff;
    } else if (type === 3) {
      for (let x = 0; x < left; x++) out[row + x] = (scanlines[line + x]! + (y > 0 ? out[up + x]! >> 1 : 0)) & 0xff;
      for (let x = step; x < rowBytes; x++) out[row + x] = (scanlines[line + x]! + ((out[row + x - step]! + (y > 0 ? out[up + x]! : 0)) >> 1)) & 0xff;
    } else if (type === 4) {
      for (let x = 0; x < left; x++) out[row + x] = (scanlines[line + x]! + out[up + x]!) & 0xff;
      for (let x = step; x < rowBytes; x++) {
        const a = out[row + x - step]!;
        const b = out[up + x]!;
        const c = out[up + x - step]!;
        // Paeth's distances from a + b - c to a, b and c.
        const pa = b > c ? b - c : c - b;
        const pb = a > c ? a - c : c - a;
        const pc = Math.abs(a + b - 2 * c);
        out[row + x] = (scanlines[line + x]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
    } else {
      return undefined;
    }
  }
  return out;
}
