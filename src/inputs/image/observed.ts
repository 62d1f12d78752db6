/**
 * What the service can see of how a client encoded an image, read from the file's own headers at
 * no cost: its format, its size, whether it is lossy and, for JPEG, the quality its quantisation
 * tables were scaled for. Accuracy depends on these (a small JPEG of low quality loses detail that
 * no model gets back), so calibration vouches for each bucket of them (`encodingGroup`) and the
 * premodel's features include them.
 */

export interface Observed {
  format: 'png' | 'jpeg' | 'webp' | 'pixels';
  width: number;
  height: number;
  lossy: boolean;
  /** JPEG only: the IJG quality (1..100) its luminance table matches; undefined elsewhere. */
  quality: number | undefined;
}

/** The IJG (libjpeg) standard luminance quantisation table, in natural order: what quality 50 uses. */
const IJG_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const IJG_SUM = IJG_LUMINANCE.reduce((a, b) => a + b, 0);

/**
 * The quality a JPEG's first (luminance) quantisation table was made for: libjpeg, mozjpeg and
 * most cameras scale the standard table by `scale` (q < 50: 5000 / q, else 200 - 2q), in percent;
 * the ratio of the sums inverts it. Undefined when the file has no table before its scan.
 */
export function jpegQuality(bytes: Uint8Array): number | undefined {
  let i = 2; // after SOI
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker === 0xda || length < 2) return undefined; // start of scan: no table before it
    if (marker === 0xdb) {
      const precision = bytes[i + 4]! >> 4;
      const size = precision === 0 ? 1 : 2;
      if (i + 5 + 64 * size > bytes.length) return undefined;
      let sum = 0;
      for (let k = 0; k < 64; k++) sum += size === 1 ? bytes[i + 5 + k]! : (bytes[i + 5 + 2 * k]! << 8) | bytes[i + 6 + 2 * k]!;
      const scale = (100 * sum) / IJG_SUM;
      const quality = scale <= 100 ? (200 - scale) / 2 : 5000 / scale;
      return Math.max(1, Math.min(100, Math.round(quality)));
    }
    i += 2 + length;
  }
  return undefined;
}

/** Whether a WebP file is lossy (VP8) rather than lossless (VP8L), from its first chunk (and VP8X's). */
export function webpLossy(bytes: Uint8Array): boolean {
  const text = (from: number) => String.fromCharCode(...bytes.subarray(from, from + 4));
  // RIFF header (12 bytes), then chunks: 'VP8 ' lossy, 'VP8L' lossless, 'VP8X' extended (look on).
  for (let i = 12; i + 8 <= bytes.length; ) {
    const chunk = text(i);
    if (chunk === 'VP8 ') return true;
    if (chunk === 'VP8L') return false;
    const size = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    i += 8 + size + (size & 1);
  }
  return true;
}

export function observeEncoded(bytes: Uint8Array, format: 'png' | 'jpeg' | 'webp', width: number, height: number): Observed {
  const lossy = format === 'jpeg' || (format === 'webp' && webpLossy(bytes));
  return { format, width, height, lossy, quality: format === 'jpeg' ? jpegQuality(bytes) : undefined };
}

/** Pixels that came as pixels (a data set, a v2 tensor): lossless at their own size. */
export function observePixels(width: number, height: number): Observed {
  return { format: 'pixels', width, height, lossy: false, quality: undefined };
}

/**
 * The bucket of encodings an image falls in, as calibration vouches for them: lossless or lossy
 * (JPEG by its quality: 90 and up, 75 to 89, below 75; WebP lossy as one), and whether it came at
 * the model's size, larger (a client that drew it bigger) or smaller.
 */
export function encodingGroup(observed: Observed, modelWidth: number, modelHeight: number): string {
  const scale = Math.max(observed.width / modelWidth, observed.height / modelHeight);
  const size = scale > 1.25 ? 'larger' : scale < 0.8 ? 'smaller' : 'native';
  const kind = !observed.lossy
    ? 'lossless'
    : observed.format === 'jpeg'
      ? observed.quality === undefined || observed.quality >= 90 ? 'jpeg-high' : observed.quality >= 75 ? 'jpeg-mid' : 'jpeg-low'
      : 'webp-lossy';
  return `${kind}@${size}`;
}
