import { expect } from 'chai';
import { taskInputs } from '../../src/inputs/registry.js';
import { ImageInput } from '../../src/inputs/image/decode.js';
import type { WindowPreprocessing } from '../../src/inputs/window/preprocessing.js';
import { clientRows, planRows, rowsOfOutcomes } from '../../src/pipeline/client-rows.js';
import type { LabelledInputs } from '../../src/pipeline/datasets/index.js';
import { premodelRows, testClientRows } from '../../src/pipeline/profile.js';

const prep = { type: 'image', width: 8, height: 8, channels: 1, fit: 'contain', background: 0, mean: [0], std: [1] } as const;
const inputs = taskInputs({ kind: 'image', models: [{ input: { preprocessing: prep } }] });
const split: LabelledInputs = {
  labels: [0, 1, 2, 0],
  input: (i) => ImageInput.fromRaw({ pixels: Uint8Array.from({ length: 64 }, (_, p) => (p % 8 < 4 + i ? 200 : 0)), width: 8, height: 8, channels: 1 }),
};

describe('pipeline/client-rows', () => {
  it('plans each input in as many distinct encodings as asked, giving every encoding its share', () => {
    const encodings = ['a', 'b', 'c', 'd'];
    const plan = planRows(100, encodings, 2, 7);
    expect(plan.source).to.have.length(200);
    for (let i = 0; i < 100; i++) {
      const mine = plan.encoding.filter((_, r) => plan.source[r] === i);
      expect(new Set(mine).size, `input ${i}`).to.equal(2);
    }
    for (const e of encodings) expect(plan.encoding.filter((x) => x === e).length).to.be.within(48, 52);
    expect(planRows(100, encodings, 2, 7)).to.deep.equal(plan); // seeded
  });

  it("the premodel rows hold every input in its kind's native form and in others; a kind without encodings has none", () => {
    const plan = premodelRows(inputs, 3)!;
    expect(plan.source.filter((s) => s === 0)).to.have.length(4);
    expect(plan.encoding.filter((e) => e === inputs.clientEncodings[0]).length).to.equal(3);
    expect(testClientRows(inputs, 3)!.source).to.have.length(9);
    const window: WindowPreprocessing = { type: 'window', length: 4, channels: 3, channelNames: ['x', 'y', 'z'], sampleRateHz: 10 };
    const windows = taskInputs({ kind: 'window', models: [{ input: { preprocessing: window } }] });
    expect(premodelRows(windows, 3)).to.equal(undefined);
  });

  it('rebuilds the rows an outcome file names: each source encoded, then decoded as a request is', async () => {
    const rows = clientRows(split, inputs, { source: [2, 2], encoding: ['png', 'jpeg-50-8x'] });
    expect(rows.labels).to.deep.equal([2, 2]);
    expect(rows.sources).to.deep.equal([2, 2]);
    const [native, jpeg] = [await rows.input(0), await rows.input(1)];
    expect(inputs.groupOf(native)).to.equal('lossless@native');
    expect(inputs.groupOf(jpeg)).to.equal('jpeg-low@larger');
    expect(Array.from(await inputs.modelTensor(native, prep))).to.deep.equal(Array.from(await inputs.modelTensor(await split.input(2), prep)));
    const again = rowsOfOutcomes(split, inputs, { encodings: ['png', 'jpeg-50-8x'], source: [2, 2], encoding: [0, 1] });
    expect(inputs.groupOf(await again.input(1))).to.equal('jpeg-low@larger');
    expect(rowsOfOutcomes(split, inputs, undefined)).to.equal(split);
  });
});
