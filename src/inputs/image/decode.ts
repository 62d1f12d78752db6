/**
 * Image decoding and preprocessing: the one module that imports sharp. Any PNG, JPEG or WebP
 * (any size, grey or colour, with or without alpha, EXIF-rotated) becomes exactly the tensor a
 * model's manifest asks for. PNGs, baseline JPEGs and still WebPs skip libvips at a model's own
 * size and wherever resize.ts reproduces sharp's resize to it (2x, 4x, 8x or half the model's
 * size, among others): decoded in-process (codecs/, with their shrink-on-load), resized
 * (resize.ts) and converted (colour.ts) as sharp does, to the same bytes.
 * An input is decoded once and converted once per distinct preprocessing, however many models of
 * the zoo then look at it.
 */
import sharp from 'sharp';
import { InvalidInputError, PayloadTooLargeError } from '../../errors/index.js';
import type { DecodeLimits, Input } from '../kind.js';
import { observeEncoded, observePixels, type Observed } from './observed.js';
import { flattenedGrey, toColourspace, toPixels, type DecodedImage, type ImageFormat, type Load, type OpenedImage } from './colour.js';
import { openJpeg } from './codecs/jpeg.js';
import { openPng } from './codecs/png.js';
import { openWebp } from './codecs/webp.js';
import { tensorIndex, type ImagePreprocessing } from './preprocessing.js';
import { planResize, resample } from './resize.js';

/** Undecoded pixels, as the data sets hold them: 8 bits per channel, row-major, interleaved. */
export interface RawImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Views of an image that a model may be invariant to (test-time augmentation). */
export type ImageView = 'mirror';

/** A tensor of `prep`'s layout flipped left to right. */
function mirrored(tensor: Float32Array, prep: ImagePreprocessing): Float32Array {
  const out = new Float32Array(tensor.length);
  const { width, height, channels } = prep;
  const at = tensorIndex(prep);
  for (let c = 0; c < channels; c++) {
    for (let row = 0; row < height * width; row += width) {
      for (let x = 0; x < width; x++) out[at(c, row + x)] = tensor[at(c, row + width - 1 - x)]!;
    }
  }
  return out;
}

const ACCEPTED_FORMATS: ReadonlySet<string> = new Set<ImageFormat>(['png', 'jpeg', 'webp']);

// Request images are small and seen once: libvips' worker threads and operation cache cost more
// than they save here (measured: 0.5 ms against 1.3 ms a 28x28 image with the defaults).
sharp.concurrency(1);
sharp.cache(false);

/** How encoded images are decoded; `inProcess: false` leaves every image to sharp (what the fast paths are measured against). */
export interface DecodeOptions {
  inProcess?: boolean;
}

/**
 * The in-process decoder of each format that has one, up to the size where it stops beating libvips
 * (npm run bench:decode, and photo-like images of larger sizes): at the image's own size
 * (`maxPixels`; JPEG wins at 56x56, loses at 112x112; WebP wins at 112x112, lossy loses at
 * 224x224, lossless draws at 160x160; PNG wins at every size measured), and to be resized
 * (`maxResizedPixels`; to 28x28: PNG wins at 112x112, loses at 224x224; WebP, scaled on load,
 * lossy wins at 224x224 and loses at 320x320, lossless draws at 224x224; JPEG, shrunk on load,
 * wins up to 448x448, draws at 640x640, loses at 1000x1000).
 */
const IN_PROCESS: readonly { format: ImageFormat; open: (bytes: Uint8Array, maxPixels: number) => OpenedImage | undefined; maxPixels: number; maxResizedPixels: number }[] = [
  { format: 'png', open: openPng, maxPixels: Infinity, maxResizedPixels: 128 * 128 },
  { format: 'jpeg', open: openJpeg, maxPixels: 64 * 64, maxResizedPixels: 512 * 512 },
  { format: 'webp', open: openWebp, maxPixels: 128 * 128, maxResizedPixels: 256 * 256 },
];
type InProcess = (typeof IN_PROCESS)[number];

