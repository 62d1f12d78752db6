/**
 * The service's configuration from environment variables: each variable is parsed once, checked
 * against its range, and the result frozen. Every bad variable is reported at once, each message
 * naming the variable and the limit it broke, so that the service refuses to start with a clear
 * reason instead of running with a surprise.
 */
import { SERVICE_DEFAULTS } from './defaults.js';

export interface ServiceConfig {
  port: number;
  host: string;
  zooDir: string;
  premodelDir: string;
  intraOpThreads: number;
  workers: number;
  adaptiveLatency: boolean;
  batching: boolean;
  batchMaxSize: number;
  /** In ms. */
  batchWaitMs: number;
  /** In ms; Infinity: requests without maxLatencyMs get no budget. */
  defaultMaxLatencyMs: number;
  maxBodyBytes: number;
  maxInputPixels: number;
  maxInFlight: number;
  retryAfterS: number;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  /** Empty: the admin endpoint is off. */
  adminToken: string;
  /** Comma-separated origins, or *; empty: CORS is off. */
  corsOrigins: string;
  warmStart: boolean;
  /** Empty: feedback is off. */
  feedbackDir: string;
  feedbackKey: string;
  feedbackReplica: string;
  feedbackMaxBatch: number;
  feedbackMaxBytes: number;
  feedbackCorrection: boolean;
  feedbackStep: number;
  feedbackMaxRaise: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`the configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

interface Variable {
  env: string;
  key: keyof ServiceConfig;
  help: string;
}
type Spec =
  | (Variable & { type: 'int'; min: number; max: number })
  | (Variable & { type: 'number'; min: number; max: number; exclusiveMin?: boolean; infinity?: boolean })
  | (Variable & { type: 'string'; nonEmpty: boolean })
  | (Variable & { type: 'boolean' })
  | (Variable & { type: 'enum'; values: readonly string[] });

/** Each variable, the field it sets, and its range. */
export const ENV_VARIABLES: readonly Spec[] = Object.freeze([
  { env: 'PORT', key: 'port', help: 'TCP port the service listens on', type: 'int', min: 0, max: 65535 },
  { env: 'HOST', key: 'host', help: 'interface to bind (0.0.0.0: every IPv4 interface)', type: 'string', nonEmpty: true },
  { env: 'ZOO_DIR', key: 'zooDir', help: 'folder with one sub-folder per task (manifest.json + ONNX files)', type: 'string', nonEmpty: true },
  { env: 'PREMODEL_DIR', key: 'premodelDir', help: 'folder with one sub-folder per task holding its premodel.json', type: 'string', nonEmpty: true },
  { env: 'INTRA_OP_THREADS', key: 'intraOpThreads', help: 'onnxruntime threads per session', type: 'int', min: 1, max: 256 },
  { env: 'WORKERS', key: 'workers', help: 'serving processes sharing the port (default: one per core)', type: 'int', min: 1, max: 256 },
  { env: 'ADAPTIVE_LATENCY', key: 'adaptiveLatency', help: '1: maxLatencyMs follows the observed load and sheds what it cannot meet; 0: profiled p50 only', type: 'boolean' },
  { env: 'BATCHING', key: 'batching', help: "1: runs of one model asked for in the same turn of the event loop run as one batch, where the request's budget affords the wait; 0: every run at once, alone", type: 'boolean' },
  { env: 'BATCH_MAX_SIZE', key: 'batchMaxSize', help: 'the most examples one batch runs; a full batch runs at once', type: 'int', min: 1, max: 1024 },
  { env: 'BATCH_WAIT_MS', key: 'batchWaitMs', help: 'how long a batch waits for more members beyond the turn it was opened in, in ms (0: it runs as that turn ends)', type: 'number', min: 0, max: 1000 },
  { env: 'DEFAULT_MAX_LATENCY_MS', key: 'defaultMaxLatencyMs', help: 'latency budget of requests that give none, in ms (Infinity: none)', type: 'number', min: 0, max: Number.MAX_VALUE, exclusiveMin: true, infinity: true },
  { env: 'MAX_BODY_BYTES', key: 'maxBodyBytes', help: 'largest request body, in bytes', type: 'int', min: 1024, max: 1024 * 1024 * 1024 },
  { env: 'MAX_INPUT_PIXELS', key: 'maxInputPixels', help: 'largest image accepted, width x height, read from its header', type: 'int', min: 1, max: 268_402_689 },
  { env: 'MAX_IN_FLIGHT', key: 'maxInFlight', help: 'inference requests served at once; more get 503 with Retry-After', type: 'int', min: 1, max: 100_000 },
  { env: 'RETRY_AFTER_S', key: 'retryAfterS', help: 'Retry-After of a 503, in seconds', type: 'int', min: 0, max: 3600 },
  { env: 'SHUTDOWN_TIMEOUT_MS', key: 'shutdownTimeoutMs', help: 'on SIGTERM, how long requests in flight may take to finish, in ms', type: 'int', min: 0, max: 600_000 },
  { env: 'LOG_LEVEL', key: 'logLevel', help: 'pino log level', type: 'enum', values: LOG_LEVELS },
  { env: 'ADMIN_TOKEN', key: 'adminToken', help: 'bearer token of POST /v1/admin/reload; empty: the route is off', type: 'string', nonEmpty: false },
  { env: 'WARM_START', key: 'warmStart', help: '1: before listening, a worker serves warm-up requests through its whole request path, so that its first client request is not slower; 0: it listens at once', type: 'boolean' },
  { env: 'CORS_ORIGINS', key: 'corsOrigins', help: 'origins whose browser pages may call the API (https://a.example,https://b.example, or *); empty: none', type: 'string', nonEmpty: false },
  { env: 'FEEDBACK_DIR', key: 'feedbackDir', help: "folder of this replica's feedback log and of the decision key; empty: feedback off", type: 'string', nonEmpty: false },
  { env: 'FEEDBACK_KEY', key: 'feedbackKey', help: 'key signing the requestIds (16 characters or more), the same on every replica; empty: FEEDBACK_DIR/key, made once', type: 'string', nonEmpty: false },
  { env: 'FEEDBACK_REPLICA', key: 'feedbackReplica', help: "this process's name in the feedback log ([A-Za-z0-9._-]); empty: the host name and worker number", type: 'string', nonEmpty: false },
  { env: 'FEEDBACK_MAX_BATCH', key: 'feedbackMaxBatch', help: 'labels one POST /v1/tasks/{task}/feedback may carry', type: 'int', min: 1, max: 100_000 },
  { env: 'FEEDBACK_MAX_BYTES', key: 'feedbackMaxBytes', help: "retention: this replica's feedback log is cut, oldest first, beyond this size, in bytes", type: 'int', min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER },
  { env: 'FEEDBACK_CORRECTION', key: 'feedbackCorrection', help: '1: labels showing a target band missed move it to a stronger operating point; 0: labels are only counted', type: 'boolean' },
  { env: 'FEEDBACK_STEP', key: 'feedbackStep', help: "the online correction's step (gamma of adaptive conformal inference)", type: 'number', min: 0, max: 0.5, exclusiveMin: true },
  { env: 'FEEDBACK_MAX_RAISE', key: 'feedbackMaxRaise', help: 'the most label feedback raises a target band, in accuracy (0..1)', type: 'number', min: 0, max: 1 },
] satisfies Spec[]);

function parse(spec: Spec, raw: string): { value: unknown } | { problem: string } {
  const text = raw.trim();
  switch (spec.type) {
    case 'int': {
      const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(value) && value >= spec.min && value <= spec.max
        ? { value }
        : { problem: `${spec.env} must be an integer from ${spec.min} to ${spec.max}, not "${raw}"` };
    }
    case 'number': {
      if (spec.infinity === true && /^(inf|infinity|none)$/i.test(text)) return { value: Number.POSITIVE_INFINITY };
      const value = text === '' ? Number.NaN : Number(text);
      const aboveMin = spec.exclusiveMin === true ? value > spec.min : value >= spec.min;
      return Number.isFinite(value) && aboveMin && value <= spec.max
        ? { value }
        : {
            problem:
              `${spec.env} must be a number ${spec.exclusiveMin === true ? '>' : '>='} ${spec.min}` +
              `${spec.infinity === true ? ' (or "Infinity" for none)' : ''}, not "${raw}"`,
          };
    }
    case 'boolean':
      if (/^(1|true|on|yes)$/i.test(text)) return { value: true };
      if (/^(0|false|off|no)$/i.test(text)) return { value: false };
      return { problem: `${spec.env} must be 1 or 0 (true or false), not "${raw}"` };
    case 'string':
      return spec.nonEmpty && text === '' ? { problem: `${spec.env} must not be empty` } : { value: raw };
    case 'enum':
      return spec.values.includes(text)
        ? { value: text }
        : { problem: `${spec.env} must be one of ${spec.values.join(', ')}, not "${raw}"` };
  }
}

/**
 * The configuration that `env` asks for over the defaults. Variables that are unset or empty
 * (except ADMIN_TOKEN, where empty means off) keep their default. Throws ConfigError.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Readonly<ServiceConfig> {
  const config: ServiceConfig = { ...SERVICE_DEFAULTS, logLevel: SERVICE_DEFAULTS.logLevel as LogLevel };
  const problems: string[] = [];
  for (const spec of ENV_VARIABLES) {
    const raw = env[spec.env];
    const emptyMeansOff = spec.type === 'string' && !spec.nonEmpty;
    if (raw === undefined || (raw.trim() === '' && !emptyMeansOff)) continue;
    const parsed = parse(spec, raw);
    if ('problem' in parsed) problems.push(parsed.problem);
    else (config as unknown as Record<string, unknown>)[spec.key] = parsed.value;
  }
  if (config.feedbackKey !== '' && config.feedbackKey.length < 16) problems.push('FEEDBACK_KEY must have 16 characters or more');
  if (config.feedbackReplica !== '' && !/^[A-Za-z0-9._-]{1,64}$/.test(config.feedbackReplica)) {
    problems.push(`FEEDBACK_REPLICA must be 1 to 64 of A-Z a-z 0-9 . _ -, not "${config.feedbackReplica}"`);
  }
  for (const origin of corsOriginsOf(config.corsOrigins)) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS must list origins like https://app.example (scheme and host, no path) or *, not "${origin}"`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** The origins of CORS_ORIGINS. */
export function corsOriginsOf(text: string): string[] {
  return text.split(',').map((o) => o.trim()).filter((o) => o !== '');
}

/** What `npm start -- --help` prints: every variable, its meaning and its default. */
export function usage(): string {
  const rows = ENV_VARIABLES.map((spec) => {
    const value = SERVICE_DEFAULTS[spec.key];
    const shown = value === '' ? '(empty)' : String(value);
    return [spec.env, `${spec.help} (default ${shown})`] as const;
  });
  const width = Math.max(...rows.map(([env]) => env.length));
  return [
    'usage: npm start   (the service is configured by environment variables, e.g. PORT=9000 npm start)',
    '',
    ...rows.map(([env, text]) => `  ${env.padEnd(width)}  ${text}`),
  ].join('\n');
}
