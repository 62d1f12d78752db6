import { expect } from 'chai';
import { zooTable } from '../../src/pipeline/zoo-table.js';
import { loadManifest } from '../../src/zoo/manifest.js';

describe('pipeline/zoo-table', () => {
  it('one row per model, with the figures the profiler wrote', async () => {
    const { manifest } = await loadManifest('test/fixtures/tiny/zoo/tiny-image');
    const lines = zooTable(manifest).split('\n');
    expect(lines).to.have.length(2 + manifest.models.length);
    const first = manifest.models[0]!;
    expect(lines[2]).to.contain(`| ${first.id} | ${first.compression.method} |`);
    expect(lines[2]).to.contain(`${(first.accuracy!.test! * 100).toFixed(2)}%`);
  });

  it('leaves out a column no model has a figure for: client encodings on a window task', async () => {
    const { manifest } = await loadManifest('test/fixtures/tiny/zoo/tiny-window');
    const [header] = zooTable(manifest).split('\n');
    expect(header).to.not.contain('client-encoded');
    expect(header).to.contain('premodel-split acc');
  });
});
