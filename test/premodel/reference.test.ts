import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { ArtifactError } from '../../src/errors/index.js';
import { driftReference } from '../../src/pipeline/drift-reference.js';
import { Premodel, type PremodelFile, type ZooIdentity } from '../../src/premodel/premodel.js';
import { binOf } from '../../src/premodel/reference.js';

const FIXTURE = new URL('../fixtures/tiny/premodel/tiny-window/premodel.json', import.meta.url);

async function fixture(): Promise<{ file: PremodelFile; zoo: ZooIdentity }> {
  const file = JSON.parse(await readFile(FIXTURE, 'utf8')) as PremodelFile;
  return { file, zoo: { task: file.task, zooHash: file.zooHash, featureNames: file.featureNames, modelIds: file.models } };
}

/** A drift reference that fits `file`: its features and models, on made-up rows. */
function referenceFor(file: PremodelFile) {
  const rows = Array.from({ length: 50 }, (_, i) => file.featureNames.map((_, j) => (i * (j + 1)) % 17));
  return driftReference(rows, undefined, Object.fromEntries(file.models.map((id) => [id, rows.map((_, i) => i / 50)])));
}

describe('premodel/reference', () => {
  it('bins a value equal to an edge in the lower bin, below the first edge in bin 0, above the last in the top bin', () => {
    const edges = [1, 2, 4];
    expect([0, 1, 1.5, 2, 3, 4, 5].map((v) => binOf(edges, v))).to.deep.equal([0, 0, 1, 1, 2, 2, 3]);
    expect(binOf([], 7)).to.equal(0);
    expect(binOf(edges, Number.NaN)).to.equal(3);
  });

  it('a premodel file loads with or without a drift reference, and exposes it frozen', async () => {
    const { file, zoo } = await fixture();
    const { drift: _made, ...without } = file;
    expect(Premodel.fromJSON(without, zoo).drift).to.equal(undefined);
    const drift = referenceFor(file);
    const premodel = Premodel.fromJSON({ ...file, drift }, zoo);
    expect(premodel.drift).to.deep.equal(drift);
    expect(Object.isFrozen(premodel.drift!.features[0]!.shares)).to.equal(true);
  });

  it('refuses a drift reference that does not fit the premodel, listing every problem', async () => {
    const { file, zoo } = await fixture();
    const drift = referenceFor(file);
    const [first, second] = drift.features;
    const broken = {
      features: [{ ...first!, edges: [3, 1] }, { ...second!, shares: [1] }],
      confidence: { ...drift.confidence, elsewhere: drift.confidence[file.models[0]!]! },
    };
    let refused: unknown;
    try {
      Premodel.fromJSON({ ...file, drift: broken }, zoo);
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(ArtifactError);
    const problems = (refused as ArtifactError).problems.join('\n');
    expect(problems).to.include(`reference for 2 features, the premodel has ${file.featureNames.length}`);
    expect(problems).to.match(/feature .* not strictly ascending/);
    expect(problems).to.match(/has 1 shares for \d+ bins/);
    expect(problems).to.match(/confidence reference for "elsewhere"/);
    expect(() => Premodel.fromJSON({ ...file, drift: { ...drift, extra: 1 } }, zoo)).to.throw(ArtifactError, /unknown field "extra"/);
  });
});
