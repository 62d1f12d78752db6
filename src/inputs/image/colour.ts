/**
 * What sharp's pipeline does to an image's colours (flatten before any resize, toColourspace 'b-w'
 * or 'srgb' after it), redone on pixels decoded in-process, to the same bytes: the models were
 * profiled on libvips' conversions, so the fast decoders must not change a pixel. libvips 8.17
 * composites over the background by truncating (p * a + bg * (max - a)) / max, and makes grey from
 * sRGB through linear light: 0.2126 R + 0.7152 G + 0.0722 B in float32, gamma-encoded back through
 * its interpolated 256-entry table (libvips/colour/LabQ2sRGB.c). Every step below is that code's
 * float32 arithmetic (Math.fround), so that rounding agrees to the last bit.
 */

/** Samples as a decoder gives them: 8 or 16 bits per channel, interleaved, alpha last. */
export interface DecodedImage {
  samples: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** The encoded formats a request may send, as sharp names them. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

/**
 * How sharp loads an image before resizing it (its shrink-on-load): a `shrink` of 1 is the image
 * as it is; a JPEG's 2, 4 or 8 is libjpeg's DCT scaling; a WebP's factor over 1 is libwebp's
 * scaled decoding. `width` and `height` are the size loaded.
 */
export interface Load {
  shrink: number;
  width: number;
  height: number;
}

/**
 * An image whose header a fast decoder has read: its size, and its samples when asked (undefined:
 * damaged, or a load this decoder does not make: left to sharp), at its own size or as `load` says.
 */
export interface OpenedImage {
  width: number;
  height: number;
  decode(load?: Load): DecodedImage | undefined;
}

/** libjpeg's scale-down factors (scale_denom over a scale_num of 1) that libvips' shrink-on-load uses. */
export type JpegShrink = 1 | 2 | 4 | 8;

const f = Math.fround;

/** sRGB value (0..range-1) to linear light, as libvips' float table holds it. */
function linearTable(range: number): Float32Array {
  const table = new Float32Array(range);
  for (let i = 0; i < range; i++) {
    const v = f(i / (range - 1));
    table[i] = v <= 0.04045 ? f(v / f(12.92)) : f(Math.pow(f(f(v + f(0.055)) / f(1 + f(0.055))), f(2.4)));
  }
  return table;
}

/** Linear light (times 255) to 8-bit sRGB, with the extra end entry libvips interpolates against. */
function gammaTable(): Int32Array {
  const table = new Int32Array(257);
  for (let i = 0; i < 256; i++) {
    const v = f(i / 255);
    const encoded = v <= 0.0031308 ? f(f(12.92) * v) : f(f(f(1 + f(0.055)) * f(Math.pow(v, f(1 / f(2.4))))) - f(0.055));
    table[i] = roundHalfEven(f(255 * encoded));
  }
  table[256] = table[255]!;
  return table;
}

/** C's rintf in the default rounding mode. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

let linear8: Float32Array | undefined;
let linear16: Float32Array | undefined;
let gamma: Int32Array | undefined;
const [WR, WG, WB] = [f(0.2126), f(0.7152), f(0.0722)];

/** libvips' vips_col_scRGB2BW_8: linear R, G, B to an 8-bit grey. */
function linearToGrey(r: number, g: number, b: number, lut: Int32Array): number {
  const y = f(f(f(WR * r) + f(WG * g)) + f(WB * b));
  const yf = Math.min(255, Math.max(0, f(y * 255)));
  const yi = Math.trunc(yf);
  return roundHalfEven(f(lut[yi]! + f((lut[yi + 1]! - lut[yi]!) * f(yf - yi))));
}

/**
 * `image` flattened onto a grey `background` (0..255) and brought to `channels` (1: libvips' 'b-w',
 * 3: 'srgb'), one byte per channel, interleaved: what sharp's pipeline gives at the same size.
 */
export function toPixels(image: DecodedImage, channels: 1 | 3, background: number): Uint8Array {
  return toColourspace(flattened(image, background), channels);
}

/** `image` without its alpha, composited over a grey `background` (0..255) as sharp's flatten does; as it is when opaque. */
export function flattened(image: DecodedImage, background: number): DecodedImage {
  const { samples, width, height } = image;
  const deep = samples instanceof Uint16Array;
  const colour = image.channels >= 3 ? 3 : 1;
  if (image.channels === colour) return image;
  return { samples: flatten(samples, width * height, colour, deep ? 65535 : 255, deep ? background * 256 : background), width, height, channels: colour };
}

/** An opaque image (grey or RGB) brought to `channels` (1: libvips' 'b-w', 3: 'srgb'), one byte per channel, interleaved. */
export function toColourspace(image: DecodedImage, channels: 1 | 3): Uint8Array {
  const { samples: flat, width, height } = image;
  const deep = flat instanceof Uint16Array;
  const count = width * height;
  const colour = image.channels;
  if (channels === 1 && colour === 1 && !deep) return flat as Uint8Array;
  const out = new Uint8Array(count * channels);
  if (channels === 3) {
    // Grey to sRGB repeats the value; 16 bits come down by a shift (vips_cast with shift).
    for (let i = 0; i < count * 3; i++) out[i] = deep ? flat[colour === 3 ? i : Math.floor(i / 3)]! >> 8 : flat[colour === 3 ? i : Math.floor(i / 3)]!;
    return out;
  }
  const lin = deep ? (linear16 ??= linearTable(65536)) : (linear8 ??= linearTable(256));
  const lut = (gamma ??= gammaTable());
  for (let i = 0; i < count; i++) {
    const j = i * colour;
    const r = flat[j]!;
    const g = colour === 1 ? r : flat[j + 1]!;
    const b = colour === 1 ? r : flat[j + 2]!;
    // An 8-bit grey pixel is its own grey: libvips' weights and tables give back every v of 0..255.
    out[i] = !deep && r === g && g === b ? r : linearToGrey(lin[r]!, lin[g]!, lin[b]!, lut);
  }
  return out;
}

/**
 * `image` flattened (as `flattened`), as its one channel when every pixel then is grey (as
 * `greyPlane`); RGBA whose pixels are all grey or transparent flattened straight to that channel.
 */
export function flattenedGrey(image: DecodedImage, background: number): DecodedImage {
  const { samples, width, height } = image;
  if (image.channels === 4 && samples instanceof Uint8Array && LITTLE_ENDIAN && samples.byteOffset % 4 === 0) {
    const plane = flattenGreyRgba(new Uint32Array(samples.buffer, samples.byteOffset, width * height), background);
    if (plane !== undefined) return { samples: plane, width, height, channels: 1 };
  }
  const opaque = flattened(image, background);
  return greyPlane(opaque) ?? opaque;
}

/** flattenRgba's one channel for pixels that are all grey or transparent; undefined at the first other. */
function flattenGreyRgba(pixels: Uint32Array, background: number): Uint8Array | undefined {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const pixel = pixels[i]!;
    const alpha = pixel >>> 24;
    // R = G = B: the low three bytes each equal to the next.
    if (((pixel ^ (pixel >>> 8)) & 0xffff) !== 0 && alpha !== 0) return undefined;
    const sum = (pixel & 0xff) * alpha + background * (255 - alpha);
    out[i] = (sum + 1 + (sum >> 8)) >> 8;
  }
  return out;
}

