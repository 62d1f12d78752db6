/**
 * Images as clients really send them: the family of encodings that calibration measures the zoo
 * on, so that an accuracy target holds for what phones and browsers upload, not only for the data
 * set's own pixels. Decided from what they produce:
 * - a browser's canvas exports PNG by default (RGBA, an opaque or a cut-out transparent
 *   background), JPEG at quality 0.92 and WebP at 0.80 by default (Chrome), at the size the page
 *   drew the image: often a few times the model's, smoothed as it was drawn;
 * - phones save camera and gallery images as JPEG at 85 to 95, messaging apps recompress at 70 to
 *   80, thumbnails go down to 50; screenshots are PNG;
 * - a client that knows the model sends the pixels as they are, losslessly (the data set's form);
 *   one that sends a thumbnail sends fewer pixels than the model takes.
 * Offline only (profiling and evaluation); the request path decodes (decode.ts).
 */
import sharp from 'sharp';
import type { RawImage } from './decode.js';

export interface ClientEncoding {
  id: string;
  format: 'png' | 'jpeg' | 'webp';
  /** Side of the sent image over the pixels' own (1: as they are). */
  scale: number;
  /** How the client smoothed it when drawing it larger (sharp's kernels). */
  kernel: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
  /** Lossy formats: the encoder's quality (1..100); WebP without one is lossless. */
  quality?: number;
  /** source: as the pixels are; grey: one channel; rgb: three; rgba: with alpha, `cutout` making the background transparent. */
  channels: 'source' | 'grey' | 'rgb' | 'rgba';
  cutout?: boolean;
}

export const CLIENT_ENCODINGS: readonly ClientEncoding[] = Object.freeze([
  { id: 'png', format: 'png', scale: 1, kernel: 'nearest', channels: 'source' },
  { id: 'png-rgba-cutout-4x', format: 'png', scale: 4, kernel: 'linear', channels: 'rgba', cutout: true },
  { id: 'png-rgb-2x', format: 'png', scale: 2, kernel: 'cubic', channels: 'rgb' },
  { id: 'png-rgb-half', format: 'png', scale: 0.5, kernel: 'lanczos3', channels: 'rgb' },
  { id: 'jpeg-92', format: 'jpeg', scale: 1, kernel: 'nearest', quality: 92, channels: 'rgb' },
  { id: 'jpeg-80', format: 'jpeg', scale: 1, kernel: 'nearest', quality: 80, channels: 'rgb' },
  { id: 'jpeg-92-4x', format: 'jpeg', scale: 4, kernel: 'linear', quality: 92, channels: 'rgb' },
  { id: 'jpeg-75-2x', format: 'jpeg', scale: 2, kernel: 'cubic', quality: 75, channels: 'rgb' },
  { id: 'jpeg-50', format: 'jpeg', scale: 1, kernel: 'nearest', quality: 50, channels: 'rgb' },
  { id: 'jpeg-50-8x', format: 'jpeg', scale: 8, kernel: 'lanczos3', quality: 50, channels: 'rgb' },
  { id: 'webp-80', format: 'webp', scale: 1, kernel: 'nearest', quality: 80, channels: 'rgb' },
  { id: 'webp-80-4x', format: 'webp', scale: 4, kernel: 'linear', quality: 80, channels: 'rgb' },
  { id: 'webp-50-2x', format: 'webp', scale: 2, kernel: 'cubic', quality: 50, channels: 'rgb' },
  { id: 'webp-lossless-rgba-2x', format: 'webp', scale: 2, kernel: 'cubic', channels: 'rgba', cutout: true },
] satisfies ClientEncoding[]);

/**
 * The pixels as the channels an encoding sends: grey (a colour image's luminance is left to the
 * encoder), RGB (a grey image in three equal channels), or RGB with alpha, transparent where a
 * cut-out's background (black) is.
 */
function channelsOf(image: RawImage, encoding: ClientEncoding): { pixels: Uint8Array; channels: 1 | 2 | 3 | 4 } {
  const { pixels, channels } = image;
  const colour = channels >= 3;
  const count = image.width * image.height;
  if (encoding.channels === 'source') return { pixels, channels };
  if (encoding.channels === 'grey') {
    return colour ? { pixels: Uint8Array.from({ length: count * 3 }, (_, i) => pixels[Math.floor(i / 3) * channels + (i % 3)]!), channels: 3 } : { pixels: Uint8Array.from({ length: count }, (_, i) => pixels[i * channels]!), channels: 1 };
  }
  const step = encoding.channels === 'rgb' ? 3 : 4;
  const out = new Uint8Array(count * step);
  for (let i = 0; i < count; i++) {
    let dark = true;
    for (let c = 0; c < 3; c++) {
      const v = pixels[i * channels + (colour ? c : 0)]!;
      out[i * step + c] = v;
      if (v !== 0) dark = false;
    }
    // A cut-out: the background, which the service lays back on its background grey, is transparent.
    if (step === 4) out[i * step + 3] = encoding.cutout === true && dark ? 0 : 255;
  }
  return { pixels: out, channels: step };
}

/**
 * `image` (grey or colour pixels, as a data set holds them) encoded as a client of `encoding` sends
 * it: at its own size for a scale of 1, else at the model's size (`model`, default the image's)
 * times the scale, as a client draws it for the page.
 */
export async function encodeLikeClient(image: RawImage, encoding: ClientEncoding, model: { width: number; height: number } = image): Promise<Buffer> {
  const { pixels, channels } = channelsOf(image, encoding);
  let pipeline = sharp(pixels, { raw: { width: image.width, height: image.height, channels } });
  if (encoding.scale !== 1) {
    pipeline = pipeline.resize(Math.round(model.width * encoding.scale), Math.round(model.height * encoding.scale), { kernel: encoding.kernel, fit: 'fill' });
  }
  if (encoding.channels === 'grey' || (encoding.channels === 'source' && channels === 1)) pipeline = pipeline.toColourspace('b-w');
  switch (encoding.format) {
    case 'png':
      return pipeline.png().toBuffer();
    case 'jpeg':
      return pipeline.jpeg({ quality: encoding.quality ?? 92 }).toBuffer();
    case 'webp':
      return encoding.quality === undefined ? pipeline.webp({ lossless: true }).toBuffer() : pipeline.webp({ quality: encoding.quality }).toBuffer();
  }
}
