import { expect } from 'chai';
import { seededRandom } from '../../src/premodel/forest.js';
import { accuracyLowerBound } from '../../src/pipeline/bounds.js';
import { CALIBRATION_THRESHOLDS, calibrate, ladders, measuredMargin, rowOptions, thresholdGrid } from '../../src/pipeline/calibrate.js';
import { replay, replayCascade, type RoutingData } from '../../src/pipeline/replay.js';

/** Three models on 100 inputs: `cheap` is right on the first 70, `dear` on the first 95; stage two knows. */
function toyRouting(): RoutingData {
  const n = 100;
  const rightOn = (k: number) => Uint8Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
  const correct = { cheap: rightOn(70), mid: rightOn(80), dear: rightOn(95) };
  const flat = (p: number) => new Float64Array(n).fill(p);
  return {
    models: [{ id: 'cheap', latencyMs: 0.1 }, { id: 'mid', latencyMs: 0.3 }, { id: 'dear', latencyMs: 1 }],
    correct,
    stage1: { cheap: flat(0.9), mid: flat(0.9), dear: flat(0.9) },
    stage2: { cheap: Float64Array.from(correct.cheap), mid: Float64Array.from(correct.mid), dear: Float64Array.from(correct.dear) },
    // The models' own confidence knows nothing: 0.5 everywhere.
    confidence: { cheap: flat(0.5), mid: flat(0.5), dear: flat(0.5) },
  };
}

