/**
 * sharp's `resize(width, height, { fit })` (lanczos3, its default) redone in-process, to the same
 * bytes, for the resizing that client images need (2x, 4x, 8x a model's size, or half of it):
 * libvips' resize of uchar pixels costs a millisecond or more of pipeline overhead for a few
 * thousand multiplies. As sharp 0.34 / libvips 8.17 do it (sharp's pipeline.cc, libvips'
 * resize.c, shrinkv.c, shrinkh.c, reducev.cpp, reduceh.cpp and their Highway kernels, affine.c,
 * bicubic.cpp):
 * - sharp picks the shrink per axis (one for both when the fit keeps the aspect ratio), a JPEG's
 *   shrink-on-load (libjpeg's DCT scaling, one step short when the shrink is exactly a power of
 *   two) or a WebP's (libwebp's scaled decoding), then vips_resize: vertical first, then horizontal;
 * - each axis is box-shrunk by the integer part of shrink / 2 (the "gap"), rounding the sum of each
 *   box with a 32-bit reciprocal multiply, then reduced by the residual with a lanczos3 mask
 *   sampled at 1/64 pixel, its weights in 12-bit fixed point, edges repeating the border pixel;
 * - an axis to enlarge makes vips_affine enlarge both (the other by 1, resampled in place):
 *   Catmull-Rom bicubic, 12-bit weights at 1/64 pixel, each row's sums rounded before the column's;
 * - the resized image is then letterboxed (contain) or centre-cropped (cover).
 * 16-bit samples, a grid of sampling points that would depend on libvips' tiling, and fits that
 * do not land on the target size are left to sharp (undefined).
 */
import type { DecodedImage, ImageFormat, JpegShrink, Load } from './colour.js';
import type { ImagePreprocessing } from './preprocessing.js';

/** Per output pixel of an axis, `taps` source pixels (edges clamped) and their 12-bit weights. */
interface Taps {
  size: number;
  taps: number;
  index: Int32Array;
  weight: Int32Array;
}

/**
 * One axis's downsizing to `size` pixels: a box of `box` pixels, then the taps (none: the box was
 * all), those of weight 0 dropped (lanczos3's every other one at whole factors): output pixel o's
 * source pixels and weights are at `starts[o]` up to `starts[o + 1]` of `index` and `weight`.
 */
interface Reduction {
  box: number;
  size: number;
  starts: Int32Array;
  index: Int32Array;
  weight: Int32Array;
}

/** What sharp does to an image of a given size for a preprocessing, when reproduced here. */
export interface ResizePlan {
  /** sharp's shrink-on-load: what the decoder is asked for. */
  load: Load;
  vertical: Reduction | undefined;
  horizontal: Reduction | undefined;
  /** The bicubic enlargement after any reduction: both axes' 4 taps. */
  enlarge: { horizontal: Taps; vertical: Taps } | undefined;
  /** Where the resized image lies on the target canvas: letterboxed (positive) or cropped (negative). */
  left: number;
  top: number;
  width: number;
  height: number;
}

type Fit = ImagePreprocessing['fit'];

/** sharp's ResolveShrink for a fixed width and height. */
function resolveShrink(width: number, height: number, targetWidth: number, targetHeight: number, fit: Fit): [number, number] {
  let h = width / targetWidth;
  let v = height / targetHeight;
  if (fit === 'cover') h = v = Math.min(h, v);
  else if (fit === 'contain') h = v = Math.max(h, v);
  return [Math.min(h, width), Math.min(v, height)];
}

/** sharp's JPEG shrink-on-load for an overall `shrink` (fastShrinkOnLoad, its default). */
function jpegShrink(shrink: number): JpegShrink {
  const s: JpegShrink = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  // sharp steps back from libjpeg's rounding at exact powers of two.
  return s > 1 && Math.trunc(shrink) === s ? ((s / 2) as JpegShrink) : s;
}

/**
 * sharp's shrink-on-load of each format, for the overall shrink (the smaller of the axes'): none
 * for PNG, libjpeg's DCT scaling of a JPEG (whose fractional pixels libvips drops), and for a WebP
 * any shrink over 1, as a scale of 1 / shrink to the nearest pixel (libvips' rint).
 */
const SHRINK_ON_LOAD: Record<ImageFormat, (width: number, height: number, shrink: number) => Load> = {
  png: (width, height) => ({ shrink: 1, width, height }),
  jpeg: (width, height, overall) => {
    const shrink = jpegShrink(overall);
    return { shrink, width: Math.floor(width / shrink), height: Math.floor(height / shrink) };
  },
  webp: (width, height, shrink) => (shrink > 1 ? { shrink, width: rint(width * (1 / shrink)), height: rint(height * (1 / shrink)) } : { shrink: 1, width, height }),
};

