import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArtifactError } from '../../src/errors/index.js';
import { readOutcomes, writeOutcomes, type OutcomeFile } from '../../src/pipeline/outcomes.js';
import { quantile } from '../../src/pipeline/profile.js';

describe('pipeline/outcomes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'outcomes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const hash = 'a'.repeat(64);
  const file: OutcomeFile = {
    $comment: 'test',
    task: 't',
    split: 'premodel',
    zooHash: hash,
    labels: [0, 1, 2],
    models: { m: { predicted: [0, 1, 1], confidence: [0.912345, 0.5, 0.4], margin: [0.8, 0.1, 0.05] } },
  };

  it('round-trips through a file, rounded to 4 decimals', async () => {
    const f = path.join(dir, 'a', 'premodel.json');
    await writeOutcomes(f, file);
    const back = await readOutcomes(f, hash);
    expect(back.models.m!.confidence).to.deep.equal([0.9123, 0.5, 0.4]);
    expect(back.labels).to.deep.equal([0, 1, 2]);
  });

  it('refuses outcomes of another zoo, and ragged arrays', async () => {
    const f = path.join(dir, 'b.json');
    await writeOutcomes(f, { ...file, models: { m: { ...file.models.m!, margin: [0.1] } } });
    try {
      await readOutcomes(f, 'b'.repeat(64));
      expect.fail('accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(ArtifactError);
      expect((err as ArtifactError).problems).to.have.length(2);
    }
  });

  it('interpolates quantiles', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.95)).to.be.closeTo(4.8, 1e-12);
  });
});
