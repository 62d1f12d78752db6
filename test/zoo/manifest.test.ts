import { expect } from 'chai';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from '../../src/errors/index.js';
import { loadManifest, manifestProblems, type ManifestFile } from '../../src/zoo/manifest.js';
import { loadZoo } from '../../src/zoo/repository.js';
import { copyZoo, type ZooCopy } from '../helpers/zoo-copy.js';

async function loadError(dir: string): Promise<ArtifactError> {
  try {
    await loadManifest(dir);
  } catch (err) {
    expect(err).to.be.instanceOf(ArtifactError);
    return err as ArtifactError;
  }
  throw new Error('the manifest was accepted');
}

describe('zoo/manifest', () => {
  let zoo: ZooCopy;
  beforeEach(async () => {
    zoo = await copyZoo('fashion');
  });
  afterEach(() => zoo.remove());

  it('accepts the committed fashion manifest and freezes it', async () => {
    const loaded = await loadManifest(zoo.dir);
    expect(loaded.manifest.models.length).to.be.at.least(7);
    expect(Object.isFrozen(loaded.manifest.models[0]!.input.preprocessing)).to.equal(true);
    expect(loaded.zooHash).to.match(/^[0-9a-f]{64}$/);
  });

  it('refuses a missing model file, naming the model', async () => {
    const model = zoo.manifest.models[1]!;
    await rm(path.join(zoo.dir, model.file));
    const err = await loadError(zoo.dir);
    expect(err.problems).to.deep.equal([`model "${model.id}" (${model.file}): file is missing`]);
  });

  it('refuses a changed model file (size differs)', async () => {
    const model = zoo.manifest.models[0]!;
    await appendFile(path.join(zoo.dir, model.file), 'x');
    const err = await loadError(zoo.dir);
    expect(err.problems[0]).to.contain(`model "${model.id}"`).and.to.contain('bytes');
  });

  it('refuses a wrong sha256', async () => {
    const model = zoo.manifest.models[2]!;
    model.sha256 = '0'.repeat(64);
    await zoo.save();
    const err = await loadError(zoo.dir);
    expect(err.problems).to.have.length(1);
    expect(err.problems[0]).to.contain(`model "${model.id}"`).and.to.contain('sha256');
  });

  it('lists every problem at once', async () => {
    zoo.manifest.models[0]!.sha256 = 'f'.repeat(64);
    zoo.manifest.models[1]!.sha256 = 'e'.repeat(64);
    await zoo.save();
    expect((await loadError(zoo.dir)).problems).to.have.length(2);
  });

  it('refuses a shape that does not match the preprocessing', () => {
    const manifest = structuredClone(zoo.manifest);
    manifest.models[0]!.input.shape = [3, 28, 28];
    expect(manifestProblems(manifest)).to.deep.equal([
      `model "${manifest.models[0]!.id}": input shape [3, 28, 28] does not match its preprocessing (expected [1, 28, 28])`,
    ]);
  });

  it('refuses a shape that does not match the ONNX file, at session creation', async () => {
    const model = zoo.manifest.models[0]!;
    const prep = model.input.preprocessing;
    if (prep.type !== 'image') throw new Error('fashion models take images');
    prep.width = 32;
    prep.height = 32;
    model.input.shape = [1, 32, 32];
    await zoo.save();
    try {
      await loadZoo(zoo.dir, { intraOpThreads: 1 });
      expect.fail('the zoo loaded');
    } catch (err) {
      expect(err).to.be.instanceOf(ArtifactError);
      expect((err as ArtifactError).problems).to.deep.equal([
        `model "${model.id}": input shape [1, 32, 32] does not match the ONNX file's [batch, 1, 28, 28]`,
      ]);
    }
  });

  const typeCases: [string, (m: ManifestFile) => void, RegExp][] = [
    ['an unknown field', (m) => Object.assign(m.models[0]!, { colour: 'red' }), /unknown field "colour"/],
    ['a string where a number belongs', (m) => Object.assign(m.models[0]!, { bytes: '12' }), /\/models\/0\/bytes must be integer/],
    ['an unknown compression method', (m) => Object.assign(m.models[0]!.compression, { method: 'magic' }), /method must be one of/],
    ['a file name that is a path', (m) => Object.assign(m.models[0]!, { file: '../etc/passwd.onnx' }), /\/models\/0\/file must match/],
    ['a malformed sha256', (m) => Object.assign(m.models[0]!, { sha256: 'abc' }), /sha256 must match/],
    ['a parent that is not in the zoo', (m) => Object.assign(m.models[1]!.compression, { parent: 'nope' }), /parent "nope" is not a model of this zoo/],
    ['a duplicate id', (m) => Object.assign(m.models[1]!, { id: m.models[0]!.id }), /is listed twice/],
    ['labels that differ from the classes', (m) => m.models[0]!.output.labels.reverse(), /output labels differ/],
    ['a missing field', (m) => delete (m.models[0] as Partial<ManifestFile['models'][0]>).sha256, /must have required property 'sha256'/],
  ];
  for (const [what, change, message] of typeCases) {
    it(`refuses ${what}`, async () => {
      change(zoo.manifest);
      await zoo.save();
      const err = await loadError(zoo.dir);
      expect(err.problems.join('\n')).to.match(message);
      expect(err.message).to.contain(path.join(zoo.dir, 'manifest.json'));
    });
  }

  it('refuses a file that is not JSON', async () => {
    await writeFile(path.join(zoo.dir, 'manifest.json'), '{ "task": ');
    expect((await loadError(zoo.dir)).problems[0]).to.match(/cannot be read as JSON/);
  });
});
