import { expect } from 'chai';
import { driftReference } from '../../src/pipeline/drift-reference.js';
import { seededRandom } from '../../src/premodel/forest.js';
import type { DriftReference } from '../../src/premodel/reference.js';
import { DRIFT_PSI_STABLE, DRIFT_PSI_WARN, DriftMonitor, MAX_DRIFT_GROUPS } from '../../src/quality/drift.js';

const FEATURES = ['brightness', 'edges', 'legs'];

/** Requests drawn like the premodel split: two continuous features, a discrete one, the first model's confidence. */
function sampler(seed: number, { shift = 0, confidenceShift = 0 } = {}) {
  const random = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return () => ({
    // `shift`: in standard deviations of the first feature.
    features: [normal() + shift, 5 + 2 * normal(), Math.floor(random() * 3)],
    confidence: Math.min(1, Math.max(0, random() ** 0.3 - confidenceShift)),
  });
}

/** The reference of 5,000 rows; groups "a" and "b" alternate unless `groupOf` says otherwise. */
function reference(groupOf?: (row: number[]) => string): DriftReference {
  const draw = sampler(1);
  const rows = Array.from({ length: 5000 }, draw);
  const features = rows.map((r) => r.features);
  const groups = features.map((f, i) => groupOf?.(f) ?? (i % 2 === 0 ? 'a' : 'b'));
  return driftReference(features, groups, { small: rows.map((r) => r.confidence) });
}

function observeMany(monitor: DriftMonitor, group: string | undefined, count: number, draw: ReturnType<typeof sampler>, model = 'small'): void {
  for (let i = 0; i < count; i++) {
    const { features, confidence } = draw();
    monitor.observe(group, features, model, confidence);
  }
}

