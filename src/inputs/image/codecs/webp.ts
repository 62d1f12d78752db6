/**
 * A fast path for WebP requests: libvips spends 1.5 to 2 ms through sharp on a small WebP, nearly
 * all of it its own overhead; decoding in-process takes a fraction of that. The pixels are those
 * of libvips 8.17's webpload with libwebp 1.6.0 (the versions inside sharp), to the bit: the
 * container read as libwebp's demuxer reads it, the frame decoded by vp8.ts (lossy, its ALPH
 * alpha plane by vp8l.ts) or vp8l.ts (lossless), and libwebp's output stage for libvips'
 * MODE_RGBA (src/dec/io_dec.c, vp8l_dec.c).
 * Lossy, at the image's own size: the "fancy" upsampling of chroma (src/dsp/upsampling.c) and the
 * fixed-point YUV to RGB of src/dsp/yuv.h; with libvips' `scale` (sharp's shrink-on-load),
 * libwebp's scaled decoding: no loop filter for large reductions, each plane through WebPRescaler
 * (src/utils/rescaler_utils.c, src/dsp/rescaler.c), then the same conversion; alpha alongside, as
 * it is or rescaled on its own. Lossless: ARGB as RGBA; scaled, premultiplied by alpha, rescaled
 * as four planes and unmultiplied (EmitRescaledRowsRGBA, WebPMultARGBRow). libvips gives 3 bands
 * unless the file's alpha flag says 4.
 * What sharp would change or refuse (animation, an ICC profile or EXIF, a damaged, truncated or
 * over-limit file, a layout libwebp's demuxer might read otherwise) is left to sharp: `openWebp`
 * or `decode` returns undefined.
 */
import type { DecodedImage, OpenedImage } from '../colour.js';
import { decodeVp8, vp8FrameSize, type Vp8Planes } from './vp8.js';
import { decodeAlphaPlane, decodeVp8l, vp8lInfo } from './vp8l.js';

/**
 * A WebP file's header read; its samples as libvips' webpload gives them, on demand: 3 channels
 * (RGB), or 4 (RGBA; opaque for lossy data without ALPH) when the file's alpha flag is set. At
 * the own size; or, for a load with a shrink over 1 (sharp's `scale` of 1 / shrink, libvips
 * rounding canvas * scale to the nearest), libwebp's scaled decoding to the load's size, even
 * where that is the own size. Undefined when the data turn out damaged, or for sizes libvips
 * would refuse.
 */
export interface OpenedWebp extends OpenedImage {
  /** Whether libvips gives 4 bands (the file's alpha flag). */
  alpha: boolean;
}

/** The image-bearing chunks of a file libvips would decode as this module does. */
interface Container {
  width: number;
  height: number;
  alpha: boolean;
  /** The VP8 or VP8L chunk's payload, with its padding byte: libwebp decodes to the end of the frame's data. */
  frame: Uint8Array;
  lossless: boolean;
  /** A lossy frame's ALPH payload (without padding, as libwebp's parser gives it), where the alpha flag keeps it. */
  alphaData: Uint8Array | undefined;
}

// VP8X feature flags (libwebp's src/webp/mux_types.h).
const ANIMATION_FLAG = 0x02;
const XMP_FLAG = 0x04;
const EXIF_FLAG = 0x08;
const ALPHA_FLAG = 0x10;
const ICCP_FLAG = 0x20;
/** libvips refuses frames wider or taller. */
const MAX_SIDE = 0x3fff;

/**
 * A WebP file's header read (RIFF/WEBP, a simple VP8 or VP8L chunk, or VP8X with one of them, VP8
 * possibly with ALPH); undefined for what is left to sharp: animation, an ICCP or EXIF chunk
 * (sharp would colour-convert or rotate), anything damaged, truncated or over `maxPixels`.
 */