export class ImageInput implements Input {
  readonly kind = 'image';
  private readonly tensors = new Map<string, Promise<Float32Array>>();

  private source: sharp.Sharp | undefined;
  /** The in-process decodes, by shrink-on-load, made when a tensor asks; null when the data turned out damaged. */
  private readonly decoded = new Map<number, DecodedImage | null>();

  private constructor(
    /** Opens the image in sharp, only when a conversion needs libvips. */
    private readonly open: () => sharp.Sharp,
    /** The encoded format the image arrived in; undefined for pixels (a data set, a v2 tensor). */
    readonly format: ImageFormat | undefined,
    /** What its headers say of how it was encoded: format, size, lossy, JPEG quality. */
    readonly observed: Observed,
    private readonly raw?: RawImage,
    /** An encoded image an in-process decoder can take, decoded only if a tensor it can make is asked for. */
    private readonly opened?: OpenedImage,
    private readonly decoder?: InProcess,
  ) {}

  /** Checks an encoded image's header (format, size) without decoding its pixels. */
  static async fromEncoded(bytes: Uint8Array, limits: DecodeLimits, options: DecodeOptions = {}): Promise<ImageInput> {
    if (bytes.length === 0) throw new InvalidInputError('the image is empty');
    const open = () => sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error', sequentialRead: true });
    // Pixels decoded without libvips serve the preprocessings of their own size and those that
    // resize.ts resizes them to as sharp would; any other is resampled by sharp from the file.
    for (const decoder of options.inProcess === false ? [] : IN_PROCESS) {
      const opened = decoder.open(bytes, Math.min(Math.max(decoder.maxPixels, decoder.maxResizedPixels), limits.maxPixels));
      if (opened !== undefined) return new ImageInput(open, decoder.format, observeEncoded(bytes, decoder.format, opened.width, opened.height), undefined, opened, decoder);
    }
    let meta: sharp.Metadata;
    try {
      // Reads the header only. sharp's own pixel limit would refuse a decompression bomb here as
      // undecodable; lifted, so that the check against `limits` below names the size and the limit.
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch {
      throw new InvalidInputError('the image cannot be decoded: send a PNG, JPEG or WebP file');
    }
    if (meta.format === undefined || !ACCEPTED_FORMATS.has(meta.format)) {
      throw new InvalidInputError(`images must be PNG, JPEG or WebP, not ${meta.format ?? 'unknown'}`);
    }
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    if (width * height > limits.maxPixels) {
      throw new PayloadTooLargeError(
        `the image is ${width}x${height} pixels; the limit is ${limits.maxPixels} pixels`,
      );
    }
    // Only the first frame of an animated or multi-page image is used (`pages: 1` is the default).
    const format = meta.format as ImageFormat;
    return new ImageInput(open, format, observeEncoded(bytes, format, width, height));
  }

  static fromRaw(image: RawImage): ImageInput {
    const { width, height, channels } = image;
    return new ImageInput(() => sharp(image.pixels, { raw: { width, height, channels } }), undefined, observePixels(width, height), image);
  }

  /**
   * The image behind a preprocessed tensor (in `prep`'s layout, (pixel / 255 - mean) / std), as the
   * Open Inference Protocol sends it: back to 8-bit pixels, exact for any tensor this module made.
   */
  static fromTensor(tensor: Float32Array, prep: ImagePreprocessing): ImageInput {
    const plane = prep.width * prep.height;
    const pixels = new Uint8Array(plane * prep.channels);
    const at = tensorIndex(prep);
    for (let c = 0; c < prep.channels; c++) {
      const std = prep.std[c]!;
      const mean = prep.mean[c]!;
      for (let i = 0; i < plane; i++) {
        const v = tensor[at(c, i)]!;
        const pixel = (v * std + mean) * 255;
        if (!(pixel >= -0.5 && pixel <= 255.5)) {
          const lo = (0 - mean) / std;
          const hi = (1 - mean) / std;
          throw new InvalidInputError(
            `tensor value ${v} (channel ${c}, index ${i}) is outside the preprocessed range ` +
              `[${Math.min(lo, hi).toFixed(4)}, ${Math.max(lo, hi).toFixed(4)}] ((pixel / 255 - mean) / std)`,
          );
        }
        pixels[i * prep.channels + c] = Math.min(255, Math.max(0, Math.round(pixel)));
      }
    }
    return ImageInput.fromRaw({ pixels, width: prep.width, height: prep.height, channels: prep.channels });
  }

  /**
   * The tensor (CHW, float32) for `prep`, computed once per distinct preprocessing; of its `view`
   * (mirror: flipped left to right), made from the plain tensor.
   */
  tensor(prep: ImagePreprocessing, view?: ImageView): Promise<Float32Array> {
    const key = view === undefined ? preprocessingKey(prep) : `${preprocessingKey(prep)}:${view}`;
    let tensor = this.tensors.get(key);
    if (tensor === undefined) {
      const raw = this.raw;
      // Pixels already of the wanted size need no resampling: skip libvips. Grey pixels serve a colour
      // model as sharp converts them, each channel the grey value.
      const sameSize = raw !== undefined && raw.width === prep.width && raw.height === prep.height;
      const pixels = view === undefined ? this.inProcessPixels(prep) : undefined;
      tensor =
        view !== undefined ? this.tensor(prep).then((plain) => mirrored(plain, prep))
        : sameSize && (raw.channels === prep.channels || raw.channels === 1) ? Promise.resolve(planarTensor(raw.pixels, raw.channels, prep))
        : pixels !== undefined ? Promise.resolve(planarTensor(pixels, prep.channels, prep))
        : toTensor((this.source ??= this.open()).clone(), prep);
      this.tensors.set(key, tensor);
    }
    return tensor;
  }

  /**
   * `prep`'s pixels made in-process, as sharp makes them: at the image's own size, or resized as
   * resize.ts reproduces (8-bit samples only); undefined for anything left to sharp.
   */
  private inProcessPixels(prep: ImagePreprocessing): Uint8Array | undefined {
    const { opened, decoder } = this;
    if (opened === undefined || decoder === undefined) return undefined;
    const pixels = opened.width * opened.height;
    if (opened.width === prep.width && opened.height === prep.height) {
      const decoded = pixels <= decoder.maxPixels ? this.decode() : undefined;
      return decoded === undefined ? undefined : toPixels(decoded, prep.channels, prep.background);
    }
    const plan = pixels <= decoder.maxResizedPixels ? planResize(opened.width, opened.height, decoder.format, prep) : undefined;
    const decoded = plan === undefined ? undefined : this.decode(plan.load);
    if (plan === undefined || decoded === undefined || decoded.samples instanceof Uint16Array) return undefined;
    return toColourspace(resample(flattenedGrey(decoded, prep.background), plan, prep.background), prep.channels);
  }

  /**
   * The in-process decode at the own size or for a shrink-on-load, once (for one image the shrink
   * determines the size loaded); undefined for damaged data, which sharp then decodes or refuses as before.
   */
  private decode(load?: Load): DecodedImage | undefined {
    const shrink = load?.shrink ?? 1;
    let decoded = this.decoded.get(shrink);
    if (decoded === undefined) this.decoded.set(shrink, (decoded = this.opened!.decode(load) ?? null));
    return decoded ?? undefined;
  }

  /** The pixels it was made from (a data set's), if it was made from pixels. */
  pixels(): RawImage | undefined {
    return this.raw !== undefined && this.format === undefined ? this.raw : undefined;
  }

  /** The image as a PNG file, as a client would send it (the pixels it was made from, or its first decode). */
  png(): Promise<Buffer> {
    return this.raw === undefined ? (this.source ??= this.open()).clone().png().toBuffer() : encodePng(this.raw);
  }
}

/** `image` as a PNG file, as a client would send it: greyscale for one channel (sharp writes RGB unless told). */
export function encodePng(image: RawImage): Promise<Buffer> {
  const { width, height, channels } = image;
  const encoder = sharp(image.pixels, { raw: { width, height, channels } });
  return (channels === 1 ? encoder.toColourspace('b-w') : encoder).png().toBuffer();
}

/**
 * An image file's format and size from its header, as its pixels will be once EXIF-rotated;
 * undefined when it is not an image sharp reads. Offline: checking a data set of files.
 */
export async function imageFileHeader(bytes: Uint8Array): Promise<{ format: string; width: number; height: number } | undefined> {
  try {
    const meta = await sharp(bytes).metadata();
    // EXIF orientations 5 to 8 turn the image a quarter.
    const turned = (meta.orientation ?? 1) >= 5;
    const [width, height] = [meta.width ?? 0, meta.height ?? 0];
    return { format: meta.format ?? 'unknown', ...(turned ? { width: height, height: width } : { width, height }) };
  } catch {
    return undefined;
  }
}

/**
 * An image file's pixels at its own size, EXIF-rotated, alpha dropped (one channel for grey, three
 * for colour): how a data set of files is read for profiling. Not the request path's decode.
 */
export async function decodeImageFile(bytes: Uint8Array): Promise<RawImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const channels = info.channels === 1 ? 1 : 3;
    const pixels = info.channels === channels ? new Uint8Array(data) : Uint8Array.from({ length: info.width * info.height * 3 }, (_, i) => data[Math.floor(i / 3) * info.channels + (i % 3)]!);
    return { pixels, width: info.width, height: info.height, channels };
  } catch {
    throw new InvalidInputError('the file cannot be decoded as a PNG, JPEG or WebP image');
  }
}

