import { expect } from 'chai';
import { LATENCY_DEFAULTS } from '../../src/config/defaults.js';
import { LatencyModel, type LatencyModelOptions } from '../../src/serve/latency.js';

const options: LatencyModelOptions = { adaptive: true, smoothing: 0.1, deviations: 4, memoryMs: 250, lateShare: 0.01, marginStepMs: 0.5 };

/** Feeds `waits` one millisecond apart, the last at `endMs`. */
function fed(model: LatencyModel, waits: readonly number[], endMs = 1000): LatencyModel {
  waits.forEach((wait, i) => model.observeWait(wait, endMs - (waits.length - 1 - i)));
  return model;
}

describe('serve/latency', () => {
  it('starts from the profile: a fresh model expects the time spent plus the p50', () => {
    const model = new LatencyModel(options);
    expect(model.waitMs(0)).to.equal(0);
    expect(model.expectedMs(0.5, { atMs: 0, elapsedMs: 1.25 })).to.equal(1.75);
  });

  it('follows the measured wait: steady turns of 3 ms add 3 ms', () => {
    const model = fed(new LatencyModel(options), Array(200).fill(3));
    expect(model.waitMs(1000)).to.be.closeTo(3, 1e-6);
    expect(model.expectedMs(0.5, { atMs: 1000, elapsedMs: 2 })).to.be.closeTo(5.5, 1e-6);
  });

  it('plans on a high estimate: a wait that varies adds its deviations', () => {
    const steady = fed(new LatencyModel(options), Array(200).fill(5));
    const varying = fed(new LatencyModel(options), Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 9)));
    expect(varying.waitMs(1000)).to.be.above(steady.waitMs(1000) + 4 * 3);
    const cautious = fed(new LatencyModel({ ...options, deviations: 8 }), Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 1 : 9)));
    expect(cautious.waitMs(1000)).to.be.above(varying.waitMs(1000));
  });

  it('moves by `smoothing` per close sample: one slow turn does not take over', () => {
    const model = new LatencyModel({ ...options, deviations: 0 });
    for (let i = 0; i < 100; i++) model.observeWait(1, 1000);
    model.observeWait(21, 1000);
    expect(model.waitMs(1000)).to.be.closeTo(1 + 0.1 * 20, 1e-6);
  });

  it('fades while nothing measures the wait, so a burst ends with it', () => {
    const model = fed(new LatencyModel(options), Array(50).fill(20));
    const right = model.waitMs(1000);
    expect(model.waitMs(1000 + 250)).to.be.closeTo(right * Math.exp(-1), 1e-6);
    expect(model.waitMs(1000 + 5000)).to.be.below(right * 1e-8);
  });

  it('takes the first sample after a silence as it is', () => {
    const model = fed(new LatencyModel(options), Array(50).fill(20));
    model.observeWait(0.5, 60_000);
    expect(model.waitMs(60_000)).to.be.closeTo(0.5, 1e-6);
  });

  it('sheds only when the load breaks the budget that the fastest model alone would meet', () => {
    const model = fed(new LatencyModel(options), Array(200).fill(8));
    const now = { atMs: 1000, elapsedMs: 1 };
    expect(model.unreachable(5, 0.2, now), 'the wait leaves no room').to.equal(true);
    expect(model.unreachable(10, 0.2, now), 'the fastest still fits').to.equal(false);
    expect(model.unreachable(0.1, 0.2, now), 'below every model: served, constraint not met').to.equal(false);
    expect(model.unreachable(Number.POSITIVE_INFINITY, 0.2, now)).to.equal(false);
    expect(model.unreachable(5, 0.2, { atMs: 1000 + 5000, elapsedMs: 1 }), 'once the wait has faded').to.equal(false);
  });

  it('off: the profiled p50 as it is, nothing learned, nothing shed', () => {
    const model = fed(new LatencyModel({ ...options, adaptive: false }), Array(200).fill(50));
    expect(model.waitMs(1000)).to.equal(0);
    expect(model.expectedMs(0.5, { atMs: 1000, elapsedMs: 30 })).to.equal(0.5);
    expect(model.unreachable(1, 0.5, { atMs: 1000, elapsedMs: 30 })).to.equal(false);
  });

  it('refuses options out of range, naming the limit', () => {
    expect(() => new LatencyModel({ ...options, smoothing: 0 })).to.throw(RangeError, /smoothing must be in \(0, 1\]/);
    expect(() => new LatencyModel({ ...options, deviations: -1 })).to.throw(RangeError, /deviations must be >= 0/);
    expect(() => new LatencyModel({ ...options, memoryMs: 0 })).to.throw(RangeError, /memoryMs must be > 0/);
    expect(() => new LatencyModel({ ...options, lateShare: 1 })).to.throw(RangeError, /lateShare must be in \(0, 1\)/);
    expect(() => new LatencyModel(LATENCY_DEFAULTS)).to.not.throw();
  });

  it('steers its margin to the share of late answers allowed: up on a late one, down slowly on the rest', () => {
    const model = new LatencyModel(options);
    for (let i = 0; i < 4; i++) model.observeAnswer(true, 1000);
    expect(model.marginMs(1000)).to.be.closeTo(2, 1e-9);
    expect(model.expectedMs(0.5, { atMs: 1000, elapsedMs: 1 })).to.be.closeTo(3.5, 1e-9);
    // 99 answers in time undo one late one.
    for (let i = 0; i < 99; i++) model.observeAnswer(false, 1000);
    expect(model.marginMs(1000)).to.be.closeTo(1.5, 1e-9);
    // It never goes below nothing, fades in silence, and is off without adaptation.
    for (let i = 0; i < 10_000; i++) model.observeAnswer(false, 1000);
    expect(model.marginMs(1000)).to.equal(0);
    model.observeAnswer(true, 1000);
    expect(model.marginMs(1000 + 10 * options.memoryMs)).to.be.below(0.001);
    const off = new LatencyModel({ ...options, adaptive: false });
    off.observeAnswer(true, 1000);
    expect(off.marginMs(1000)).to.equal(0);
  });
});
