import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { Metrics } from '../../src/metrics/index.js';
import { observeOnePrediction, parseExposition, seriesNames } from './scrape.js';

const DASHBOARD = 'deploy/grafana/adaptive-zoo.json';

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

const PROMETHEUS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
/** PromQL's words that are neither functions nor metrics. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: what is left once the label matchers, ranges,
 * label lists (by, on, group_left...), numbers and functions (a name before a parenthesis) are taken out.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w.])\d+(\.\d+)?(e[+-]?\d+)?(?![\w.])/gi, ' ');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)].map((m) => m[0]).filter((w) => !KEYWORDS.has(w.toLowerCase()));
}

/** Every expression of the dashboard: its panels' targets, and the metric its variables' label_values reads. */
function expressionsOf(dashboard: any): string[] {
  const panels: Panel[] = dashboard.panels.flatMap((p: Panel) => [p, ...(p.panels ?? [])]);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list
    .filter((v: any) => v.type === 'query')
    .map((v: any) => /^label_values\((.+),\s*\w+\)$/.exec(v.definition)![1]!);
  return [...targets, ...variables];
}

describe('metrics: the Grafana dashboard', () => {
  let dashboard: any;
  before(async () => {
    dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  });

  it('reads only series the registry exposes', async () => {
    const metrics = new Metrics();
    observeOnePrediction(metrics);
    // Declared families count with no sample: the quality gauges have none until labels come.
    const exposed = seriesNames(parseExposition(await metrics.registry.metrics()));
    const mentioned = new Set(expressionsOf(dashboard).flatMap(metricNamesIn));
    expect(mentioned.size).to.be.greaterThan(0);
    expect([...mentioned].filter((name) => !exposed.has(name))).to.deep.equal([]);
  });

  it('shows routing, savings, shedding, misses, stage and model latency, accuracy and drift', () => {
    const names = new Set(expressionsOf(dashboard).flatMap(metricNamesIn));
    for (const name of [
      'adaptive_zoo_selections_total',
      'adaptive_zoo_model_inference_seconds_sum',
      'adaptive_zoo_requests_rejected_total',
      'adaptive_zoo_constraint_misses_total',
      'adaptive_zoo_stage_duration_seconds_bucket',
      'adaptive_zoo_model_inference_seconds_bucket',
      'adaptive_zoo_realized_accuracy',
      'adaptive_zoo_drift_psi',
    ]) {
      expect(names, name).to.include(name);
    }
  });

  it('is one Grafana dashboard over the ${DS_PROMETHEUS} data source, each panel described', () => {
    expect(dashboard.schemaVersion).to.be.within(36, 41);
    expect(dashboard.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS')).to.include({ type: 'datasource', query: 'prometheus' });
    const panels: Panel[] = dashboard.panels;
    expect(new Set(panels.map((p) => p.id)).size).to.equal(panels.length);
    for (const p of panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).to.deep.equal(PROMETHEUS);
      expect(p.description, p.title).to.be.a('string').that.is.not.empty;
      for (const t of p.targets!) expect(t.datasource, p.title).to.deep.equal(PROMETHEUS);
    }
  });

  it('finds the metric names in PromQL', () => {
    expect(
      metricNamesIn('1 - histogram_quantile(0.99, sum by (le, task) (rate(a_bucket{task=~"$task"}[$__rate_interval]))) / on () group_left () sum(b_total) > 1e-3'),
    ).to.deep.equal(['a_bucket', 'b_total']);
  });
});
