import { expect } from 'chai';
import { onnxInfo } from '../../../src/pipeline/import/onnx-info.js';
import { linearModel } from '../../helpers/brought-zoo.js';

describe('pipeline/import/onnx-info (what an ONNX file says of itself)', () => {
  it('counts the weights of float initializers, not the int64 shapes, and names the output operator', () => {
    expect(onnxInfo(linearModel({ name: 'x', shape: ['n', 4, 5] }, 20, 3, { seed: 1 }))).to.deep.equal({ parameters: 20 * 3 + 3, outputOp: 'Gemm' });
    expect(onnxInfo(linearModel({ name: 'x', shape: ['n', 20] }, 20, 3, { seed: 1, softmax: true, reshape: false }))).to.deep.equal({ parameters: 63, outputOp: 'Softmax' });
  });

  it('refuses bytes that are not an ONNX model', () => {
    expect(() => onnxInfo(new TextEncoder().encode('hello, world'))).to.throw();
  });
});