describe('quality/drift', () => {
  it('reports nothing under minRows, and a PSI below the stable level for requests drawn like the split', () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 1000, minRows: 200 });
    const draw = sampler(2);
    observeMany(monitor, 'a', 199, draw);
    const early = monitor.snapshot().groups.a!;
    expect(early).to.include({ featureRows: 199, confidenceRows: 199, reference: 'group', drifted: false });
    expect(early).not.to.have.property('featurePsi');
    expect(early).not.to.have.property('confidencePsi');
    observeMany(monitor, 'a', 1, draw);
    const ready = monitor.snapshot().groups.a!;
    expect(ready.featurePsi!.psi).to.be.below(DRIFT_PSI_STABLE);
    expect(ready.confidencePsi).to.be.below(DRIFT_PSI_STABLE);
    expect(ready.drifted).to.equal(false);
  });

  it('flags features shifted by one standard deviation, naming the feature', () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 500, minRows: 200 });
    observeMany(monitor, 'a', 500, sampler(3, { shift: 1 }));
    const drift = monitor.snapshot().groups.a!;
    expect(drift.featurePsi!.feature).to.equal('brightness');
    expect(drift.featurePsi!.psi).to.be.above(DRIFT_PSI_WARN);
    expect(drift.confidencePsi).to.be.below(DRIFT_PSI_STABLE);
    expect(drift.drifted).to.equal(true);
  });

  it('flags a first model grown less sure of itself', () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 500, minRows: 200 });
    observeMany(monitor, 'b', 500, sampler(4, { confidenceShift: 0.2 }));
    const drift = monitor.snapshot().groups.b!;
    expect(drift.featurePsi!.psi).to.be.below(DRIFT_PSI_STABLE);
    expect(drift.confidencePsi).to.be.above(DRIFT_PSI_WARN);
    expect(drift.drifted).to.equal(true);
  });

  it('slides: once requests like the split refill the window after shifted ones, the drift clears', () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 300, minRows: 200 });
    observeMany(monitor, 'a', 300, sampler(5, { shift: 1, confidenceShift: 0.2 }));
    expect(monitor.snapshot().groups.a!.drifted).to.equal(true);
    observeMany(monitor, 'a', 150, sampler(6));
    expect(monitor.snapshot().groups.a!.drifted, 'half the window still shifted').to.equal(true);
    observeMany(monitor, 'a', 150, sampler(7));
    const drift = monitor.snapshot().groups.a!;
    expect(drift).to.include({ featureRows: 300, confidenceRows: 300, drifted: false });
    expect(drift.featurePsi!.psi).to.be.below(DRIFT_PSI_STABLE);
    expect(drift.confidencePsi).to.be.below(DRIFT_PSI_STABLE);
  });

  it('compares a group with its own shares, and a group the split never had with the overall shares', () => {
    // "low" holds the split's rows of negative brightness, "high" the rest.
    const monitor = new DriftMonitor(reference((f) => (f[0]! < 0 ? 'low' : 'high')), FEATURES, { window: 400, minRows: 200 });
    observeMany(monitor, 'other', 400, sampler(8));
    observeMany(monitor, 'high', 400, sampler(8));
    const { groups } = monitor.snapshot();
    expect(groups.other).to.include({ reference: 'overall', drifted: false });
    expect(groups.other!.featurePsi!.psi).to.be.below(DRIFT_PSI_STABLE);
    // The same requests are drift for "high", whose rows are all bright.
    expect(groups.high).to.include({ reference: 'group', drifted: true });
    expect(groups.high!.featurePsi!.feature).to.equal('brightness');
  });

  it('keeps requests without a group under "", and counts only the confidence of requests that skipped the features', () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 400, minRows: 200 });
    const draw = sampler(9);
    for (let i = 0; i < 300; i++) monitor.observe(undefined, undefined, 'small', draw().confidence);
    const drift = monitor.snapshot().groups['']!;
    expect(drift).to.include({ featureRows: 0, confidenceRows: 300, reference: 'overall', drifted: false });
    expect(drift).not.to.have.property('featurePsi');
    expect(drift.confidencePsi).to.be.below(DRIFT_PSI_STABLE);
  });

  it('pools the confidence over the first models, each against its own reference; a model without one is ignored', () => {
    const draw = sampler(10);
    const rows = Array.from({ length: 5000 }, draw);
    const features = rows.map((r) => r.features);
    // "large" is surer than "small" on the split: its confidence is "small"'s, raised.
    const twoModels = driftReference(features, undefined, { small: rows.map((r) => r.confidence), large: rows.map((r) => r.confidence ** 0.2) });
    const monitor = new DriftMonitor(twoModels, FEATURES, { window: 1000, minRows: 200 });
    const live = sampler(11);
    for (let i = 0; i < 600; i++) {
      const { features: f, confidence } = live();
      if (i % 3 === 0) monitor.observe(undefined, f, 'large', confidence ** 0.2);
      else monitor.observe(undefined, f, 'small', confidence);
      monitor.observe(undefined, undefined, 'cnn+mirror', 0.01);
    }
    const drift = monitor.snapshot().groups['']!;
    expect(drift).to.include({ featureRows: 600, confidenceRows: 600, drifted: false });
    expect(drift.confidencePsi).to.be.below(DRIFT_PSI_STABLE);
    // Each model's confidence judged on the other's bins would be drift.
    const swapped = new DriftMonitor(twoModels, FEATURES, { window: 1000, minRows: 200 });
    for (let i = 0; i < 600; i++) swapped.observe(undefined, undefined, 'large', live().confidence);
    expect(swapped.snapshot().groups['']!.confidencePsi).to.be.above(DRIFT_PSI_WARN);
  });

  it(`tracks at most ${MAX_DRIFT_GROUPS} groups and counts the requests of any further one`, () => {
    const monitor = new DriftMonitor(reference(), FEATURES, { window: 10, minRows: 5 });
    const draw = sampler(12);
    for (let g = 0; g <= MAX_DRIFT_GROUPS; g++) observeMany(monitor, `group-${g}`, 2, draw);
    const snapshot = monitor.snapshot();
    expect(Object.keys(snapshot.groups)).to.have.length(MAX_DRIFT_GROUPS);
    expect(snapshot.groups).not.to.have.property(`group-${MAX_DRIFT_GROUPS}`);
    expect(snapshot.untracked).to.equal(2);
  });

  it('refuses options out of range and features that do not match the reference, naming the limit', () => {
    const ref = reference();
    expect(() => new DriftMonitor(ref, FEATURES, { window: 0 })).to.throw(RangeError, /window .* at least 1/);
    expect(() => new DriftMonitor(ref, FEATURES, { window: 100, minRows: 101 })).to.throw(RangeError, /minRows .* from 1 to the window, 100/);
    expect(() => new DriftMonitor(ref, ['one'], {})).to.throw(RangeError, /3 features, 1 names/);
    const monitor = new DriftMonitor(ref, FEATURES);
    expect(() => monitor.observe('a', [1, 2], 'small', 0.5)).to.throw(RangeError, /expects 3 features, got 2/);
  });
});