/** Plans made, by source and target: clients send a few sizes over and over; cleared when full. */
const plans = new Map<string, ResizePlan | undefined>();
const MAX_PLANS = 1024;

/**
 * How sharp resizes a `format` image of `width` x `height` for `prep`; undefined when it would not
 * land on the target size or its sampling would depend on libvips' tiling.
 */
export function planResize(width: number, height: number, format: ImageFormat, prep: ImagePreprocessing): ResizePlan | undefined {
  const key = `${format} ${width}x${height} ${prep.width}x${prep.height} ${prep.fit}`;
  if (plans.has(key)) return plans.get(key);
  if (plans.size >= MAX_PLANS) plans.clear();
  const plan = makePlan(width, height, format, prep.width, prep.height, prep.fit);
  plans.set(key, plan);
  return plan;
}

function makePlan(width: number, height: number, format: ImageFormat, targetWidth: number, targetHeight: number, fit: Fit): ResizePlan | undefined {
  const load = SHRINK_ON_LOAD[format](width, height, Math.min(...resolveShrink(width, height, targetWidth, targetHeight, fit)));
  const { width: loadedWidth, height: loadedHeight } = load;
  const [hshrink, vshrink] = resolveShrink(loadedWidth, loadedHeight, targetWidth, targetHeight, fit);
  let [vertical, horizontal]: (Reduction | undefined)[] = [undefined, undefined];
  let enlarge: ResizePlan['enlarge'];
  if (hshrink !== 1 || vshrink !== 1) {
    // vips_resize takes scales; reducev and reduceh get their reciprocals back.
    const hscale = Math.max(1 / hshrink, 1 / loadedWidth);
    const vscale = Math.max(1 / vshrink, 1 / loadedHeight);
    if (vscale < 1 && (vertical = reduction(loadedHeight, 1 / vscale)) === undefined) return undefined;
    if (hscale < 1 && (horizontal = reduction(loadedWidth, 1 / hscale)) === undefined) return undefined;
    if (hscale > 1 || vscale > 1) {
      enlarge = enlargement(horizontal?.size ?? loadedWidth, vertical?.size ?? loadedHeight, hscale > 1 ? hscale : 1, vscale > 1 ? vscale : 1);
      if (enlarge === undefined) return undefined;
    }
  }
  const resizedWidth = enlarge?.horizontal.size ?? horizontal?.size ?? loadedWidth;
  const resizedHeight = enlarge?.vertical.size ?? vertical?.size ?? loadedHeight;
  const placed = { load, vertical, horizontal, enlarge, width: targetWidth, height: targetHeight };
  if (resizedWidth === targetWidth && resizedHeight === targetHeight) return { ...placed, left: 0, top: 0 };
  if (fit === 'contain' && resizedWidth <= targetWidth && resizedHeight <= targetHeight) {
    return { ...placed, left: Math.trunc((targetWidth - resizedWidth) / 2), top: Math.trunc((targetHeight - resizedHeight) / 2) };
  }
  if (fit === 'cover' && resizedWidth >= targetWidth && resizedHeight >= targetHeight) {
    return { ...placed, left: -Math.trunc((resizedWidth - targetWidth + 1) / 2), top: -Math.trunc((resizedHeight - targetHeight + 1) / 2) };
  }
  return undefined;
}

/** C's rint in the default rounding mode. */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** reducev / reduceh of `size` pixels by `factor`, with vips_resize's gap of 2; undefined when its sampling would depend on tiling. */
function reduction(size: number, factor: number): Reduction | undefined {
  const out = Math.floor(size / factor + 0.5);
  // The box does the integer part of factor / gap; extra: pixels the reduce invents (< 0: drops).
  const box = Math.max(1, Math.floor(size / out / 2));
  const boxed = Math.ceil(size / box);
  const residual = factor / box;
  const extra = (out * factor - size) / box;
  if (residual === 1) return { box, size: out, starts: new Int32Array(out + 1), index: new Int32Array(0), weight: new Int32Array(0) };
  const taps = 2 * rint(3 * residual) + 1;
  const offset = (1 + extra) / 2 - 1;
  const points = steppedPoints(out, (o) => (o + 0.5) * residual - 0.5 - offset, residual);
  // libvips pads the input with ceil(taps / 2) - 1 copies of the edge pixel before the first.
  return points === undefined ? undefined : { box, ...withoutZeros(tapsAt(points, boxed, Math.ceil(taps / 2) - 1, lanczos3Masks(taps, residual), taps)) };
}

