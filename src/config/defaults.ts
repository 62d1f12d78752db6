/**
 * Defaults of everything tunable, in one frozen object, each with its unit. Environment
 * variables and command-line options override these; nothing else hard-codes them.
 */
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
