/**
 * The service's Prometheus metrics (prom-client: only src/metrics/ imports it), in a registry of
 * its own per app so that two apps in one process (tests) do not collide. Those a request records
 * are label-bound series (series.ts), the rest prom-client's own. Requests by task, model
 * and status; each request stage's duration; each model run's duration; selections per model;
 * constraint misses; load shedding; reloads; each model's expected latency now. It knows nothing of
 * what it measures: the data plane and the HTTP adapters report to it. Every name passes
 * `promtool check metrics` (test/metrics/lint.test.ts applies its rules).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series.js';

/** What a served prediction reports: every `<stage>Ms` of its timing becomes that stage's observation. */
export interface ObservedPrediction {
  task: string;
  model: string;
  selection: { constraintMet: boolean };
  timing: Readonly<Record<string, number>>;
}

/** One model run of a served prediction: the model's own time, in ms. */
export interface ObservedRun {
  model: string;
  ms: number;
  /** Examples the run took (a batch's members each report it): each observes its share, ms / batch. */
  batch: number;
}

const stageNames = new Map<string, string>();
/** The stage a timing field reports (`decodeMs`: decode), worked out once per field. */
function stageOf(key: string): string {
  let stage = stageNames.get(key);
  if (stage === undefined) stageNames.set(key, (stage = key.replace(/Ms$/, '')));
  return stage;
}

/** What label feedback and the drift monitor show of one task, read at each scrape. */
export interface ObservedQuality {
  task: string;
  bands: readonly { band: string; labelled: number; accuracy: number; lowerBound: number; upperBound: number }[];
  points: readonly { point: number; accuracy: number }[];
  corrections: readonly { band: string; group: string; raise: number }[];
  drift: readonly { group: string; featurePsi: number | null; confidencePsi: number | null }[];
}

/** A model's expected latency now, read at each scrape. */
export interface ExpectedLatency {
  task: string;
  model: string;
  ms: number;
}

