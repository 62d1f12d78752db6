import { expect } from 'chai';
import { BadRequestError, InvalidInputError, UnsupportedMediaTypeError } from '../../../src/errors/index.js';
import { BottleneckInput } from '../../../src/inputs/bottleneck/decode.js';
import type { BottleneckPreprocessing } from '../../../src/inputs/bottleneck/preprocessing.js';
import { inputKind, preprocessingProblems, taskInputs } from '../../../src/inputs/registry.js';

const limits = { maxPixels: 1 };
const prep: BottleneckPreprocessing = { type: 'bottleneck', shape: [2, 3], scale: 0.5, zeroPoint: 128 };
const inputs = taskInputs({ kind: 'bottleneck', models: [{ input: { preprocessing: prep } }] });
const codes = Uint8Array.from([128, 129, 127, 0, 255, 130]);

describe('inputs/bottleneck', () => {
  it('is a kind that comes out of a head, of uint8 codes, one feature per code', () => {
    expect(inputKind('bottleneck').fromHead).to.equal(true);
    expect(inputKind('window').fromHead).to.equal(false);
    expect(inputs.tensorElement).to.equal('uint8');
    expect(inputs.featureNames).to.deep.equal(['bottleneck0', 'bottleneck1', 'bottleneck2', 'bottleneck3', 'bottleneck4', 'bottleneck5']);
    expect(inputs.description).to.deep.equal({ kind: 'bottleneck', shape: [2, 3], dtype: 'uint8', scale: 0.5, zeroPoint: 128, bytes: 6 });
    expect(preprocessingProblems(prep, [2, 3])).to.deep.equal([]);
    expect(preprocessingProblems(prep, [6])).to.deep.equal(['input shape [6] does not match its preprocessing (expected [2, 3])']);
  });

  it("decodes base64 codes and a UINT8 tensor; dequantizes them with each tail's scale and zero point", async () => {
    const fromJson = await inputs.decode({ form: 'json', field: 'bottleneck', value: Buffer.from(codes).toString('base64') }, limits);
    expect(fromJson).to.be.instanceOf(BottleneckInput);
    expect(Array.from((fromJson as BottleneckInput).codes)).to.deep.equal(Array.from(codes));
    const fromTensor = await inputs.decode({ form: 'tensor', data: codes, prep }, limits);
    expect(Array.from(await inputs.features(fromTensor))).to.deep.equal([0, 0.5, -0.5, -64, 63.5, 1]);
    const other: BottleneckPreprocessing = { ...prep, scale: 0.25, zeroPoint: 0 };
    expect(Array.from(await inputs.modelTensor(fromJson, other))).to.deep.equal([32, 32.25, 31.75, 0, 63.75, 32.5]);
  });

  it('refuses the wrong number of bytes, bad base64, float32 tensors, uploads', async () => {
    const json = (value: unknown) => inputs.decode({ form: 'json', field: 'bottleneck', value }, limits);
    await expectRejection(json(Buffer.alloc(24).toString('base64')), InvalidInputError, "the bottleneck has 24 bytes; this head's bottleneck [2, 3] of uint8 takes 6 (float32 values? send the head's uint8 codes)");
    await expectRejection(json(Buffer.alloc(7).toString('base64')), InvalidInputError, 'the bottleneck has 7 bytes');
    await expectRejection(json('***'), BadRequestError, 'input.bottleneck is not valid base64');
    await expectRejection(json([1, 2]), BadRequestError, 'must be a base64 string');
    await expectRejection(inputs.decode({ form: 'tensor', data: new Float32Array(6), prep }, limits), BadRequestError, 'uint8 codes (UINT8)');
    await expectRejection(inputs.decode({ form: 'upload', bytes: codes, mediaType: 'application/octet-stream' }, limits), UnsupportedMediaTypeError, 'sent as JSON');
  });

  it('warms up on codes that are not all at the zero point, as a head sends them', async () => {
    const wires = await inputs.warmUpInputs();
    expect(wires).to.have.length(1);
    const input = await inputs.decode(wires[0]!, limits);
    expect(Array.from(await inputs.features(input)).some((v) => v !== 0)).to.equal(true);
    expect(await inputs.asWire(input)).to.deep.equal(wires[0]);
  });
});

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(type);
  expect((err as Error).message).to.contain(message);
}
