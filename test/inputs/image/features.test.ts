import { expect } from 'chai';
import { IMAGE_FEATURES, imageFeatures } from '../../../src/inputs/image/features.js';

const SIZE = 28;

/** A SIZE x SIZE plane, each pixel `value(x, y)`. */
function plane(value: (x: number, y: number) => number, width = SIZE, height = SIZE): Float32Array {
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * width + x] = value(x, y);
  return pixels;
}

/** The features of `pixels` by name. */
function named(pixels: Float32Array, width = SIZE, height = SIZE): Record<string, number> {
  const values = imageFeatures(pixels, width, height);
  return Object.fromEntries(IMAGE_FEATURES.map((name, i) => [name, values[i]!]));
}

/** A white square of side 14 in the middle of a black 28x28 field. */
const centredSquare = plane((x, y) => (x >= 7 && x < 21 && y >= 7 && y < 21 ? 1 : 0));

describe('features/image', () => {
  it('names every feature once and returns one value per name', () => {
    expect(new Set(IMAGE_FEATURES).size).to.equal(IMAGE_FEATURES.length);
    expect(IMAGE_FEATURES.length).to.be.within(15, 25);
    expect(imageFeatures(centredSquare, SIZE, SIZE)).to.have.length(IMAGE_FEATURES.length);
  });

  const degenerate: [string, Float32Array, number, number][] = [
    ['all black', plane(() => 0), SIZE, SIZE],
    ['all white', plane(() => 1), SIZE, SIZE],
    ['a single lit pixel', plane((x, y) => (x === 3 && y === 20 ? 1 : 0)), SIZE, SIZE],
    ['a 1x1 image', new Float32Array([0.7]), 1, 1],
    ['a 2x2 image', new Float32Array([0, 1, 1, 0]), 2, 2],
    ['a one-row image', plane((x) => x % 2, 28, 1), 28, 1],
  ];
  for (const [what, pixels, width, height] of degenerate) {
    it(`gives finite values for ${what}`, () => {
      const values = imageFeatures(pixels, width, height);
      expect(values).to.have.length(IMAGE_FEATURES.length);
      for (const [i, v] of values.entries()) expect(Number.isFinite(v), IMAGE_FEATURES[i]).to.equal(true);
    });
  }

  it('describes a blank image as empty, symmetric and without edges', () => {
    const f = named(plane(() => 0));
    expect(f.meanIntensity).to.equal(0);
    expect(f.edgeDensity).to.equal(0);
    expect(f.horizontalEdgeShare).to.equal(0.5);
    expect(f.symmetryLeftRight).to.equal(1);
    expect(f.symmetryTopBottom).to.equal(1);
    expect(f.boxWidth).to.equal(0);
    expect(f.boxFill).to.equal(0);
    expect(f.rowRuns).to.equal(0);
  });

  it('describes an all-white image as one full box of one shade', () => {
    const f = named(plane(() => 1));
    expect(f.meanIntensity).to.equal(1);
    expect(f.rmsContrast).to.be.closeTo(0, 1e-6);
    expect(f.histogramEntropy).to.equal(0);
    expect(f.edgeDensity).to.equal(0);
    expect([f.boxWidth, f.boxHeight, f.boxAspect, f.boxFill]).to.deep.equal([1, 1, 1, 1]);
  });

  it('measures a centred white square exactly', () => {
    const f = named(centredSquare);
    const share = (14 * 14) / (28 * 28);
    expect(f.meanIntensity).to.be.closeTo(share, 1e-6);
    expect(f.brightShare).to.be.closeTo(share, 1e-6);
    expect(f.rmsContrast).to.be.closeTo(Math.sqrt(share * (1 - share)), 1e-6);
    expect(f.foregroundMean).to.be.closeTo(1, 1e-6);
    expect(f.foregroundStd).to.be.closeTo(0, 1e-6);
    // Two bins, a quarter and three quarters of the pixels, out of log2(8) = 3 bits.
    expect(f.histogramEntropy).to.be.closeTo(-(0.25 * Math.log2(0.25) + 0.75 * Math.log2(0.75)) / 3, 1e-6);
    expect(f.symmetryLeftRight).to.be.closeTo(1, 1e-6);
    expect(f.symmetryTopBottom).to.be.closeTo(1, 1e-6);
    expect(f.boxWidth).to.be.closeTo(0.5, 1e-6);
    expect(f.boxHeight).to.be.closeTo(0.5, 1e-6);
    expect(f.boxAspect).to.be.closeTo(1, 1e-6);
    expect(f.boxFill).to.be.closeTo(1, 1e-6);
    expect(f.centroidX).to.be.closeTo(0, 1e-6);
    expect(f.centroidY).to.be.closeTo(0, 1e-6);
    expect(f.horizontalEdgeShare).to.be.closeTo(0.5, 1e-6);
    expect(f.rowRuns).to.equal(1);
    expect(f.columnRuns).to.equal(1);
    // The outline: 14 pixels on each side, the bottom-right corner on two sides at once.
    expect(f.edgeDensity).to.be.closeTo((4 * 14 - 1) / (27 * 27), 1e-6);
    expect(f.diagonalEdgeShare).to.be.closeTo(2 / (4 * 14), 1e-6);
  });

  it('tells horizontal edges from vertical ones', () => {
    const horizontalStripes = named(plane((_, y) => Math.floor(y / 2) % 2));
    const verticalStripes = named(plane((x) => Math.floor(x / 2) % 2));
    expect(horizontalStripes.horizontalEdgeShare).to.be.closeTo(1, 1e-6);
    expect(verticalStripes.horizontalEdgeShare).to.be.closeTo(0, 1e-6);
    expect(horizontalStripes.diagonalEdgeShare).to.be.closeTo(0, 1e-6);
    expect(horizontalStripes.rowRuns).to.equal(1);
    expect(horizontalStripes.columnRuns).to.equal(7);
    expect(verticalStripes.rowRuns).to.equal(7);
  });

  it('sees diagonal edges on a diagonal ramp', () => {
    const f = named(plane((x, y) => (x + y) / (2 * SIZE)));
    expect(f.diagonalEdgeShare).to.be.closeTo(1, 1e-6);
    expect(f.horizontalEdgeShare).to.be.closeTo(0.5, 1e-6);
  });

  it('sees an off-centre garment as asymmetric and shifted', () => {
    const f = named(plane((x, y) => (x < 10 && y >= 4 && y < 24 ? 1 : 0)));
    expect(f.symmetryLeftRight).to.be.closeTo(0, 1e-6);
    expect(f.symmetryTopBottom).to.be.closeTo(1, 1e-6);
    expect(f.centroidX).to.be.closeTo((4.5 - 13.5) / 28, 1e-6);
    expect(f.centroidY).to.be.closeTo(0, 1e-6);
    expect(f.boxAspect).to.be.closeTo(10 / 20, 1e-6);
  });

  it('counts the legs of a pair of trousers and the texture of a print', () => {
    const trousers = named(plane((x, y) => (y < 8 ? x >= 6 && x < 22 : (x >= 6 && x < 12) || (x >= 16 && x < 22)) ? 1 : 0));
    expect(trousers.rowRuns).to.be.closeTo((8 * 1 + 20 * 2) / 28, 1e-6);
    expect(trousers.boxFill).to.be.closeTo((8 * 16 + 20 * 12) / (16 * 28), 1e-6);
    const checked = named(plane((x, y) => ((x + y) % 2 === 0 ? 0.9 : 0.3)));
    expect(checked.foregroundStd).to.be.closeTo(0.3, 1e-6);
    expect(checked.edgeDensity).to.equal(1);
    expect(checked.foregroundMean).to.be.closeTo(0.6, 1e-6);
  });

  it('refuses a plane whose size does not match', () => {
    expect(() => imageFeatures(new Float32Array(10), 28, 28)).to.throw(RangeError, /28x28 plane holds 784 values, not 10/);
    expect(() => imageFeatures(new Float32Array(0), 0, 0)).to.throw(RangeError, /positive integer width and height/);
  });
});