/** Seconds: from 5 µs (a tiny model's run, a plain cascade's selection) to 5 s (an overloaded request); 19 buckets. */
const DURATION_BUCKETS = [
  0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export class Metrics {
  readonly registry = new Registry();

  /** Inference requests (v1 predict, v2 infer) by endpoint, task, served model and HTTP status. */
  readonly requests = new SeriesCounter({
    name: 'adaptive_zoo_requests_total',
    help: 'Inference requests by endpoint, task, served model ("" when none ran) and HTTP status',
    labelNames: ['endpoint', 'task', 'model', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new SeriesHistogram({
    name: 'adaptive_zoo_http_request_duration_seconds',
    help: 'Time from request arrival to response end, by route and HTTP status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly stageDuration = new SeriesHistogram({
    name: 'adaptive_zoo_stage_duration_seconds',
    help: 'Duration of each pipeline stage of a served request (queued: the estimated wait before the worker read it; decode, features, select, inference, total: from the read); features only where computed',
    labelNames: ['task', 'stage'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly modelInference = new SeriesHistogram({
    name: 'adaptive_zoo_model_inference_seconds',
    help: "Duration of each model run per example (the model alone, not the conversion of the input to its tensor; a batch's run divided by its size, observed once per member), by task and model; a request runs several where its route escalates or a rung averages a view with the model's plain answer",
    labelNames: ['task', 'model'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new SeriesHistogram({
    name: 'adaptive_zoo_model_batch_size',
    help: 'Examples in the model run each request took part in (1: alone; more: a dynamic batch, BATCHING), by task and model',
    labelNames: ['task', 'model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });

  readonly selections = new SeriesCounter({
    name: 'adaptive_zoo_selections_total',
    help: 'Models chosen to answer requests, by task and model',
    labelNames: ['task', 'model', 'forced'] as const,
    registers: [this.registry],
  });

  readonly constraintMisses = new SeriesCounter({
    name: 'adaptive_zoo_constraint_misses_total',
    help: 'Answers served with constraintMet false (no model could meet the constraint), by task and model',
    labelNames: ['task', 'model'] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'adaptive_zoo_requests_in_flight',
    help: 'Inference requests being served now',
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'adaptive_zoo_requests_rejected_total',
    help: 'Inference requests refused with 503 before inference, by reason (overloaded, shutting_down, deadline: no model could meet maxLatencyMs under the load)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: 'adaptive_zoo_reloads_total',
    help: 'Reloads of the zoos and premodels, by result (ok, refused)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Read at each scrape: the expected latencies of the models serving now. */
  private expected?: () => Iterable<ExpectedLatency>;

  readonly expectedLatency = new Gauge({
    name: 'adaptive_zoo_expected_latency_seconds',
    help: 'Expected time, read to answer, of a request that each model would answer now, under the current load, by task and model',
    labelNames: ['task', 'model'] as const,
    registers: [this.registry],
    collect: () => {
      for (const { task, model, ms } of this.expected?.() ?? []) this.expectedLatency.set({ task, model }, ms / 1000);
    },
  });

  readonly feedback = new Counter({
    name: 'adaptive_zoo_feedback_labels_total',
    help: 'Labels taken by POST /v1/tasks/{task}/feedback, by task and result (accepted: stored; duplicate: a repeat, not stored again)',
    labelNames: ['task', 'result'] as const,
    registers: [this.registry],
  });

  /** Read at each scrape: what label feedback shows of each task's promise. */
  private quality?: () => Iterable<ObservedQuality>;

  private readonly qualityGauge = (name: string, help: string, labelNames: readonly string[], pick: (q: ObservedQuality) => Iterable<{ labels: Record<string, string>; value: number }>) => {
    const gauge: Gauge = new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: () => {
        gauge.reset();
        for (const q of this.quality?.() ?? []) for (const { labels, value } of pick(q)) gauge.set({ task: q.task, ...labels }, value);
      },
    });
    return gauge;
  };

  readonly labelled = this.qualityGauge(
    'adaptive_zoo_labelled_requests',
    'Requests labelled by feedback since the plane loaded (stored labels counted at load), by task and target band ("none": no accuracy target)',
    ['task', 'band'],
    (q) => q.bands.map((b) => ({ labels: { band: b.band }, value: b.labelled })),
  );

  readonly realizedAccuracy = this.qualityGauge(
    'adaptive_zoo_realized_accuracy',
    'Share of labelled requests answered right, with its one-sided 95% Wilson bounds, by task, target band and bound (estimate, lower, upper)',
    ['task', 'band', 'bound'],
    (q) => q.bands.flatMap((b) => [
      { labels: { band: b.band, bound: 'estimate' }, value: b.accuracy },
      { labels: { band: b.band, bound: 'lower' }, value: b.lowerBound },
      { labels: { band: b.band, bound: 'upper' }, value: b.upperBound },
    ]),
  );

  readonly pointAccuracy = this.qualityGauge(
    'adaptive_zoo_point_realized_accuracy',
    'Share of labelled requests answered right per operating point (its index in the premodel calibration), by task and point',
    ['task', 'point'],
    (q) => q.points.map((p) => ({ labels: { point: String(p.point) }, value: p.accuracy })),
  );

  readonly targetRaise = this.qualityGauge(
    'adaptive_zoo_target_raise',
    "Online correction: how far label feedback has raised each target band's operating point, in accuracy, by task, band and input group",
    ['task', 'band', 'group'],
    (q) => q.corrections.map((c) => ({ labels: { band: c.band, group: c.group }, value: c.raise })),
  );

  readonly drift = this.qualityGauge(
    'adaptive_zoo_drift_psi',
    'Population stability index of the live inputs against the premodel split over a sliding window, by task, input group and signal (features: the largest over the cheap features; confidence: the first model\'s top-1 confidence)',
    ['task', 'group', 'signal'],
    (q) => q.drift.flatMap((d) => [
      ...(d.featurePsi === null ? [] : [{ labels: { group: d.group, signal: 'features' }, value: d.featurePsi }]),
      ...(d.confidencePsi === null ? [] : [{ labels: { group: d.group, signal: 'confidence' }, value: d.confidencePsi }]),
    ]),
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'adaptive_zoo_' });
    // prom-client reports the sums of its by-type gauges (nodejs_active_handles, _requests,
    // _resources) as gauges named `*_total`, which promtool refuses (the suffix is a counter's);
    // `sum(nodejs_active_handles)` and its kin give the same numbers.
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!(metric instanceof Counter || metric instanceof SeriesCounter) && metric.name.endsWith('_total')) this.registry.removeSingleMetric(metric.name);
    }
  }

  /** Reports, at each scrape, the expected latencies that `read` gives then. */
  watchLatency(read: () => Iterable<ExpectedLatency>): void {
    this.expected = read;
  }

  /** Reports, at each scrape, the quality that `read` gives then. */
  watchQuality(read: () => Iterable<ObservedQuality>): void {
    this.quality = read;
  }

  /** Forgets the requests served so far (an app's own warm-up requests); the process's metrics stay. */
  forgetRequests(): void {
    for (const metric of [this.requests, this.httpDuration, this.stageDuration, this.modelInference, this.batchSize, this.selections, this.constraintMisses, this.rejected, this.feedback]) {
      metric.reset();
    }
  }

  /** Records a served prediction: its stages, each model run, the model chosen, a missed constraint. */
  observePrediction(prediction: ObservedPrediction, runs: readonly ObservedRun[], forced: boolean): void {
    const { task, model, timing, selection } = prediction;
    for (const [key, ms] of Object.entries(timing)) {
      // A request routed as a plain cascade computes no features: its count tells them apart.
      if (key === 'featuresMs' && ms === 0) continue;
      this.stageDuration.observe({ task, stage: stageOf(key) }, ms / 1000);
    }
    for (const run of runs) {
      this.modelInference.observe({ task, model: run.model }, run.ms / run.batch / 1000);
      this.batchSize.observe({ task, model: run.model }, run.batch);
    }
    this.selections.inc({ task, model, forced: String(forced) });
    if (!selection.constraintMet) this.constraintMisses.inc({ task, model });
  }
}