/** `taps` without those of weight 0, which add nothing to a sum: each output pixel's from its start. */
function withoutZeros(taps: Taps): Omit<Reduction, 'box'> {
  const { size, index, weight } = taps;
  const starts = new Int32Array(size + 1);
  const kept: number[] = [];
  for (let o = 0; o < size; o++) {
    for (let i = o * taps.taps; i < (o + 1) * taps.taps; i++) if (weight[i] !== 0) kept.push(i);
    starts[o + 1] = kept.length;
  }
  return { size, starts, index: Int32Array.from(kept, (i) => index[i]!), weight: Int32Array.from(kept, (i) => weight[i]!) };
}

/**
 * vips_affine's bicubic of `width` x `height` pixels scaled by `a` and `d` (vips_resize's idx and
 * idy of 0.5, less the one-pixel border affine adds, plus the stencil's offset of 1).
 */
function enlargement(width: number, height: number, a: number, d: number): ResizePlan['enlarge'] {
  const det = 1 / (a * d);
  const [ia, id] = [det * d, det * a];
  const horizontal = steppedPoints(Math.floor(width * a + 0.5), (o) => ia * o + 0.5 + 1, ia);
  const vertical = Array.from({ length: Math.floor(height * d + 0.5) }, (_, o) => id * o + 0.5 + 1);
  // Points outside the input (and its border) would be painted black; none are at these scales.
  const inside = (position: number, size: number) => Math.floor(position) >= 1 && Math.floor(position) <= size + 1;
  if (horizontal === undefined || !horizontal.every((p) => inside(p, width)) || !vertical.every((p) => inside(p, height))) return undefined;
  // The stencil starts a pixel before the point, in an input bordered by 2 pixels.
  return { horizontal: tapsAt(horizontal, width, 3, BICUBIC, 4), vertical: tapsAt(vertical, height, 3, BICUBIC, 4) };
}

/**
 * The positions (in source pixels) of `out` output pixels as libvips' loops step through them:
 * from a region's first pixel (`start`), adding `step` each time. Regions may start anywhere, so
 * the points must not depend on where: undefined when rounding makes them. They do not when each
 * sum is the point computed directly (every step exact, as for whole factors), else when every
 * start gives the same pixels and phases.
 */
function steppedPoints(out: number, start: (o: number) => number, step: number): number[] | undefined {
  const points: number[] = [];
  for (let o = 0, position = start(0); o < out; o++, position += step) points.push(position);
  if (points.every((p, o) => p === start(o))) return points;
  if (out > 256) return undefined;
  for (let from = 1; from < out; from++) {
    for (let o = from, position = start(from); o < out; o++, position += step) {
      if (Math.trunc(position) !== Math.trunc(points[o]!) || phase(position) !== phase(points[o]!)) return undefined;
    }
  }
  return points;
}

/** The mask (of 65 sub-pixel phases) libvips takes for a position: its fraction rounded to 1/64. */
function phase(position: number): number {
  return ((Math.trunc(position * 128) & 127) + 1) >> 1;
}

/** Each point's taps: from `before` pixels before its whole part, clamped to `size` pixels, weighted by its phase's mask. */
function tapsAt(points: number[], size: number, before: number, masks: Int32Array, taps: number): Taps {
  const index = new Int32Array(points.length * taps);
  const weight = new Int32Array(points.length * taps);
  points.forEach((position, o) => {
    const [first, mask] = [Math.trunc(position) - before, phase(position)];
    for (let i = 0; i < taps; i++) {
      index[o * taps + i] = Math.min(size - 1, Math.max(0, first + i));
      weight[o * taps + i] = masks[mask * taps + i]!;
    }
  });
  return { size: points.length, taps, index, weight };
}

/** vips_reduce_make_mask for lanczos3 at each of the 65 phases, as reduce's short table holds it (truncated to 1/4096). */
function lanczos3Masks(taps: number, shrink: number): Int32Array {
  const masks = new Int32Array(65 * taps);
  const c = new Float64Array(taps);
  for (let phase = 0; phase <= 64; phase++) {
    const half = phase / 64 + taps / 2 - 1;
    let sum = 0;
    for (let i = 0; i < taps; i++) {
      c[i] = lanczos3((i - half) / shrink);
      sum += c[i]!;
    }
    for (let i = 0; i < taps; i++) masks[phase * taps + i] = Math.trunc((c[i]! / sum) * 4096);
  }
  return masks;
}

