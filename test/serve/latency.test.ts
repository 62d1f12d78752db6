import { expect } from 'chai';
import { LATENCY_DEFAULTS } from '../../src/config/defaults.js';
import { LatencyModel, type LatencyModelOptions } from '../../src/serve/latency.js';

const options: LatencyModelOptions = { adaptive: true, smoothing: 0.1, memoryMs: 250, lateShare: 0.01, marginStepMs: 0.5 };

/** Feeds runs of `[profiled, observed]` ms one millisecond apart, the last at `endMs`. */
function fed(model: LatencyModel, runs: readonly (readonly [number, number])[], endMs = 1000): LatencyModel {
  runs.forEach(([profiled, observed], i) => model.observeRun(profiled, observed, endMs - (runs.length - 1 - i)));
  return model;
}

/** `count` runs of a 0.5 ms model that each took `factor` times that. */
const slowed = (factor: number, count = 200): [number, number][] => Array.from({ length: count }, () => [0.5, 0.5 * factor]);

describe('serve/latency', () => {
  it('starts from the profile: a fresh model expects the time spent plus the p50', () => {
    const model = new LatencyModel(options);
    expect(model.slowdown(0)).to.equal(1);
    expect(model.expectedMs(0.5, { atMs: 0, elapsedMs: 1.25 })).to.equal(1.75);
  });

  it('follows the measured runs: runs at 3 times their p50 plan every model at 3 times its own', () => {
    const model = fed(new LatencyModel(options), slowed(3));
    expect(model.slowdown(1000)).to.be.closeTo(3, 1e-6);
    expect(model.expectedMs(2, { atMs: 1000, elapsedMs: 1 })).to.be.closeTo(7, 1e-6);
  });

  it('weighs each run by its length: a long model\'s slow runs count for more than a short one\'s', () => {
    // Alternating a 0.1 ms model at its p50 and a 1 ms model at twice its p50: (0.1 + 2) / (0.1 + 1).
    const runs = Array.from({ length: 400 }, (_, i): [number, number] => (i % 2 === 0 ? [0.1, 0.1] : [1, 2]));
    expect(fed(new LatencyModel(options), runs).slowdown(1000)).to.be.closeTo(2.1 / 1.1, 0.05);
  });

  it('moves by `smoothing` per close run: one slow run does not take over', () => {
    const model = fed(new LatencyModel(options), slowed(1, 100));
    model.observeRun(0.5, 0.5 * 21, 1000);
    // Moving means 0.9 * 0.5 + 0.1 * 10.5 over 0.5.
    expect(model.slowdown(1000)).to.be.closeTo(3, 1e-6);
  });

  it('fades back to the profile while nothing runs, so a burst ends with it', () => {
    const model = fed(new LatencyModel(options), slowed(21, 50));
    expect(model.slowdown(1000)).to.be.closeTo(21, 1e-6);
    expect(model.slowdown(1000 + 250)).to.be.closeTo(1 + 20 * Math.exp(-1), 1e-6);
    expect(model.slowdown(1000 + 5000)).to.be.closeTo(1, 1e-6);
  });

  it('takes the first run after a silence as it is', () => {
    const model = fed(new LatencyModel(options), slowed(20, 50));
    model.observeRun(0.5, 0.6, 60_000);
    expect(model.slowdown(60_000)).to.be.closeTo(1.2, 1e-6);
  });

  it('sheds only when the load breaks the budget that the fastest model alone would meet', () => {
    const model = fed(new LatencyModel(options), slowed(40));
    const now = { atMs: 1000, elapsedMs: 1 };
    expect(model.unreachable(5, 0.2, now), 'runs at 40x leave no room').to.equal(true);
    expect(model.unreachable(10, 0.2, now), 'the fastest still fits').to.equal(false);
    expect(model.unreachable(0.1, 0.2, now), 'below every model: served, constraint not met').to.equal(false);
    expect(model.unreachable(Number.POSITIVE_INFINITY, 0.2, now)).to.equal(false);
    expect(model.unreachable(5, 0.2, { atMs: 1000 + 5000, elapsedMs: 1 }), 'once the slowdown has faded').to.equal(false);
    expect(model.unreachable(5, 0.2, { atMs: 1000 + 5000, elapsedMs: 4.9 }), 'a request that waited too long to be read').to.equal(true);
  });

  it('off: the profiled p50 as it is, nothing learned, nothing shed', () => {
    const model = fed(new LatencyModel({ ...options, adaptive: false }), slowed(100));
    expect(model.slowdown(1000)).to.equal(1);
    expect(model.expectedMs(0.5, { atMs: 1000, elapsedMs: 30 })).to.equal(0.5);
    expect(model.unreachable(1, 0.5, { atMs: 1000, elapsedMs: 30 })).to.equal(false);
  });

  it('refuses options out of range, naming the limit', () => {
    expect(() => new LatencyModel({ ...options, smoothing: 0 })).to.throw(RangeError, /smoothing must be in \(0, 1\]/);
    expect(() => new LatencyModel({ ...options, memoryMs: 0 })).to.throw(RangeError, /memoryMs must be > 0/);
    expect(() => new LatencyModel({ ...options, lateShare: 1 })).to.throw(RangeError, /lateShare must be in \(0, 1\)/);
    expect(() => new LatencyModel({ ...options, marginStepMs: -1 })).to.throw(RangeError, /marginStepMs must be >= 0/);
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