describe('pipeline/calibrate (and the replays it runs)', () => {
  it('ladders: every ordered choice of up to n rungs', () => {
    expect(ladders(['a', 'b', 'c'], 2)).to.deep.equal([['a'], ['a', 'b'], ['a', 'c'], ['b'], ['b', 'c'], ['c']]);
    expect(ladders(['a', 'b', 'c', 'd'], 3)).to.have.length(4 + 6 + 4);
  });

  it('replay: a ladder whose stage two knows escalates exactly the inputs the cheap model gets wrong', () => {
    const data = { ...toyRouting(), models: toyRouting().models.filter((m) => m.id !== 'mid') };
    const r = replay(data, { minAccuracy: 0.9 }, () => ({ models: ['cheap', 'dear'], thresholds: [0.5, 0.5], verifier: 'premodel' as const, start: 'premodel' as const, accuracy: 1 }));
    expect(r.accuracy).to.equal(0.95);
    expect(r.meanCostMs).to.be.closeTo(0.1 + 0.3 * 1, 1e-12);
    expect(r.right.reduce((a, b) => a + b, 0)).to.equal(95);
  });

  it('calibrate: the points no cheaper one matches, cheapest first, each with a bound below its accuracy; and the most accurate single model', () => {
    const all = calibrate(toyRouting(), ['cheap', 'mid', 'dear']);
    // dear alone is no cheaper than the full ladder for its accuracy, but it is what a target nothing vouches for gets.
    const alone = all.filter((p) => p.models.length === 1);
    expect(alone.map((p) => p.models[0])).to.deep.equal(['cheap', 'dear']);
    const points = all.filter((p) => p.models.join() !== 'dear');
    expect(points[0]).to.deep.include({ models: ['cheap'], accuracy: 0.7 });
    expect(points.at(-1)!.accuracy).to.equal(0.95);
    // Climbing all three rungs reaches dear's accuracy for 0.1 + 0.3 * 0.3 + 1 * 0.2 = 0.39 ms instead of 1 ms.
    expect(points.at(-1)).to.deep.include({ models: ['cheap', 'mid', 'dear'], meanCostMs: 0.39 });
    for (const [i, p] of points.entries()) {
      expect(p.accuracyLowerBound).to.be.below(p.accuracy);
      if (i > 0) {
        expect(p.meanCostMs).to.be.above(points[i - 1]!.meanCostMs);
        expect(p.accuracy).to.be.above(points[i - 1]!.accuracy);
      }
    }
  });

  it('thresholdGrid: one threshold per rung; a middle rung also tries laxer ones than the first', () => {
    expect(thresholdGrid(1)).to.deep.equal([[CALIBRATION_THRESHOLDS[0]]]);
    expect(thresholdGrid(2)).to.deep.equal(CALIBRATION_THRESHOLDS.map((t) => [t, t]));
    const three = thresholdGrid(3);
    expect(three).to.deep.include([0.9, 0.9, 0.9]);
    expect(three).to.deep.include([0.9, 0.5, 0.5]);
    expect(three).to.not.deep.include([0.5, 0.9, 0.9]);
    for (const [first, middle, top] of three) {
      expect(middle).to.be.at.most(first!);
      expect(top).to.equal(middle);
    }
  });

  it('calibrate: a middle rung trusted at a laxer threshold than the first buys accuracy for less', () => {
    // Stage two is 0.7 on cheap's wrong answers (so cheap needs a strict threshold) and 0.6 on mid's
    // right ones (so mid needs a lax one): no single threshold serves both.
    const data = toyRouting();
    data.stage2.cheap = Float64Array.from(data.correct.cheap!, (right) => (right ? 1 : 0.7));
    data.stage2.mid = Float64Array.from(data.correct.mid!, (right) => (right ? 0.6 : 0.3));
    const best = calibrate(data, ['cheap', 'mid', 'dear']).find((p) => p.accuracy >= 0.95)!;
    // cheap answers 70, mid 10, dear the last 20: 0.1 + 0.3 * 0.3 + 1 * 0.2 = 0.39 ms; one threshold
    // for every rung sends all 30 past cheap to dear (0.49 ms).
    expect(best).to.deep.include({ models: ['cheap', 'mid', 'dear'], accuracy: 0.95, meanCostMs: 0.39 });
    expect(best.thresholds[1]).to.be.at.most(0.6).and.below(best.thresholds[0]!);
  });

  it('calibrate: keeps, point by point, the verifier that serves it for less', () => {
    const data = toyRouting();
    const knows = data.stage2;
    // Stage two knows nothing (0.5 everywhere); the models' own confidence knows which answers are right.
    data.stage2 = { cheap: new Float64Array(100).fill(0.5), mid: new Float64Array(100).fill(0.5), dear: new Float64Array(100).fill(0.5) };
    data.confidence = knows;
    const best = calibrate(data, ['cheap', 'mid', 'dear']).filter((p) => p.models.length > 1).at(-1)!;
    expect(best).to.deep.include({ models: ['cheap', 'mid', 'dear'], verifier: 'confidence', accuracy: 0.95, meanCostMs: 0.39 });
    // With confidence alone to choose from, the same; with stage two alone, dear's accuracy costs dear's price.
    const stageTwoOnly = calibrate(data, ['cheap', 'mid', 'dear'], { routings: [{ start: 'premodel', verifier: 'premodel' }] });
    expect(stageTwoOnly.find((p) => p.accuracy >= 0.95)!.meanCostMs).to.equal(1);
  });

  it('replayCascade: the same answers as the route replayed from the cheapest rung with the confidence verifier', () => {
    const random = seededRandom(5);
    const n = 500;
    const data = toyRouting();
    for (const id of ['cheap', 'mid', 'dear']) {
      data.correct[id] = Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0));
      data.confidence[id] = Float64Array.from({ length: n }, () => random());
      data.stage1[id] = Float64Array.from({ length: n }, () => random());
    }
    for (const [models, thresholds] of [[['cheap', 'mid', 'dear'], [0.7, 0.5, 0.5]], [['cheap', 'dear'], [0.9, 0.9]], [['mid'], [0.5]]] as const) {
      const routed = replay({ ...data, models: data.models.filter((m) => models.includes(m.id as never)) }, { minAccuracy: 1 }, () => ({
        models, thresholds, verifier: 'confidence', start: 'cheapest', accuracy: 1,
      }));
      const fast = replayCascade(data, models, thresholds);
      expect(fast.right).to.deep.equal(routed.right);
      expect(fast.meanCostMs).to.be.closeTo(routed.meanCostMs, 1e-12);
    }
  });

  it('calibrate: charges the features and forests to the routings that consult them, and only to those', () => {
    const data = toyRouting();
    data.confidence = data.stage2; // both verifiers know which answers are right
    const free = calibrate(data, ['cheap', 'mid', 'dear']).find((p) => p.accuracy >= 0.95)!;
    expect(free).to.deep.include({ start: 'premodel', verifier: 'premodel' }); // listed first, and as cheap
    const charged = calibrate({ ...data, overheadMs: 0.05 }, ['cheap', 'mid', 'dear']);
    const best = charged.find((p) => p.accuracy >= 0.95)!;
    expect(best).to.deep.include({ start: 'cheapest', verifier: 'confidence', meanCostMs: free.meanCostMs });
    // A lone model decides nothing, so it is served as a cascade of one and never charged.
    const lone = charged.find((p) => p.models.length === 1)!;
    expect(lone).to.deep.include({ start: 'cheapest', verifier: 'confidence', meanCostMs: 0.1 });
    const premodelOnly = calibrate({ ...data, overheadMs: 0.05 }, ['cheap', 'mid', 'dear'], { routings: [{ start: 'premodel', verifier: 'premodel' }] });
    expect(premodelOnly.find((p) => p.accuracy >= 0.95)!.meanCostMs).to.be.closeTo(free.meanCostMs + 0.05, 1e-9);
  });

  it('calibrate: starts at the cheapest rung where stage one would start too high', () => {
    const data = toyRouting();
    // Stage one trusts only dear; the models' own confidence knows which answers are right.
    data.stage1 = { cheap: new Float64Array(100), mid: new Float64Array(100), dear: new Float64Array(100).fill(0.99) };
    data.confidence = data.stage2;
    const best = calibrate(data, ['cheap', 'mid', 'dear']).find((p) => p.accuracy >= 0.95)!;
    expect(best).to.deep.include({ models: ['cheap', 'mid', 'dear'], start: 'cheapest', verifier: 'confidence', meanCostMs: 0.39 });
  });

  it('ladders: a rung that reuses another climbs straight from it', () => {
    const all = ladders(['a', 'b', 'b+m', 'c'], 3, (m) => (m === 'b+m' ? 'b' : undefined));
    for (const ladder of all) {
      const at = ladder.indexOf('b+m');
      if (at !== -1) expect(ladder[at - 1], ladder.join(' > ')).to.equal('b');
    }
    expect(all).to.deep.include(['a', 'b', 'b+m']);
    expect(all).to.deep.include(['b', 'b+m', 'c']);
    expect(all).to.not.deep.include(['a', 'b+m']);
  });

  it('replays charge a rung that reuses the run of one below it only the rest', () => {
    const data = toyRouting();
    data.models = [{ id: 'cheap', latencyMs: 0.1 }, { id: 'cheap+m', latencyMs: 0.2, reuses: { rung: 'cheap', ms: 0.1 } }, { id: 'dear', latencyMs: 1 }];
    data.correct['cheap+m'] = data.correct.mid!;
    data.confidence['cheap+m'] = data.confidence.mid!;
    data.stage1['cheap+m'] = data.stage1.mid!;
    data.stage2['cheap+m'] = data.stage2.mid!;
    // The confidence (0.5) never reaches 0.9: every row climbs both rungs, for 0.1 + (0.2 - 0.1) ms.
    expect(replayCascade(data, ['cheap', 'cheap+m'], [0.9, 0.9]).meanCostMs).to.be.closeTo(0.2, 1e-12);
    const routed = replay(data, { minAccuracy: 1 }, () => ({ models: ['cheap', 'cheap+m'], thresholds: [0.9, 0.9], verifier: 'confidence', start: 'cheapest', accuracy: 1 }));
    expect(routed.meanCostMs).to.be.closeTo(0.2, 1e-12);
    // Alone, it runs both of its passes.
    expect(replayCascade(data, ['cheap+m'], [0.5]).meanCostMs).to.be.closeTo(0.2, 1e-12);
  });

  it('calibrate: with request groups, each point carries each group\'s figures, and its bound is the worst group\'s', () => {
    const data = toyRouting();
    // Alternate rows are the two groups: cheap is right on the first 70 rows, so on 70% of each.
    const requestGroups = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 'even' : 'odd'));
    const points = calibrate(data, ['cheap', 'mid', 'dear'], { requestGroups });
    for (const p of points) {
      expect(p.groups).to.have.keys('even', 'odd');
      expect(p.accuracyLowerBound).to.equal(Math.min(p.groups!.even!.accuracyLowerBound, p.groups!.odd!.accuracyLowerBound));
    }
    const lone = points.find((p) => p.models.length === 1 && p.models[0] === 'cheap')!;
    expect(lone.groups!.even!.accuracy).to.equal(0.7);
    expect(lone.groups!.even!.meanCostMs).to.equal(0.1);
  });

  it('calibrate: a group\'s bound covers the worst client encoding in it; its accuracy and cost stay the whole group\'s', () => {
    const data = toyRouting();
    // One group; cheap is right on the first 70 rows: all of encoding "easy" (rows 0..49), 20 of 50 of "hard".
    const requestGroups = new Array<string>(100).fill('lossless@larger');
    const encodings = Array.from({ length: 100 }, (_, i) => (i < 50 ? 'easy' : 'hard'));
    const pooled = calibrate(data, ['cheap'], { requestGroups });
    const split = calibrate(data, ['cheap'], { requestGroups, encodings });
    const group = (points: typeof pooled) => points[0]!.groups!['lossless@larger']!;
    expect(group(split).accuracy).to.equal(0.7);
    expect(group(split).accuracyLowerBound).to.be.below(group(pooled).accuracyLowerBound);
    // The bound of the hard rows alone (40% right).
    expect(group(split).accuracyLowerBound).to.be.closeTo(accuracyLowerBound(data.correct.cheap!.subarray(50)), 1e-5);
  });

  it('calibrate: a measured margin lowers every bound by as much', () => {
    const plain = calibrate(toyRouting(), ['cheap', 'mid', 'dear']);
    const margined = calibrate(toyRouting(), ['cheap', 'mid', 'dear'], { margin: 0.1 });
    const a = plain.find((p) => p.models.join() === 'cheap')!;
    const b = margined.find((p) => p.models.join() === 'cheap')!;
    expect(b.accuracyLowerBound).to.be.closeTo(a.accuracyLowerBound - 0.1, 1e-4);
  });

  it('measuredMargin: how far one half of the rows strays from the other', () => {
    // Right on 90% of the first half and 80% of the second: 0.1 apart, sd 0.1 / sqrt(2).
    const right = Uint8Array.from({ length: 200 }, (_, i) => (i < 100 ? (i % 10 !== 0 ? 1 : 0) : i % 5 !== 0 ? 1 : 0));
    expect(measuredMargin({ m: right })).to.be.closeTo(0.1 / Math.SQRT2, 1e-9);
    // Halves by key: rows of one key stay together (keys 0 and 1 in the first half, 2 and 3 in the second).
    const keys = Array.from({ length: 200 }, (_, i) => Math.floor(i / 50));
    expect(measuredMargin({ m: right }, keys)).to.be.closeTo(0.1 / Math.SQRT2, 1e-9);
    expect(measuredMargin({ m: new Uint8Array(10).fill(1) })).to.equal(0);
  });

  it('rowOptions: the people given, and each row\'s encoding group and client encoding from its outcomes', () => {
    const base = { $comment: '', task: 't', split: 'premodel' as const, zooHash: 'a'.repeat(64), labels: [0, 1], models: {} };
    expect(rowOptions(base, undefined, 0.01)).to.deep.equal({ margin: 0.01 });
    const encoded = { ...base, rows: { encodings: ['png', 'jpeg-50'], source: [0, 0], encoding: [0, 1] }, groups: { names: ['lossless@native', 'jpeg-low@native'], row: [0, 1] } };
    expect(rowOptions(encoded, [5, 5], 0)).to.deep.equal({ groups: [5, 5], requestGroups: ['lossless@native', 'jpeg-low@native'], encodings: ['png', 'jpeg-50'], margin: 0 });
  });
});
