/**
 * A PNG writer for the tests: any colour type, bit depth, palette, tRNS chunk and Adam7 interlacing,
 * which sharp's encoder does not all write, so that the fast decoder meets every kind of PNG.
 */
import { crc32, deflateSync } from 'node:zlib';

export interface PngSpec {
  width: number;
  height: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  /** Samples (palette indices for type 3), row-major, interleaved, each within the bit depth. */
  samples: ArrayLike<number>;
  palette?: Uint8Array;
  transparency?: Uint8Array;
  interlaced?: boolean;
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** Paeth's predictor of PNG's specification. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Row `r`'s bytes filtered by PNG filter `filter` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) against the row above (zeros above the first). */
function filtered(row: Uint8Array, above: Uint8Array, filter: number, step: number): number[] {
  return Array.from(row, (v, i) => {
    const [a, b, c] = [i >= step ? row[i - step]! : 0, above[i]!, i >= step ? above[i - step]! : 0];
    const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter]!;
    return (v - predictor) & 255;
  });
}

/**
 * Rows of the pixels `(x, y)` lists, packed at `depth`, each behind a filter byte: the five filters
 * in turn, shifted by the pass, so that each also filters a first row.
 */
function scanlines(spec: PngSpec, xs: number[], ys: number[], pass: number): number[] {
  const n = CHANNELS[spec.colourType];
  const bitsPerPixel = n * spec.depth;
  const rowBytes = Math.ceil((xs.length * bitsPerPixel) / 8);
  const step = Math.max(1, bitsPerPixel >> 3);
  const out: number[] = [];
  let above = new Uint8Array(rowBytes);
  for (const [r, y] of ys.entries()) {
    const row = new Uint8Array(rowBytes);
    let bit = 0;
    for (const x of xs) {
      for (let c = 0; c < n; c++) {
        const v = spec.samples[(y * spec.width + x) * n + c]!;
        if (spec.depth === 16) row.set([v >> 8, v & 255], bit >> 3);
        else if (spec.depth === 8) row[bit >> 3] = v;
        else row[bit >> 3]! |= v << (8 - spec.depth - (bit & 7));
        bit += spec.depth;
      }
    }
    const filter = (r + pass) % 5;
    out.push(filter, ...filtered(row, above, filter, step));
    above = row;
  }
  return out;
}

export function writePng(spec: PngSpec): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(spec.width, 0);
  header.writeUInt32BE(spec.height, 4);
  header.set([spec.depth, spec.colourType, 0, 0, spec.interlaced === true ? 1 : 0], 8);
  const range = (from: number, to: number, step: number) => Array.from({ length: Math.max(0, Math.ceil((to - from) / step)) }, (_, i) => from + i * step);
  const passes = spec.interlaced === true ? ADAM7 : [[0, 0, 1, 1] as const];
  const raw = passes.flatMap(([x0, y0, dx, dy], pass) => {
    const xs = range(x0, spec.width, dx);
    const ys = range(y0, spec.height, dy);
    return xs.length === 0 || ys.length === 0 ? [] : scanlines(spec, xs, ys, pass);
  });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    ...(spec.palette !== undefined ? [chunk('PLTE', spec.palette)] : []),
    ...(spec.transparency !== undefined ? [chunk('tRNS', spec.transparency)] : []),
    chunk('IDAT', deflateSync(Uint8Array.from(raw))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
