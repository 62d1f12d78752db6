import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { floats, int64s, onnxModel } from './onnx.js';

describe('helpers/onnx (the tests\' ONNX writer)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'onnx-writer-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a graph that onnxruntime loads and runs as plain arithmetic says, at any batch size', async () => {
    const file = path.join(dir, 'linear.onnx');
    await writeFile(
      file,
      onnxModel({
        input: { name: 'x', shape: ['batch', 2, 3] },
        output: { name: 'y', shape: ['batch', 2] },
        nodes: [
          { op: 'Reshape', inputs: ['x', 'flat_shape'], outputs: ['flat'] },
          { op: 'Gemm', inputs: ['flat', 'w', 'b'], outputs: ['g'], attributes: { transB: 1, alpha: { float: 2 } } },
          { op: 'Relu', inputs: ['g'], outputs: ['y'] },
        ],
        initializers: [int64s('flat_shape', [-1, 6]), floats('w', [2, 6], [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), floats('b', [2], [0.5, -1])],
      }),
    );
    const session = await InferenceSession.create(file);
    expect(session.inputNames).to.deep.equal(['x']);
    expect(session.outputNames).to.deep.equal(['y']);
    for (const batch of [1, 3]) {
      const x = Float32Array.from({ length: batch * 6 }, (_, i) => (i % 6) - 2);
      const y = (await session.run({ x: new Tensor('float32', x, [batch, 2, 3]) })).y!;
      expect(y.dims).to.deep.equal([batch, 2]);
      // Row [-2, -1, 0, 1, 2, 3]: relu(2 * -2 + 0.5) = 0, relu(2 * 5 - 1) = 9.
      for (let r = 0; r < batch; r++) expect(Array.from((y.data as Float32Array).subarray(2 * r, 2 * r + 2))).to.deep.equal([0, 9]);
    }
    await session.release();
  });

  it('refuses an initializer whose values do not fill its dimensions', () => {
    expect(() => floats('w', [2, 3], [1, 2])).to.throw(RangeError, 'w: 2 values for dims [2, 3]');
  });
});