function lanczos3(x: number): number {
  return x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0;
}

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(x * Math.PI) / (x * Math.PI);
}

/** libvips' Catmull-Rom table (bicubic.cpp) at each of the 65 phases, truncated to 1/4096. */
const BICUBIC = Int32Array.from({ length: 65 * 4 }, (_, i) => {
  const x = Math.floor(i / 4) / 64;
  // calculate_coefficients_catmull's own sequence of operations, so that the doubles agree.
  const [cr1, cr2] = [1 - x, -0.5 * x];
  const cr3 = cr1 * cr2;
  const [cone, cfou] = [cr1 * cr3, x * cr3];
  const cr4 = cfou - cone;
  return Math.trunc([cone, cr1 - cone + cr4, x - cfou - cr4, cfou][i % 4]! * 4096);
});

/**
 * `image` (opaque, 8 bits, as loaded with `plan.load`) resized and placed as `plan` says, bars
 * of grey `background` (0..255) where it is letterboxed.
 */
export function resample(image: DecodedImage, plan: ResizePlan, background: number): DecodedImage {
  const { channels } = image;
  let { width, height } = image;
  let samples = image.samples as Uint8Array;
  // Vertically a pixel along the axis is a whole row; horizontally, one pixel of each row.
  if (plan.vertical !== undefined) {
    samples = reduceAxis(samples, height, width * channels, 1, plan.vertical);
    height = plan.vertical.size;
  }
  if (plan.horizontal !== undefined) {
    samples = reduceAxis(samples, width, channels, height, plan.horizontal);
    width = plan.horizontal.size;
  }
  if (plan.enlarge !== undefined) {
    samples = bicubic(samples, width, height, channels, plan.enlarge.horizontal, plan.enlarge.vertical);
    [width, height] = [plan.enlarge.horizontal.size, plan.enlarge.vertical.size];
  }
  return { samples: place(samples, width, height, channels, plan, background), width: plan.width, height: plan.height, channels };
}

/** One axis reduced, in `lines` lines of `length` pixels of `step` samples each. */
function reduceAxis(input: Uint8Array, length: number, step: number, lines: number, r: Reduction): Uint8Array {
  const boxed = r.box > 1 ? boxShrink(input, length, step, lines, r.box) : input;
  if (r.index.length === 0) return boxed;
  const out = new Uint8Array(lines * r.size * step);
  // Rows (vertical: long steps) sum a whole row per tap; pixels (horizontal: 1 or 3 channels) in locals.
  (step > 3 ? reduceRows : reducePixels)(boxed, Math.ceil(length / r.box) * step, step, lines, r, out);
  return out;
}

/** 12-bit sums, rounded by the half added before the shift and clamped as VIPS_CLIP. */
function clip(sum: number): number {
  const v = sum >> 12;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function reduceRows(input: Uint8Array, inStride: number, step: number, lines: number, r: Reduction, out: Uint8Array): void {
  const { starts, index, weight, size } = r;
  const sums = new Int32Array(step);
  for (let line = 0; line < lines; line++) {
    const first = line * inStride;
    for (let o = 0; o < size; o++) {
      sums.fill(2048);
      // Four source rows a pass over the sums, then the rest one by one.
      let t = starts[o]!;
      const n = starts[o + 1]!;
      for (; t + 4 <= n; t += 4) {
        // Plain locals: destructuring would make an array each pass.
        const w0 = weight[t]!;
        const w1 = weight[t + 1]!;
        const w2 = weight[t + 2]!;
        const w3 = weight[t + 3]!;
        const f0 = first + index[t]! * step;
        const f1 = first + index[t + 1]! * step;
        const f2 = first + index[t + 2]! * step;
        const f3 = first + index[t + 3]! * step;
        for (let k = 0; k < step; k++) sums[k] = sums[k]! + w0 * input[f0 + k]! + w1 * input[f1 + k]! + w2 * input[f2 + k]! + w3 * input[f3 + k]!;
      }
      for (; t < n; t++) {
        const w0 = weight[t]!;
        const f0 = first + index[t]! * step;
        for (let k = 0; k < step; k++) sums[k] = sums[k]! + w0 * input[f0 + k]!;
      }
      const to = (line * size + o) * step;
      for (let k = 0; k < step; k++) out[to + k] = clip(sums[k]!);
    }
  }
}

function reducePixels(input: Uint8Array, inStride: number, step: number, lines: number, r: Reduction, out: Uint8Array): void {
  const { starts, index, weight, size } = r;
  if (step === 1) {
    reduceGreyPixels(input, inStride, lines, r, out);
    return;
  }
  const g = step > 1 ? 1 : 0;
  const b = step > 2 ? 2 : 0;
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < size; o++) {
      let s0 = 2048;
      let s1 = 2048;
      let s2 = 2048;
      for (let i = starts[o]!, end = starts[o + 1]!; i < end; i++) {
        const w = weight[i]!;
        const from = line * inStride + index[i]! * step;
        s0 += w * input[from]!;
        s1 += w * input[from + g]!;
        s2 += w * input[from + b]!;
      }
      const to = (line * size + o) * step;
      out[to] = clip(s0);
      if (step > 1) out[to + 1] = clip(s1);
      if (step > 2) out[to + 2] = clip(s2);
    }
  }
}

