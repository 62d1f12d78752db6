import { expect } from 'chai';
import { parseIdx } from '../../../src/pipeline/datasets/fashion.js';

function idx(dims: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

describe('pipeline/datasets/fashion', () => {
  it('parses IDX dimensions and data', () => {
    const parsed = parseIdx(idx([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 'x');
    expect(parsed.dims).to.deep.equal([2, 2, 3]);
    expect([...parsed.data]).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('refuses a file that is not IDX of bytes, or is truncated', () => {
    expect(() => parseIdx(Buffer.from('hello world'), 'f')).to.throw(/f is not an IDX file/);
    expect(() => parseIdx(idx([3], [1, 2]), 'g')).to.throw(/g: header says 3 values, file holds 2/);
  });
});