/** Equal preprocessings share a key; a manifest's objects are keyed once, not per request. */
const keys = new WeakMap<ImagePreprocessing, string>();
function preprocessingKey(prep: ImagePreprocessing): string {
  let key = keys.get(prep);
  if (key === undefined) keys.set(prep, (key = JSON.stringify(prep)));
  return key;
}

async function toTensor(image: sharp.Sharp, prep: ImagePreprocessing): Promise<Float32Array> {
  const grey = prep.background;
  const background = { r: grey, g: grey, b: grey, alpha: 1 };
  let pipeline = image
    .rotate() // honour EXIF orientation
    .flatten({ background })
    .resize(prep.width, prep.height, { fit: prep.fit, background });
  pipeline = prep.channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  let data: Buffer;
  let channels: number;
  try {
    const out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    data = out.data;
    channels = out.info.channels;
  } catch (err) {
    throw new InvalidInputError(`the image cannot be decoded: ${(err as Error).message.split('\n')[0]}`);
  }
  if (channels < prep.channels || data.length !== prep.width * prep.height * channels) {
    throw new InvalidInputError(`the image decoded to ${channels} channels, expected ${prep.channels}`);
  }
  return planarTensor(data, channels, prep);
}

/**
 * Interleaved HWC bytes (`channels` per pixel) to the floats of `prep`'s layout: (pixel / 255 -
 * mean) / std. One-channel bytes fill every channel.
 */
function planarTensor(data: Uint8Array, channels: number, prep: ImagePreprocessing): Float32Array {
  const plane = prep.width * prep.height;
  const tensor = new Float32Array(plane * prep.channels);
  // A channel's values lie `stride` apart: one plane after another (nchw, flat), or interleaved (nhwc).
  const interleaved = prep.layout === 'nhwc';
  const stride = interleaved ? prep.channels : 1;
  for (let c = 0; c < prep.channels; c++) {
    const scale = 1 / (255 * prep.std[c]!);
    const offset = prep.mean[c]! / prep.std[c]!;
    const source = channels === 1 ? 0 : c;
    for (let i = 0, from = source, to = interleaved ? c : c * plane; i < plane; i++, from += channels, to += stride) tensor[to] = data[from]! * scale - offset;
  }
  return tensor;
}