/** reducePixels of one channel: one sum, not three of the same. */
function reduceGreyPixels(input: Uint8Array, inStride: number, lines: number, r: Reduction, out: Uint8Array): void {
  const { starts, index, weight, size } = r;
  for (let line = 0, to = 0; line < lines; line++) {
    const from = line * inStride;
    for (let o = 0; o < size; o++, to++) {
      let sum = 2048;
      for (let i = starts[o]!, end = starts[o + 1]!; i < end; i++) sum += weight[i]! * input[from + index[i]!]!;
      out[to] = clip(sum);
    }
  }
}

/** bicubic_unsigned_int over the image: each row across (rounded, not clipped), then down the columns (rounded, clipped). */
function bicubic(input: Uint8Array, width: number, height: number, channels: number, across: Taps, down: Taps): Uint8Array {
  const rowStride = across.size * channels;
  const rows = new Int32Array(height * rowStride);
  for (let y = 0; y < height; y++) {
    for (let o = 0; o < across.size; o++) {
      for (let k = 0; k < channels; k++) {
        let sum = 2048;
        for (let i = o * 4; i < o * 4 + 4; i++) sum += across.weight[i]! * input[(y * width + across.index[i]!) * channels + k]!;
        rows[y * rowStride + o * channels + k] = sum >> 12;
      }
    }
  }
  const out = new Uint8Array(down.size * rowStride);
  for (let o = 0; o < down.size; o++) {
    for (let x = 0; x < rowStride; x++) {
      let sum = 2048;
      for (let i = o * 4; i < o * 4 + 4; i++) sum += down.weight[i]! * rows[down.index[i]! * rowStride + x]!;
      const v = sum >> 12;
      out[o * rowStride + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** shrinkv / shrinkh by `box`: each output pixel the mean of `box` (the last repeated past the edge), rounded by a 32-bit reciprocal. */
function boxShrink(input: Uint8Array, length: number, step: number, lines: number, box: number): Uint8Array {
  const outLength = Math.ceil(length / box);
  const inStride = length * step;
  const outStride = outLength * step;
  const out = new Uint8Array(lines * outStride);
  const multiplier = Math.floor(2 ** 32 / (256 * box));
  const amend = box >> 1;
  // A pixel's samples summed over its box together (a whole row of them, vertically).
  const sums = new Int32Array(step);
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outLength; o++) {
      sums.fill(amend);
      for (let i = 0; i < box; i++) {
        const from = line * inStride + Math.min(length - 1, o * box + i) * step;
        for (let k = 0; k < step; k++) sums[k] = sums[k]! + input[from + k]!;
      }
      // >>> takes the product modulo 2^32, as the uint32 multiply does.
      const to = line * outStride + o * step;
      for (let k = 0; k < step; k++) out[to + k] = (sums[k]! * multiplier) >>> 24;
    }
  }
  return out;
}

/** The resized pixels on the target canvas: cropped, or letterboxed with the background. */
function place(samples: Uint8Array, width: number, height: number, channels: number, plan: ResizePlan, background: number): Uint8Array {
  if (plan.left === 0 && plan.top === 0 && width === plan.width && height === plan.height) return samples;
  // A grey image's bars: sharp's 0.2126 g + 0.7152 g + 0.0722 g, a hair under g in doubles, which
  // libvips rounds back to g (measured: every g of 0..255).
  const out = new Uint8Array(plan.width * plan.height * channels).fill(background);
  for (let y = 0; y < plan.height; y++) {
    const from = y - plan.top;
    if (from < 0 || from >= height) continue;
    for (let x = 0; x < plan.width; x++) {
      const col = x - plan.left;
      if (col < 0 || col >= width) continue;
      for (let k = 0; k < channels; k++) out[(y * plan.width + x) * channels + k] = samples[(from * width + col) * channels + k]!;
    }
  }
  return out;
}
