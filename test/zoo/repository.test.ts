import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../../src/errors/index.js';
import { ImageInput } from '../../src/inputs/image/decode.js';
import { taskInputs } from '../../src/inputs/registry.js';
import { WindowInput } from '../../src/inputs/window/decode.js';
import { outcomePath, readOutcomes } from '../../src/pipeline/outcomes.js';
import { loadZoos, type Zoo } from '../../src/zoo/repository.js';
import { syntheticWindow } from '../helpers/windows.js';

interface Sample {
  file: string;
  label: number;
  testIndex: number;
}

const FIXTURES = 'test/fixtures/fashion';

describe('zoo/repository', () => {
  let zoos: Map<string, Zoo>;
  before(async () => {
    zoos = await loadZoos('zoo', { intraOpThreads: 1 });
  });
  after(async () => {
    for (const zoo of zoos.values()) zoo.dispose();
  });

  it('loads every committed task', () => {
    expect([...zoos.keys()]).to.include('fashion');
  });

  it('fails on an unknown model with the list of valid ones', () => {
    const zoo = zoos.get('fashion')!;
    expect(() => zoo.model('resnet-9000'))
      .to.throw(NotFoundError)
      .with.property('message')
      .that.contains(zoo.models.map((m) => m.id).join(', '));
  });

  it('every fashion model classifies the committed sample images as the profiler recorded', async () => {
    const zoo = zoos.get('fashion')!;
    const { samples } = JSON.parse(await readFile(path.join(FIXTURES, 'samples.json'), 'utf8')) as { samples: Sample[] };
    const recorded = await readOutcomes(outcomePath(zoo.loaded.dir, 'test'), zoo.loaded.zooHash);
    const limits = { maxPixels: 1 << 20 };
    const inputs = taskInputs(zoo.manifest);
    for (const model of zoo.models) {
      let right = 0;
      for (const sample of samples) {
        const image = await ImageInput.fromEncoded(await readFile(path.join(FIXTURES, sample.file)), limits);
        const probabilities = model.classify(await inputs.modelTensor(image, model.entry.input.preprocessing));
        expect(probabilities).to.have.length(10);
        expect(probabilities.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-4);
        const predicted = probabilities.indexOf(Math.max(...probabilities));
        // A lossless PNG of a test image must give what the profiler saw on the raw pixels.
        expect(predicted, `${model.id} on ${sample.file}`).to.equal(recorded.models[model.id]!.predicted[sample.testIndex]);
        if (predicted === sample.label) right++;
      }
      expect(right, `${model.id} right on ${right}/10 samples`).to.be.at.least(6);
    }
  });

  it('every window model runs on synthetic windows', async () => {
    for (const zoo of zoos.values()) {
      if (zoo.manifest.kind !== 'window') continue;
      const inputs = taskInputs(zoo.manifest);
      for (const model of zoo.models) {
        const prep = model.entry.input.preprocessing;
        if (prep.type !== 'window') throw new Error('window task with image model');
        const window = syntheticWindow(prep.length, prep.channels, 'walking');
        const probabilities = model.classify(await inputs.modelTensor(new WindowInput(window), prep));
        expect(probabilities).to.have.length(zoo.manifest.classes.length);
        expect(probabilities.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-4);
      }
    }
  });

  it("every int8 model gives its float parent's class on at least 99% of the premodel split", async () => {
    // A calibration gone wrong in a recipe shows here, where accuracy alone could hide it.
    let checked = 0;
    for (const zoo of zoos.values()) {
      const recorded = await readOutcomes(outcomePath(zoo.loaded.dir, 'premodel'), zoo.loaded.zooHash);
      for (const { entry } of zoo.models) {
        if (!entry.compression.method.startsWith('int8') || entry.compression.parent === null) continue;
        const own = recorded.models[entry.id]!.predicted;
        const parent = recorded.models[entry.compression.parent]!.predicted;
        const agreeing = own.filter((label, row) => label === parent[row]).length;
        expect(agreeing / own.length, `${zoo.manifest.task} ${entry.id} against ${entry.compression.parent}`).to.be.at.least(0.99);
        checked++;
      }
    }
    expect(checked, 'int8 models checked').to.be.at.least(3);
  });

  it('runs to completion on the calling thread: no other callback runs before the answer', () => {
    const model = zoos.get('fashion')!.models[0]!;
    let otherCallbackRan = false;
    setImmediate(() => (otherCallbackRan = true));
    void Promise.resolve().then(() => (otherCallbackRan = true));
    const probabilities = model.classify(new Float32Array(784).fill(0.5));
    expect(probabilities).to.be.instanceOf(Float32Array).with.length(10);
    expect(otherCallbackRan).to.equal(false);
  });

  it('classifies a batch as it classifies each example alone', () => {
    const model = zoos.get('fashion')!.models[0]!;
    const a = new Float32Array(784).fill(0.2);
    const b = new Float32Array(784).map((_, i) => (i % 28) / 27);
    const both = new Float32Array([...a, ...b]);
    const batch = model.classify(both, 2);
    const single = [...model.classify(a), ...model.classify(b)];
    for (let i = 0; i < 20; i++) expect(batch[i]).to.be.closeTo(single[i]!, 1e-5);
  });
});
