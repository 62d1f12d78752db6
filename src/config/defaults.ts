/**
 * Defaults of everything tunable, in one frozen object, each with its unit. Environment
 * variables and command-line options override these; nothing else hard-codes them.
 */
import os from 'node:os';

export const DEFAULTS = Object.freeze({
  /** Folder holding one sub-folder per task, each with a manifest.json and its ONNX files. */
  zooDir: 'zoo',
  /**
   * onnxruntime intra-op threads per session. 1 is fastest for this zoo at batch 1 on a
   * 2-core machine: most models are too small to amortise thread hand-offs, and the largest
   * gains little from a second thread that another request would rather use (see README).
   */
  intraOpThreads: 1,
  /** Latency profiling: untimed warm-up runs, then timed runs, per model. */
  profileWarmupRuns: 50,
  profileRuns: 500,
  /** Largest decoded image the service accepts, in pixels (width x height), before resizing. */
  maxInputPixels: 4096 * 4096,
});

/** The live latency model (src/serve/latency.ts). */
export const LATENCY_DEFAULTS = Object.freeze({
  /** ADAPTIVE_LATENCY: follow the observed load (1), or take the profiled p50 as it is and shed nothing (0). */
  adaptive: true,
  /** Weight of each model run in the moving slowdown: about the last 10 runs count. */
  smoothing: 0.1,
  /** Time constant, in ms, with which the slowdown and the margin fade while nothing refreshes them. */
  memoryMs: 250,
  /** Share of answers under a budget that may come late: the margin above the estimate is steered to it. */
  lateShare: 0.01,
  /** Margin added by one late answer, in ms. */
  marginStepMs: 0.5,
});

/** Dynamic batching (src/serve/batcher.ts): runs asked of one model in the same turn of the event loop run as one batch. */
export const BATCHING_DEFAULTS = Object.freeze({
  /** BATCHING: whether runs of one model asked for in the same turn run as one batch (1) or each at once, alone (0). */
  enabled: true,
  /** BATCH_MAX_SIZE: the most examples one batch runs (the v2 endpoint's largest request, too); a full batch runs at once. */
  maxSize: 64,
  /**
   * BATCH_WAIT_MS: how long, in ms, a batch waits for more members after its first, beyond the end
   * of the turn it was opened in. 0: it runs as that turn ends (setImmediate), waiting for nothing
   * that is not already being read. Node's timers round a wait up to whole ms.
   */
  waitMs: 0,
  /** Weight of each batch in the moving means of the wait and of the batch size, in (0, 1]. */
  smoothing: 0.1,
  /** Time constant, in ms, with which those means fade back to an idle service's (the bound, a batch of 1). */
  memoryMs: 250,
  /** The batch size at which each model's cost of a batch against a single run is measured at load. */
  profileSize: 8,
  /** Timed runs of each size, interleaved, in that measurement. */
  profileRuns: 15,
});

/** Label feedback and its online correction (src/feedback, src/quality). */
export const FEEDBACK_DEFAULTS = Object.freeze({
  /** FEEDBACK_DIR: where this replica's feedback log and the decision key live; empty: feedback off. */
  dir: 'feedback',
  /** FEEDBACK_MAX_BATCH: labels one POST may carry. */
  maxBatch: 1000,
  /** FEEDBACK_MAX_BYTES: retention: this replica's log is cut, oldest first, beyond this size: 64 MiB. */
  maxBytes: 64 * 1024 * 1024,
  /** One request in this many computes its features for the drift monitor where its route skipped them. */
  driftFeatureSample: 16,
});

/** The online correction of the accuracy promise (src/quality/realized.ts). */
export const CORRECTION_DEFAULTS = Object.freeze({
  /** FEEDBACK_CORRECTION: whether labels move the operating points (1) or are only counted (0). */
  enabled: true,
  /** FEEDBACK_STEP: the rule's step, gamma: how far one label moves its band's raise. */
  step: 0.005,
  /** FEEDBACK_MAX_RAISE: the most label feedback raises a band's target, in accuracy. */
  maxRaise: 0.1,
});

/**
 * Defaults of the HTTP service, each with its unit; `src/config/env.ts` maps an environment
 * variable onto each (named in the comment) and rejects values out of range.
 */
