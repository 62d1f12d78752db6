/**
 * Cheap image features for the premodel: what makes a garment easy or hard to classify
 * (brightness, contrast, edges and their angle, symmetry, the shape of the silhouette), in the
 * spirit of Taylor et al. (LCTES'18). They are computed on the request path from one grey plane
 * in two passes over the pixels, without allocating per pixel: microseconds for a 28x28 image.
 */

/** Pixels brighter than this (0..1) belong to the garment; Fashion-MNIST's background is 0. */
const FOREGROUND_THRESHOLD = 0.05;
/** Pixels brighter than this (0..1) count as bright. */
const BRIGHT_THRESHOLD = 0.5;
/** Gradient magnitude (intensity change to the next pixel) above which a pixel lies on an edge. */
const EDGE_THRESHOLD = 0.2;
/** Bins of the coarse intensity histogram whose entropy is a feature. */
const HISTOGRAM_BINS = 8;

/** The features, in the order `imageFeatures` returns them. */
export const IMAGE_FEATURES: readonly string[] = Object.freeze([
  'meanIntensity', // brightness: dim garments lose their detail
  'rmsContrast', // standard deviation of the intensity
  'brightShare', // share of pixels brighter than 0.5: how much of the garment is light
  'foregroundMean', // mean intensity of the garment alone, whatever its size
  'foregroundStd', // texture or print inside the garment
  'histogramEntropy', // entropy of an 8-bin histogram, 0..1: flat silhouette or many shades
  'edgeDensity', // share of pixels on an edge: edge length, how busy the outline and print are
  'meanGradient', // mean gradient magnitude: how sharp the edges are
  'horizontalEdgeShare', // share of gradient energy across horizontal edges (0.5: no preference)
  'diagonalEdgeShare', // share of gradient energy along diagonals: sleeves, heels, straps
  'symmetryLeftRight', // 1 - mirror difference about the vertical axis: most garments are symmetric
  'symmetryTopBottom', // the same about the horizontal axis: bags and shoes differ from tops
  'boxWidth', // width of the garment's bounding box, share of the image width
  'boxHeight', // height of the bounding box, share of the image height
  'boxAspect', // box width / box height, in pixels (1 for an empty image)
  'boxFill', // share of the box that is garment: compact (bag) or with gaps (sandal, trousers)
  'centroidX', // intensity centroid's offset from the centre, in image widths
  'centroidY', // the same vertically, in image heights
  'rowRuns', // mean count of separate garment runs per non-empty row: legs, straps, sleeves
  'columnRuns', // mean count of separate garment runs per non-empty column
]);

/**
 * The features of one grey plane (row-major, values in 0..1, white garment on black), aligned
 * with IMAGE_FEATURES. Every value is finite for any such plane, blank ones included.
 */
