import { expect } from 'chai';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { Metrics } from '../../src/metrics/index.js';
import { observeServing, parseExposition, type Family } from './scrape.js';

/*
 * The rules of `promtool check metrics`: prometheus/client_golang's prometheus/testutil/promlint,
 * its DefaultValidations (validations/*.go): lintHelp, lintMetricUnits, lintCounter,
 * lintHistogramSummaryReserved, lintMetricTypeInName, lintReservedChars, lintCamelCase,
 * lintUnitAbbreviations; the tables below are those of validations/units.go. Applied here so that
 * CI needs no promtool; the messages are promlint's.
 */
const UNITS: Readonly<Record<string, string>> = {
  amperes: 'amperes', bytes: 'bytes', celsius: 'celsius', grams: 'grams', joules: 'joules', kelvin: 'kelvin',
  meters: 'meters', metres: 'metres', seconds: 'seconds', volts: 'volts',
  minutes: 'seconds', hours: 'seconds', days: 'seconds', weeks: 'seconds', kelvins: 'kelvin', fahrenheit: 'celsius',
  rankine: 'celsius', inches: 'meters', yards: 'meters', miles: 'meters', bits: 'bytes', calories: 'joules',
  pounds: 'grams', ounces: 'grams',
};
const UNIT_PREFIXES = ['pico', 'nano', 'micro', 'milli', 'centi', 'deci', 'deca', 'hecto', 'kilo', 'kibi', 'mega', 'mibi', 'giga', 'gibi', 'tera', 'tebi', 'peta', 'pebi'];
const UNIT_ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd'];
/** client_model's metric types but untyped, as lintMetricTypeInName spells them. */
const TYPE_NAMES = ['counter', 'gauge', 'summary', 'histogram', 'gauge_histogram'];
const CAMEL_CASE = /[a-z][A-Z]/;

/** The unit a name's first word that is one stands for, and its base unit (promlint's metricUnits). */
function unitOf(name: string): { unit: string; base: string } | undefined {
  for (const word of name.split('_')) {
    if (UNITS[word] !== undefined) return { unit: word, base: UNITS[word] };
    for (const prefix of UNIT_PREFIXES) {
      const rest = word.slice(prefix.length);
      if (word.startsWith(prefix) && UNITS[rest] !== undefined) return { unit: word, base: UNITS[rest] };
    }
  }
  return undefined;
}

const namesWord = (name: string, word: string) => name.includes(`_${word}_`) || name.endsWith(`_${word}`);

/** What promlint finds wrong with one family, as `name: problem`. */
function lint(f: Family): string[] {
  const problems: string[] = [];
  const { name, type } = f;
  const lower = name.toLowerCase();
  const labelNames = new Set(f.samples.flatMap((s) => Object.keys(s.labels)));
  const untyped = type === 'untyped';
  if (f.help === undefined) problems.push('no help text');
  const unit = unitOf(name);
  if (unit !== undefined && unit.unit !== unit.base) problems.push(`use base unit "${unit.base}" instead of "${unit.unit}"`);
  if (type === 'counter' && !name.endsWith('_total')) problems.push('counter metrics should have "_total" suffix');
  if (!untyped && type !== 'counter' && name.endsWith('_total')) problems.push('non-counter metrics should not have "_total" suffix');
  if (!untyped) {
    const histogram = type === 'histogram';
    const summary = type === 'summary';
    if (!histogram && name.endsWith('_bucket')) problems.push('non-histogram metrics should not have "_bucket" suffix');
    for (const suffix of ['_count', '_sum']) {
      if (!histogram && !summary && name.endsWith(suffix)) problems.push(`non-histogram and non-summary metrics should not have "${suffix}" suffix`);
    }
    if (!histogram && labelNames.has('le')) problems.push('non-histogram metrics should not have "le" label');
    if (!summary && labelNames.has('quantile')) problems.push('non-summary metrics should not have "quantile" label');
  }
  for (const typeName of TYPE_NAMES) if (namesWord(lower, typeName)) problems.push(`metric name should not include type '${typeName}'`);
  if (name.includes(':')) problems.push("metric names should not contain ':'");
  if (CAMEL_CASE.test(name)) problems.push("metric names should be written in 'snake_case' not 'camelCase'");
  if ([...labelNames].some((l) => CAMEL_CASE.test(l))) problems.push("label names should be written in 'snake_case' not 'camelCase'");
  if (UNIT_ABBREVIATIONS.some((abbreviation) => namesWord(lower, abbreviation))) problems.push('metric names should not contain abbreviated units');
  return problems.map((p) => `${name}: ${p}`);
}

const lintExposition = (text: string) => [...parseExposition(text).values()].flatMap(lint);

describe('metrics: promtool check metrics rules', () => {
  it('finds nothing wrong in what a serving registry exposes', async () => {
    const metrics = new Metrics();
    observeServing(metrics);
    const text = await metrics.registry.metrics();
    expect(lintExposition(text)).to.deep.equal([]);
    // Each family once: a second TYPE line for a name is a parse error to promtool.
    const typed = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(new Set(typed).size).to.equal(typed.length);
    expect(typed).to.include.members(['adaptive_zoo_process_cpu_seconds_total', 'adaptive_zoo_nodejs_active_handles', 'adaptive_zoo_model_inference_seconds']);
  });

  it("refuses prom-client's default gauges named like counters, as promtool does", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    expect(lintExposition(await registry.metrics())).to.include('nodejs_active_handles_total: non-counter metrics should not have "_total" suffix');
  });

  it('applies each rule', () => {
    const text = [
      '# TYPE no_help gauge',
      '# HELP latency_milliseconds h',
      '# TYPE latency_milliseconds gauge',
      '# HELP jobs h',
      '# TYPE jobs counter',
      '# HELP depth_bucket h',
      '# TYPE depth_bucket gauge',
      '# HELP queue_gauge h',
      '# TYPE queue_gauge gauge',
      '# HELP wait_ms h',
      '# TYPE wait_ms gauge',
      '# HELP runsTotal h',
      '# TYPE runsTotal gauge',
      '# HELP level h',
      '# TYPE level gauge',
      'level{someLabel="x",le="1"} 1',
    ].join('\n');
    expect(lintExposition(text)).to.deep.equal([
      'no_help: no help text',
      'latency_milliseconds: use base unit "seconds" instead of "milliseconds"',
      'jobs: counter metrics should have "_total" suffix',
      'depth_bucket: non-histogram metrics should not have "_bucket" suffix',
      "queue_gauge: metric name should not include type 'gauge'",
      'wait_ms: metric names should not contain abbreviated units',
      "runsTotal: metric names should be written in 'snake_case' not 'camelCase'",
      'level: non-histogram metrics should not have "le" label',
      "level: label names should be written in 'snake_case' not 'camelCase'",
    ]);
  });
});