export const SERVICE_DEFAULTS = Object.freeze({
  /** PORT: TCP port the service listens on. */
  port: 8080,
  /** HOST: interface to bind; 0.0.0.0 is every IPv4 interface (as a container needs). */
  host: '0.0.0.0',
  /** ZOO_DIR: folder with one sub-folder per task (manifest.json + ONNX files). */
  zooDir: DEFAULTS.zooDir,
  /** PREMODEL_DIR: folder with one sub-folder per task holding its premodel.json. */
  premodelDir: 'premodel',
  /** INTRA_OP_THREADS: onnxruntime threads per session. */
  intraOpThreads: DEFAULTS.intraOpThreads,
  /**
   * WORKERS: serving processes (node:cluster), each single-threaded, sharing the port: one per
   * core, since a process runs its inferences on its one event loop (see README, Performance).
   */
  workers: os.availableParallelism(),
  /** ADAPTIVE_LATENCY: whether maxLatencyMs follows the observed load (and sheds what it cannot meet). */
  adaptiveLatency: LATENCY_DEFAULTS.adaptive,
  /** DEFAULT_MAX_LATENCY_MS: latency budget for requests that give none, in ms (Infinity: none). */
  defaultMaxLatencyMs: Number.POSITIVE_INFINITY,
  /** MAX_BODY_BYTES: largest request body (JSON or image upload), in bytes: 8 MiB. */
  maxBodyBytes: 8 * 1024 * 1024,
  /** MAX_INPUT_PIXELS: largest image accepted, in pixels (width x height), read from its header. */
  maxInputPixels: DEFAULTS.maxInputPixels,
  /** MAX_IN_FLIGHT: inference requests served at once; more are refused with 503 + Retry-After. */
  maxInFlight: 32,
  /** RETRY_AFTER_S: the Retry-After sent with a 503, in seconds. */
  retryAfterS: 1,
  /** SHUTDOWN_TIMEOUT_MS: on SIGTERM, how long in-flight requests may take to finish, in ms: 10 s. */
  shutdownTimeoutMs: 10_000,
  /** LOG_LEVEL: pino level (fatal, error, warn, info, debug, trace, silent). */
  logLevel: 'info',
  /** ADMIN_TOKEN: bearer token of POST /v1/admin/reload; empty disables the endpoint. */
  adminToken: '',
  /** BATCHING: whether runs of one model asked for in the same turn of the event loop run as one batch. */
  batching: BATCHING_DEFAULTS.enabled,
  /** BATCH_MAX_SIZE: the most examples one batch runs. */
  batchMaxSize: BATCHING_DEFAULTS.maxSize,
  /** BATCH_WAIT_MS: how long a batch waits for more beyond the turn it was opened in, in ms (0: none). */
  batchWaitMs: BATCHING_DEFAULTS.waitMs,
  /** WARM_START: whether a worker serves warm-up requests through its whole request path before it listens. */
  warmStart: true,
  /** CORS_ORIGINS: origins (comma-separated, or *) whose browser pages may call the API; empty: none. */
  corsOrigins: '',
  /** FEEDBACK_DIR: the feedback log and decision key; empty: feedback off. */
  feedbackDir: FEEDBACK_DEFAULTS.dir,
  /** FEEDBACK_KEY: the decision tokens' signing key (16 characters or more), shared by replicas; empty: FEEDBACK_DIR/key. */
  feedbackKey: '',
  /** FEEDBACK_REPLICA: this process's name in the feedback log; empty: the host name (and the worker's number). */
  feedbackReplica: '',
  /** FEEDBACK_MAX_BATCH: labels one feedback POST may carry. */
  feedbackMaxBatch: FEEDBACK_DEFAULTS.maxBatch,
  /** FEEDBACK_MAX_BYTES: retention of this replica's feedback log, in bytes. */
  feedbackMaxBytes: FEEDBACK_DEFAULTS.maxBytes,
  /** FEEDBACK_CORRECTION: whether labels move the operating points. */
  feedbackCorrection: CORRECTION_DEFAULTS.enabled,
  /** FEEDBACK_STEP: the online correction's step (gamma). */
  feedbackStep: CORRECTION_DEFAULTS.step,
  /** FEEDBACK_MAX_RAISE: the most feedback raises a target band, in accuracy. */
  feedbackMaxRaise: CORRECTION_DEFAULTS.maxRaise,
});