export function openWebp(bytes: Uint8Array, maxPixels: number): OpenedWebp | undefined {
  const file = readContainer(bytes, maxPixels);
  if (file === undefined) return undefined;
  const { width, height, alpha } = file;
  const channels = alpha ? 4 : 3;
  return {
    width,
    height,
    alpha,
    decode: (load) => {
      const ownSize = load === undefined || load.shrink === 1;
      if (!ownSize && (!validSize(load.width, maxPixels) || !validSize(load.height, maxPixels) || load.width * load.height > maxPixels)) return undefined;
      if (file.lossless) {
        const argb = decodeVp8l(file.frame, maxPixels);
        return argb && (ownSize ? argbPixels(argb, width, height, channels) : rescaledArgb(argb, width, height, channels, load.width, load.height));
      }
      // WebPIoInitFromOptions: the loop filter is skipped when both sides shrink below 3/4.
      const loopFilter = ownSize || !(load.width < Math.floor((width * 3) / 4) && load.height < Math.floor((height * 3) / 4));
      const planes = decodeVp8(file.frame, maxPixels, loopFilter);
      const alphaPlane = file.alphaData && decodeAlphaPlane(file.alphaData, width, height);
      if (planes === undefined || (file.alphaData !== undefined && alphaPlane === undefined)) return undefined;
      if (ownSize) return withAlpha(upsampled(planes, channels), alphaPlane);
      // EmitRescaledAlphaRGB: the alpha plane rescaled on its own.
      return withAlpha(rescaled(planes, channels, load.width, load.height), alphaPlane && rescale(alphaPlane, width, width, height, 1, load.width, load.height));
    },
  };
}

function validSize(side: number, maxPixels: number): boolean {
  return Number.isInteger(side) && side > 0 && side <= MAX_SIDE && side <= maxPixels;
}