export function imageFeatures(plane: Float32Array, width: number, height: number): Float32Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`an image needs a positive integer width and height, not ${width}x${height}`);
  }
  if (plane.length !== width * height) {
    throw new RangeError(`a ${width}x${height} plane holds ${width * height} values, not ${plane.length}`);
  }
  const pixels = width * height;
  const histogram = new Int32Array(HISTOGRAM_BINS);
  let sum = 0;
  let sumSquares = 0;
  let bright = 0;
  let foreground = 0;
  let foregroundSum = 0;
  let foregroundSumSquares = 0;
  let minX = width;
  let maxX = -1;
  let minY = height;
  let maxY = -1;
  let momentX = 0;
  let momentY = 0;
  let rowRuns = 0;
  let nonEmptyRows = 0;
  let columnRuns = 0;
  let mirrorDifferenceLeftRight = 0;
  let mirrorMassLeftRight = 0;
  let mirrorDifferenceTopBottom = 0;
  let mirrorMassTopBottom = 0;
  // A column holds garment exactly when one of its runs starts in it: one flag per column.
  const columnHasRun = new Uint8Array(width);

  for (let y = 0; y < height; y++) {
    const row = y * width;
    const mirrorRow = (height - 1 - y) * width;
    let runsInRow = 0;
    let previousInGarment = false;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const p = plane[i]!;
      sum += p;
      sumSquares += p * p;
      momentX += p * x;
      momentY += p * y;
      if (p > BRIGHT_THRESHOLD) bright++;
      const bin = (p * HISTOGRAM_BINS) | 0; // truncation: cheaper than Math.floor, the same for p >= 0
      histogram[bin >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : bin < 0 ? 0 : bin]!++;

      const inGarment = p > FOREGROUND_THRESHOLD;
      if (inGarment) {
        foreground++;
        foregroundSum += p;
        foregroundSumSquares += p * p;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        maxY = y;
        if (!previousInGarment) runsInRow++;
        if (y === 0 || !(plane[i - width]! > FOREGROUND_THRESHOLD)) {
          columnRuns++;
          columnHasRun[x] = 1;
        }
      }
      previousInGarment = inGarment;

      if (2 * x < width - 1) {
        const q = plane[row + width - 1 - x]!;
        mirrorDifferenceLeftRight += Math.abs(p - q);
        mirrorMassLeftRight += p + q;
      }
      if (2 * y < height - 1) {
        const q = plane[mirrorRow + x]!;
        mirrorDifferenceTopBottom += Math.abs(p - q);
        mirrorMassTopBottom += p + q;
      }
    }
    if (runsInRow > 0) {
      rowRuns += runsInRow;
      nonEmptyRows++;
    }
  }

  // Forward differences (to the right, downwards), in intensity change per pixel: unlike central
  // differences they see a print whose period is one or two pixels.
  let gradientSum = 0;
  let edgePixels = 0;
  let energyAcrossColumns = 0; // gx^2: vertical edges
  let energyAcrossRows = 0; // gy^2: horizontal edges
  let energyDiagonal = 0;
  const edgeThresholdSquared = EDGE_THRESHOLD * EDGE_THRESHOLD;
  for (let y = 0; y < height - 1; y++) {
    for (let i = y * width, end = i + width - 1; i < end; i++) {
      const p = plane[i]!;
      const gx = plane[i + 1]! - p;
      const gy = plane[i + width]! - p;
      const gxx = gx * gx;
      const gyy = gy * gy;
      const magnitudeSquared = gxx + gyy;
      energyAcrossColumns += gxx;
      energyAcrossRows += gyy;
      // 2|gx gy| / (gx^2 + gy^2) is 0 for an axis-aligned edge and 1 for a diagonal one.
      energyDiagonal += 2 * Math.abs(gx * gy);
      gradientSum += Math.sqrt(magnitudeSquared);
      if (magnitudeSquared > edgeThresholdSquared) edgePixels++;
    }
  }
  const differenced = (width - 1) * (height - 1);
  const gradientEnergy = energyAcrossColumns + energyAcrossRows;

  let columnsWithRuns = 0;
  for (let x = 0; x < width; x++) columnsWithRuns += columnHasRun[x]!;

  let entropy = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) {
    const share = histogram[b]! / pixels;
    if (share > 0) entropy -= share * Math.log2(share);
  }

  const mean = sum / pixels;
  const foregroundMean = ratio(foregroundSum, foreground, 0);
  const boxWidth = maxX >= minX ? maxX - minX + 1 : 0;
  const boxHeight = maxY >= minY ? maxY - minY + 1 : 0;
  return Float32Array.of(
    mean,
    Math.sqrt(Math.max(0, sumSquares / pixels - mean * mean)),
    bright / pixels,
    foregroundMean,
    Math.sqrt(Math.max(0, ratio(foregroundSumSquares, foreground, 0) - foregroundMean * foregroundMean)),
    entropy / Math.log2(HISTOGRAM_BINS),
    ratio(edgePixels, differenced, 0),
    ratio(gradientSum, differenced, 0),
    ratio(energyAcrossRows, gradientEnergy, 0.5),
    ratio(energyDiagonal, gradientEnergy, 0),
    1 - ratio(mirrorDifferenceLeftRight, mirrorMassLeftRight, 0),
    1 - ratio(mirrorDifferenceTopBottom, mirrorMassTopBottom, 0),
    boxWidth / width,
    boxHeight / height,
    ratio(boxWidth, boxHeight, 1),
    ratio(foreground, boxWidth * boxHeight, 0),
    sum > 0 ? (momentX / sum - (width - 1) / 2) / width : 0,
    sum > 0 ? (momentY / sum - (height - 1) / 2) / height : 0,
    ratio(rowRuns, nonEmptyRows, 0),
    ratio(columnRuns, columnsWithRuns, 0),
  );
}

/** numerator / denominator, or `whenEmpty` where the denominator is zero. */
function ratio(numerator: number, denominator: number, whenEmpty: number): number {
  return denominator > 0 ? numerator / denominator : whenEmpty;
}