/**
 * An opaque 8-bit RGB image whose every pixel is grey (R = G = B, as a grey picture is once a
 * canvas, a JPEG or a WebP encoder has made it colour) as its one channel, which resizes to the same
 * bytes as each of the three (the channels are resized alike and apart) at a third of the work;
 * undefined for any other image, found at its first coloured pixel. Its grey is itself, as each
 * grey pixel's is (toColourspace).
 */
function greyPlane(image: DecodedImage): DecodedImage | undefined {
  const { samples, width, height } = image;
  if (image.channels !== 3 || samples instanceof Uint16Array) return undefined;
  const count = width * height;
  for (let i = 0, j = 0; i < count; i++, j += 3) if (samples[j] !== samples[j + 1] || samples[j] !== samples[j + 2]) return undefined;
  const plane = new Uint8Array(count);
  for (let i = 0, j = 0; i < count; i++, j += 3) plane[i] = samples[j]!;
  return { samples: plane, width, height, channels: 1 };
}

/** vips_flatten: alpha composited over `background`, truncated, in the samples' own depth. */
function flatten(samples: Uint8Array | Uint16Array, count: number, colour: number, max: number, background: number): Uint8Array | Uint16Array {
  if (samples instanceof Uint8Array) return flatten8(samples, count, colour, background);
  const out = new Uint16Array(count * colour);
  for (let i = 0; i < count; i++) {
    const alpha = samples[i * (colour + 1) + colour]!;
    for (let c = 0; c < colour; c++) out[i * colour + c] = Math.floor((samples[i * (colour + 1) + c]! * alpha + background * (max - alpha)) / max);
  }
  return out;
}

/** Whether this machine's words hold their bytes lowest first: an RGBA pixel is then one word, A in the top byte. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** flatten of 8-bit samples, whose sums (at most 255 * 255) divide by 255 exactly as (x + 1 + (x >> 8)) >> 8. */
function flatten8(samples: Uint8Array, count: number, colour: number, background: number): Uint8Array {
  if (colour === 3 && LITTLE_ENDIAN && samples.byteOffset % 4 === 0) return flattenRgba(new Uint32Array(samples.buffer, samples.byteOffset, count), background);
  const out = new Uint8Array(count * colour);
  for (let i = 0, from = 0, to = 0; i < count; i++, from += colour + 1, to += colour) {
    const alpha = samples[from + colour]!;
    const under = background * (255 - alpha);
    for (let c = 0; c < colour; c++) {
      const sum = samples[from + c]! * alpha + under;
      out[to + c] = (sum + 1 + (sum >> 8)) >> 8;
    }
  }
  return out;
}

/** flatten8 of RGBA pixels read a word at a time (a load per pixel, not four); opaque ones as they are. */
function flattenRgba(pixels: Uint32Array, background: number): Uint8Array {
  const out = new Uint8Array(pixels.length * 3);
  for (let i = 0, to = 0; i < pixels.length; i++, to += 3) {
    const pixel = pixels[i]!;
    const alpha = pixel >>> 24;
    const r = pixel & 0xff;
    const g = (pixel >> 8) & 0xff;
    const b = (pixel >> 16) & 0xff;
    if (alpha === 255) {
      out[to] = r;
      out[to + 1] = g;
      out[to + 2] = b;
      continue;
    }
    const under = background * (255 - alpha);
    const sr = r * alpha + under;
    const sg = g * alpha + under;
    const sb = b * alpha + under;
    out[to] = (sr + 1 + (sr >> 8)) >> 8;
    out[to + 1] = (sg + 1 + (sg >> 8)) >> 8;
    out[to + 2] = (sb + 1 + (sb >> 8)) >> 8;
  }
  return out;
}