const fourCc = (bytes: Uint8Array, at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
const le32 = (bytes: Uint8Array, at: number) => (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
const le24 = (bytes: Uint8Array, at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);

interface Chunk {
  tag: string;
  /** Where the payload starts, its declared size, and where the chunk (padded to even) ends. */
  at: number;
  size: number;
  end: number;
}

/**
 * The chunks of the RIFF form, each within it (libwebp's demuxer refuses a chunk that overruns the
 * form, a form the file cuts short, and stray bytes after the last chunk; it ignores anything after
 * the form).
 */
function readChunks(bytes: Uint8Array): Chunk[] | undefined {
  if (bytes.length < 20 || fourCc(bytes, 0) !== 'RIFF' || fourCc(bytes, 8) !== 'WEBP') return undefined;
  const formEnd = le32(bytes, 4) + 8;
  if (formEnd < 16 || formEnd > bytes.length) return undefined;
  const chunks: Chunk[] = [];
  for (let at = 12; at < formEnd; ) {
    if (at + 8 > formEnd) return undefined;
    const size = le32(bytes, at + 4);
    const end = at + 8 + size + (size & 1);
    if (end > formEnd) return undefined;
    chunks.push({ tag: fourCc(bytes, at), at: at + 8, size, end });
    at = end;
  }
  return chunks;
}

/**
 * The file's frame, for the layouts whose decoding here is certain to be libvips': a lone VP8 or
 * VP8L chunk, or VP8X with one of them (VP8 possibly right after an ALPH chunk) and only XMP or
 * unknown chunks beside it. libwebp's demuxer takes the alpha flag from VP8X (dropping ALPH
 * without it), or else from the VP8L header's alpha bit.
 */
function readContainer(bytes: Uint8Array, maxPixels: number): Container | undefined {
  const chunks = readChunks(bytes);
  if (chunks === undefined || chunks.length === 0) return undefined;
  const [first] = chunks as [Chunk];
  let alpha = false;
  let alphaData: Uint8Array | undefined;
  let canvas: { width: number; height: number } | undefined;
  let image: Chunk | undefined;
  if (first.tag === 'VP8X') {
    const flags = bytes[first.at]!;
    // Unknown flags make libwebp's demuxer refuse the file; animation, ICC and EXIF change what sharp makes.
    const known = ANIMATION_FLAG | XMP_FLAG | EXIF_FLAG | ALPHA_FLAG | ICCP_FLAG;
    if (first.size !== 10 || (flags & ~known) !== 0 || (flags & (ANIMATION_FLAG | EXIF_FLAG | ICCP_FLAG)) !== 0) return undefined;
    alpha = (flags & ALPHA_FLAG) !== 0;
    canvas = { width: 1 + le24(bytes, first.at + 4), height: 1 + le24(bytes, first.at + 7) };
    const images = chunks.filter((c) => c.tag === 'VP8 ' || c.tag === 'VP8L' || c.tag === 'ALPH');
    if (chunks.some((c) => ['VP8X', 'ICCP', 'EXIF', 'ANIM', 'ANMF'].includes(c.tag) && c !== first)) return undefined;
    const [alphaChunk, vp8] = images as [Chunk, Chunk | undefined];
    if (images.length === 2 && alphaChunk.tag === 'ALPH' && vp8!.tag === 'VP8 ' && chunks.indexOf(vp8!) === chunks.indexOf(alphaChunk) + 1) {
      image = vp8;
      if (alpha) alphaData = bytes.subarray(alphaChunk.at, alphaChunk.at + alphaChunk.size);
    } else if (images.length === 1 && images[0]!.tag !== 'ALPH') {
      image = images[0];
    }
  } else if (chunks.length === 1 && (first.tag === 'VP8 ' || first.tag === 'VP8L')) {
    image = first;
  }
  if (image === undefined) return undefined;
  const frame = bytes.subarray(image.at, image.end);
  const lossless = image.tag === 'VP8L';
  const size: { width: number; height: number; alpha?: boolean } | undefined = lossless ? vp8lInfo(frame) : vp8FrameSize(frame, image.size);
  if (size === undefined || size.width > MAX_SIDE || size.height > MAX_SIDE || size.width * size.height > maxPixels) return undefined;
  if (canvas !== undefined && (canvas.width !== size.width || canvas.height !== size.height)) return undefined;
  // Without VP8X, the demuxer's alpha flag is the VP8L header's alpha bit.
  return { width: size.width, height: size.height, alpha: canvas === undefined ? size.alpha === true : alpha, frame, lossless, alphaData };
}

// VP8YuvToRgb (src/dsp/yuv.h): BT.601 in 14-bit fixed point, each term a table of the 8-bit sample.
const Y_TERM = Int32Array.from({ length: 256 }, (_, y) => (y * 19077) >> 8);
const R_FROM_V = Int32Array.from({ length: 256 }, (_, v) => ((v * 26149) >> 8) - 14234);
const G_FROM_U = Int32Array.from({ length: 256 }, (_, u) => (u * 6419) >> 8);
const G_FROM_V = Int32Array.from({ length: 256 }, (_, v) => ((v * 13320) >> 8) - 8708);
const B_FROM_U = Int32Array.from({ length: 256 }, (_, u) => ((u * 33050) >> 8) - 17685);

/**
 * One pixel from Y, U, V into a clamped array, whose store is VP8Clip8 (the 14-bit fixed-point
 * value's integer part, clipped to 0..255).
 */
function putRgb(out: Uint8ClampedArray, at: number, y: number, u: number, v: number): void {
  const luma = Y_TERM[y]!;
  out[at] = (luma + R_FROM_V[v]!) >> 6;
  out[at + 1] = (luma - G_FROM_U[u]! - G_FROM_V[v]!) >> 6;
  out[at + 2] = (luma + B_FROM_U[u]!) >> 6;
}

/** `count` pixels of `channels` samples, opaque where there is an alpha channel. */
function pixels(count: number, channels: 3 | 4): Uint8ClampedArray {
  const out = new Uint8ClampedArray(count * channels);
  if (channels === 4) for (let i = 3; i < out.length; i += 4) out[i] = 255;
  return out;
}

/**
 * EmitFancyRGB over the whole frame: each output row's chroma from its nearer chroma row (3/4) and
 * the farther one (1/4), and across, 9:3:3:1 between the four nearest samples, as
 * UpsampleRgbaLinePair computes it; the first row (and the last of an even height) has only its own
 * chroma row.
 */
function upsampled(planes: Vp8Planes, channels: 3 | 4): DecodedImage {
  const { width, height } = planes;
  const out = pixels(width * height, channels);
  const chromaStride = planes.stride >> 1;
  for (let y = 0; y < height; y++) {
    // Output row y lies between chroma rows (y - 1) >> 1 and (y + 1) >> 1, nearer the one of its own parity.
    const near = y === 0 ? 0 : y & 1 ? (y - 1) >> 1 : y >> 1;
    const far = y === 0 || (y === height - 1 && (height & 1) === 0) ? near : y & 1 ? near + 1 : near - 1;
    upsampleRow(planes, y, near * chromaStride, far * chromaStride, out, channels);
  }
  return { samples: new Uint8Array(out.buffer), width, height, channels };
}

/** One row of UpsampleRgbaLinePair: chroma interpolated from the `near` and `far` chroma rows (offsets). */
function upsampleRow(planes: Vp8Planes, row: number, near: number, far: number, out: Uint8ClampedArray, channels: number): void {
  const { y: luma, u, v, width } = planes;
  const yRow = row * planes.stride;
  const o = row * width * channels;
  let nu = u[near]!;
  let fu = u[far]!;
  let nv = v[near]!;
  let fv = v[far]!;
  putRgb(out, o, luma[yRow]!, (3 * nu + fu + 2) >> 2, (3 * nv + fv + 2) >> 2);
  const pairs = (width - 1) >> 1;
  for (let x = 1; x <= pairs; x++) {
    const nu1 = u[near + x]!;
    const fu1 = u[far + x]!;
    const nv1 = v[near + x]!;
    const fv1 = v[far + x]!;
    // The diagonal means libwebp forms first, then halved with the nearest sample.
    const au = nu + nu1 + fu + fu1 + 8;
    const av = nv + nv1 + fv + fv1 + 8;
    const diagU = (au + 2 * (nu1 + fu)) >> 3;
    const antiU = (au + 2 * (nu + fu1)) >> 3;
    const diagV = (av + 2 * (nv1 + fv)) >> 3;
    const antiV = (av + 2 * (nv + fv1)) >> 3;
    putRgb(out, o + (2 * x - 1) * channels, luma[yRow + 2 * x - 1]!, (diagU + nu) >> 1, (diagV + nv) >> 1);
    putRgb(out, o + 2 * x * channels, luma[yRow + 2 * x]!, (antiU + nu1) >> 1, (antiV + nv1) >> 1);
    nu = nu1;
    fu = fu1;
    nv = nv1;
    fv = fv1;
  }
  if ((width & 1) === 0) putRgb(out, o + (width - 1) * channels, luma[yRow + width - 1]!, (3 * nu + fu + 2) >> 2, (3 * nv + fv + 2) >> 2);
}

/** EmitAlphaRGB (WebPDispatchAlpha): a lossy frame's alpha plane, where it has one, into its 4-channel pixels. */
function withAlpha(image: DecodedImage, alphaPlane: Uint8Array | undefined): DecodedImage {
  if (alphaPlane !== undefined) for (let i = 0; i < alphaPlane.length; i++) image.samples[i * 4 + 3] = alphaPlane[i]!;
  return image;
}

/** EmitRescaledRGB: Y, U and V each rescaled to the output size by WebPRescaler, then converted pixel by pixel. */
function rescaled(planes: Vp8Planes, channels: 3 | 4, width: number, height: number): DecodedImage {
  const chromaWidth = (planes.width + 1) >> 1;
  const chromaHeight = (planes.height + 1) >> 1;
  const y = rescale(planes.y, planes.stride, planes.width, planes.height, 1, width, height);
  const u = rescale(planes.u, planes.stride >> 1, chromaWidth, chromaHeight, 1, width, height);
  const v = rescale(planes.v, planes.stride >> 1, chromaWidth, chromaHeight, 1, width, height);
  const out = pixels(width * height, channels);
  for (let i = 0; i < width * height; i++) putRgb(out, i * channels, y[i]!, u[i]!, v[i]!);
  return { samples: new Uint8Array(out.buffer), width, height, channels };
}

/** VP8LConvertBGRAToRGBA: each 0xAARRGGBB pixel as R, G, B (and A), libvips dropping alpha for 3 bands. */
function argbPixels(argb: Int32Array, width: number, height: number, channels: 3 | 4): DecodedImage {
  const out = new Uint8Array(width * height * channels);
  for (let i = 0, o = 0; i < argb.length; i++, o += channels) {
    const pixel = argb[i]!;
    out[o] = (pixel >> 16) & 0xff;
    out[o + 1] = (pixel >> 8) & 0xff;
    out[o + 2] = pixel & 0xff;
    if (channels === 4) out[o + 3] = pixel >>> 24;
  }
  return { samples: out, width, height, channels };
}

// WebPMultARGBRow (src/dsp/alpha_processing.c): 24-bit fixed point, forward by alpha / 255,
// inverse by 255 / alpha, each in 32-bit unsigned arithmetic (whose wrapping the inverse keeps).
const MULT_HALF = 1 << 23;
const KINV_255 = Math.floor(2 ** 24 / 255);

/**
 * EmitRescaledRowsRGBA: the ARGB pixels premultiplied by their alpha (WebPMultARGBRows; fully
 * transparent ones zeroed, opaque ones kept), rescaled by WebPRescaler as four interleaved planes,
 * then unmultiplied (WebPMultARGBRow's inverse, the same exceptions) and converted as at the own size.
 */
function rescaledArgb(argb: Int32Array, width: number, height: number, channels: 3 | 4, scaledWidth: number, scaledHeight: number): DecodedImage {
  // Bytes R, G, B, A: the rescaler treats the channels alike, in whatever order.
  const premultiplied = new Uint8Array(width * height * 4);
  for (let i = 0; i < argb.length; i++) {
    const pixel = argb[i]!;
    const alpha = pixel >>> 24;
    if (alpha === 0) continue;
    const scale = alpha * KINV_255;
    for (let c = 0; c < 3; c++) {
      const v = (pixel >> (16 - 8 * c)) & 0xff;
      premultiplied[i * 4 + c] = alpha === 255 ? v : (v * scale + MULT_HALF) >>> 24;
    }
    premultiplied[i * 4 + 3] = alpha;
  }
  const scaled = rescale(premultiplied, width * 4, width, height, 4, scaledWidth, scaledHeight);
  const out = new Uint8Array(scaledWidth * scaledHeight * channels);
  for (let i = 0, o = 0; i < scaledWidth * scaledHeight; i++, o += channels) {
    const alpha = scaled[i * 4 + 3]!;
    if (alpha === 0) continue;
    const scale = Math.floor((255 * 2 ** 24) / alpha);
    for (let c = 0; c < 3; c++) {
      const v = scaled[i * 4 + c]!;
      out[o + c] = alpha === 255 ? v : (Math.imul(v, scale) + MULT_HALF) >>> 24;
    }
    if (channels === 4) out[o + 3] = alpha;
  }
  return { samples: out, width: scaledWidth, height: scaledHeight, channels };
}

// WebPRescaler's 32-bit fixed point (WEBP_RESCALER_RFIX): its products are 64-bit, computed here
// exactly in halves.
const ONE = 2 ** 32;
const HALF = 2 ** 31;
/** 2^-32: a multiply by it is exact, and cheaper than the division. */
const INVERSE_ONE = 2 ** -32;

/** floor((x1 * y1 + x2 * y2 + add) / 2^32) for 32-bit unsigned operands, exactly (libwebp's uint64 arithmetic). */
function mulShift(x1: number, y1: number, x2: number, y2: number, add: number): number {
  // Doubles hold the sum exactly below 2^53, as they do for the rescaler's usual operands.
  const sum = x1 * y1 + x2 * y2 + add;
  if (sum < 2 ** 53) return Math.floor(sum * INVERSE_ONE);
  const high = (x1 >>> 16) * y1 + (x2 >>> 16) * y2;
  const low = (x1 & 0xffff) * y1 + (x2 & 0xffff) * y2 + add;
  const highTop = Math.floor(high / 65536);
  return highTop + Math.floor(((high - highTop * 65536) * 65536 + low) / ONE);
}

/** MULT_FIX: x * y / 2^32, rounded. */
const multFix = (x: number, y: number) => mulShift(x, y, 0, 0, HALF);

/** floor(x / y) for integers whose quotient a double might round up. */
function divide(x: number, y: number): number {
  let q = Math.floor(x / y);
  if (q * y > x) q--;
  else if ((q + 1) * y <= x) q++;
  return q;
}

/** WEBP_RESCALER_FRAC: x / y in 32-bit fixed point, truncated to 32 bits as libwebp's cast does. */
const fraction = (x: number, y: number) => divide(x * ONE, y) % ONE;

/**
 * WebPRescaler over a whole plane of `channels` interleaved samples, `srcWidth` x `srcHeight` (rows
 * `srcStride` apart) to `dstWidth` x `dstHeight`: each axis reduced by area averaging or enlarged
 * bilinearly, rows imported until one is due, then exported (WebPRescalerImport and Export).
 */
function rescale(src: Uint8Array, srcStride: number, srcWidth: number, srcHeight: number, channels: number, dstWidth: number, dstHeight: number): Uint8Array {
  const xExpand = srcWidth < dstWidth;
  const yExpand = srcHeight < dstHeight;
  const xAdd = xExpand ? dstWidth - 1 : srcWidth;
  const xSub = xExpand ? srcWidth - 1 : dstWidth;
  const yAdd = yExpand ? srcHeight - 1 : srcHeight;
  const ySub = yExpand ? dstHeight - 1 : dstHeight;
  const fxScale = xExpand ? 0 : fraction(1, xSub);
  const fyScale = fraction(1, yExpand ? xAdd : ySub);
  // dstHeight / (xAdd * yAdd), 0 where it would be 1 (libwebp then copies the sums).
  const ratio = yExpand ? 0 : divide(dstHeight * ONE, xAdd * yAdd);
  const fxyScale = ratio >= ONE ? 0 : ratio;
  const rowLength = dstWidth * channels;
  let irow = new Uint32Array(rowLength);
  let frow = new Uint32Array(rowLength);
  const dst = new Uint8Array(rowLength * dstHeight);
  let yAccum = yExpand ? ySub : yAdd;
  let srcY = 0;
  for (let dstY = 0; dstY < dstHeight; ) {
    if (yAccum <= 0) {
      const out = dstY * rowLength;
      if (yExpand) {
        // WebPRescalerExportRowExpand: between the last two imported rows.
        if (yAccum === 0) {
          for (let x = 0; x < rowLength; x++) dst[out + x] = clip255(multFix(frow[x]!, fyScale));
        } else {
          const b = fraction(-yAccum, ySub);
          const a = ONE - b;
          for (let x = 0; x < rowLength; x++) dst[out + x] = clip255(multFix(mulShift(a, frow[x]!, b, irow[x]!, HALF), fyScale));
        }
      } else if (fxyScale !== 0) {
        // WebPRescalerExportRowShrink: the accumulated rows less the share of the last one that belongs to the next output row.
        const yScale = (fyScale * -yAccum) % ONE;
        for (let x = 0; x < rowLength; x++) {
          const carry = yScale === 0 ? 0 : mulShift(frow[x]!, yScale, 0, 0, 0);
          dst[out + x] = clip255(multFix((irow[x]! - carry) >>> 0, fxyScale));
          irow[x] = carry;
        }
      } else {
        for (let x = 0; x < rowLength; x++) {
          dst[out + x] = irow[x]! & 0xff;
          irow[x] = 0;
        }
      }
      yAccum += yAdd;
      dstY++;
      continue;
    }
    if (srcY >= srcHeight) break;
    if (yExpand) {
      const last = irow;
      irow = frow;
      frow = last;
    }
    const row = srcY * srcStride;
    for (let c = 0; c < channels; c++) {
      if (xExpand) importExpand(src, row + c, srcWidth, channels, frow, c, rowLength, xAdd, xSub);
      else importShrink(src, row + c, channels, frow, c, rowLength, xAdd, xSub, fxScale);
    }
    if (!yExpand) for (let x = 0; x < rowLength; x++) irow[x] = irow[x]! + frow[x]!;
    srcY++;
    yAccum -= ySub;
  }
  return dst;
}

/** libwebp's export: (int) of the 32-bit result, over 255 clipped, else its low byte. */
function clip255(v: number): number {
  const i = v | 0;
  return i > 255 ? 255 : i & 0xff;
}

/** WebPRescalerImportRowExpand: one channel of a row, interpolated between neighbouring samples. */
function importExpand(src: Uint8Array, at: number, srcWidth: number, step: number, frow: Uint32Array, x: number, end: number, xAdd: number, xSub: number): void {
  let accum = xAdd;
  let left = src[at]!;
  let right = srcWidth > 1 ? src[at + step]! : left;
  at += step;
  for (;;) {
    frow[x] = right * xAdd + (left - right) * accum;
    x += step;
    if (x >= end) break;
    accum -= xSub;
    if (accum < 0) {
      left = right;
      at += step;
      right = src[at]!;
      accum += xAdd;
    }
  }
}

/** WebPRescalerImportRowShrink: one channel of a row, area-averaged, the sample straddling two outputs split between them. */
function importShrink(src: Uint8Array, at: number, step: number, frow: Uint32Array, x: number, end: number, xAdd: number, xSub: number, fxScale: number): void {
  let sum = 0;
  let accum = 0;
  for (; x < end; x += step) {
    let base = 0;
    accum += xAdd;
    while (accum > 0) {
      accum -= xSub;
      base = src[at]!;
      sum += base;
      at += step;
    }
    const frac = base * -accum;
    frow[x] = sum * xSub - frac;
    // No sample straddles outputs at a whole factor: nothing carried.
    sum = frac === 0 ? 0 : multFix(frac, fxScale);
  }
}
