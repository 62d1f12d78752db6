import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../src/metrics/series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same metrics, once as prom-client's own and once as series, each in a registry of its own. */
function both() {
  const own = new Registry();
  const series = new Registry();
  const family = { name: 'demo_seconds', help: 'A histogram', labelNames: ['task', 'stage'] as const, buckets: BUCKETS };
  const counter = { name: 'demo_total', help: 'A counter', labelNames: ['task'] as const };
  return {
    own,
    series,
    histograms: [new Histogram({ ...family, registers: [own] }), new SeriesHistogram({ ...family, registers: [series] })] as const,
    counters: [new Counter({ ...counter, registers: [own] }), new SeriesCounter({ ...counter, registers: [series] })] as const,
  };
}

describe('metrics/series', () => {
  it("writes out exactly what prom-client's own counter and histogram write for the same observations", async () => {
    const { own, series, histograms, counters } = both();
    const observations: [string, string, number][] = [
      ['har', 'decode', 0.0004],
      ['har', 'decode', 0.01], // on a bound: in its bucket, as prom-client counts it
      ['har', 'total', 2.5], // above every bound: +Inf only
      ['fashion', 'decode', 0],
    ];
    for (const h of histograms) for (const [task, stage, v] of observations) h.observe({ task, stage }, v);
    for (const c of counters) {
      c.inc({ task: 'har' });
      c.inc({ task: 'har' }, 2);
      c.inc({ task: 'fashion' });
    }
    expect(await series.metrics()).to.equal(await own.metrics());
    expect(await series.metrics()).to.include('demo_seconds_bucket{le="0.01",task="har",stage="decode"} 2');
  });

  it('keeps a series by its label values, whatever object carries them; reset forgets every series', async () => {
    const { series, histograms, counters } = both();
    const [, h] = histograms;
    const [, c] = counters;
    const labels = { task: 'har', stage: 'decode' };
    h.observe(labels, 0.002);
    labels.stage = 'total';
    h.observe({ stage: 'decode', task: 'har' }, 0.003);
    c.inc({ task: 'har' });
    const text = await series.metrics();
    expect(text).to.include('demo_seconds_count{task="har",stage="decode"} 2');
    expect(text).to.not.include('stage="total"');
    h.reset();
    c.reset();
    expect(await series.metrics()).to.not.match(/demo_(seconds_count|total)\{/);
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const [, h] = both().histograms;
    expect(() => h.observe({ task: 'har', stage: 'decode' }, Number.NaN)).to.throw(TypeError, /demo_seconds: not a finite number/);
  });
});
