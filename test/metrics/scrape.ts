/**
 * What the metrics tests read: the text a `Metrics` registry exposes after one served prediction,
 * parsed into metric families as Prometheus's text parser groups them.
 */
import { Metrics } from '../../src/metrics/index.js';

/** A prediction as the data plane reports it: every stage timed, two model runs (an escalation). */
export function observeOnePrediction(metrics: Metrics): void {
  metrics.observePrediction(
    {
      task: 'tiny-image',
      model: 'large',
      selection: { constraintMet: false },
      timing: { queuedMs: 0.2, decodeMs: 0.4, featuresMs: 0.05, selectMs: 0.007, inferenceMs: 1.5, totalMs: 2.1 },
    },
    [
      { model: 'small', ms: 0.3, batch: 1 },
      { model: 'large', ms: 1.1, batch: 1 },
    ],
    false,
  );
}

/**
 * Fills every series the service fills as it serves, so that each family has samples whose labels
 * can be checked: one prediction, a request of each outcome, a reload, labels, quality and drift.
 */
export function observeServing(metrics: Metrics): void {
  observeOnePrediction(metrics);
  metrics.requests.inc({ endpoint: 'v1_predict', task: 'tiny-image', model: 'large', status: '200' });
  metrics.httpDuration.observe({ method: 'POST', route: '/v1/tasks/:task/predict', status: '200' }, 0.003);
  metrics.rejected.inc({ reason: 'overloaded' });
  metrics.reloads.inc({ result: 'ok' });
  metrics.feedback.inc({ task: 'tiny-image', result: 'accepted' });
  metrics.inFlight.set(1);
  metrics.watchLatency(() => [{ task: 'tiny-image', model: 'small', ms: 0.4 }]);
  metrics.watchQuality(() => [
    {
      task: 'tiny-image',
      bands: [{ band: '0.9', labelled: 40, accuracy: 0.92, lowerBound: 0.85, upperBound: 0.96 }],
      points: [{ point: 0, accuracy: 0.92 }],
      corrections: [{ band: '0.9', group: 'png', raise: 0.01 }],
      drift: [{ group: 'png', featurePsi: 0.05, confidencePsi: 0.02 }],
    },
  ]);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

export interface Family {
  name: string;
  help?: string;
  /** As its `# TYPE` line says; untyped where it has none. */
  type: string;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
/** The series a histogram or summary family `name` exposes besides `name` itself. */
const SERIES_SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** The families of a text exposition, in order; a sample joins the family its name belongs to. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { name, type: 'untyped', samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment;
      if (kind === 'HELP') family(name!).help = rest;
      else family(name!).type = rest!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = '', value] = sample;
    const labels = Object.fromEntries([...labelText.matchAll(LABEL)].map((m) => [m[1]!, m[2]!]));
    family(familyOf(families, name!)).samples.push({ name: name!, labels, value: value! });
  }
  return families;
}

function familyOf(families: ReadonlyMap<string, Family>, sample: string): string {
  for (const [name, f] of families) {
    if (sample === name || (SERIES_SUFFIXES[f.type] ?? []).some((suffix) => sample === name + suffix)) return name;
  }
  return sample;
}

/**
 * Every series name that PromQL can select of the families, with samples or not: a counter's or
 * gauge's own name, a histogram's or summary's parts (its bare name has no series).
 */
export function seriesNames(families: ReadonlyMap<string, Family>): Set<string> {
  const names = new Set<string>();
  for (const f of families.values()) {
    const suffixes = SERIES_SUFFIXES[f.type];
    if (suffixes === undefined) names.add(f.name);
    else for (const suffix of suffixes) names.add(f.name + suffix);
  }
  return names;
}
