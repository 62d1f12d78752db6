/**
 * The service as `npm start` runs it (built by `npm run build`, then `node dist/main.js`), started
 * as a child process on a free port of 127.0.0.1 for the bench and the soak: environment variables
 * choose its configuration, its "listening" log line gives its address (what it says on stderr
 * explains a failed start), and `stop()` sends SIGTERM and waits for its exit.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunningService {
  base: string;
  pid: number;
  /** SIGTERM (drain, then stop); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Sends `signal` to the service (SIGUSR2 toggles the profiler of `npm run profile:cpu`). */
  signal(signal: NodeJS.Signals): void;
  /** What the service wrote on stderr so far. */
  stderr(): string;
}

/** How the service's code runs: compiled by tsc, as `npm start` runs it, or its TypeScript through tsx. */
export type Runtime = 'compiled' | 'tsx';

export interface StartOptions {
  startTimeoutMs?: number;
  /** How its code runs; default 'compiled', built first (once per process). */
  runtime?: Runtime;
  /** A TypeScript module of the repository the service imports (through tsx) before its own code. */
  preload?: string;
  /** The CPUs the service (every worker) may run on (taskset); default: any. */
  cpus?: readonly number[];
}

let built = false;

/** What `npm run build` runs (tsc, incremental: about 2 s when little changed), once per process. */
function buildService(): void {
  if (built) return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: ['ignore', 'inherit', 'inherit'] });
  built = true;
}

/** The node command line of the service: tsx is loaded where TypeScript runs (the preload or the service itself). */
function serviceCommand(runtime: Runtime, preload?: string): string[] {
  const preloads = preload === undefined ? [] : ['--import', preload];
  if (runtime === 'tsx') return [process.execPath, '--import', 'tsx', ...preloads, 'src/main.ts'];
  return [process.execPath, ...(preload === undefined ? [] : ['--import', 'tsx']), ...preloads, 'dist/main.js'];
}

/** `command` (program first) run on `cpus` by taskset; as it is for undefined (any CPU). */
export function onCpus(command: readonly string[], cpus: readonly number[] | undefined): string[] {
  return cpus === undefined ? [...command] : ['taskset', '--cpu-list', cpus.join(','), ...command];
}

/** Starts the service from the working directory with `env` over the caller's. */
export function startService(env: Record<string, string>, options: StartOptions = {}): Promise<RunningService> {
  const { startTimeoutMs = 60_000, runtime = 'compiled', preload, cpus } = options;
  if (runtime === 'compiled') buildService();
  const [command, ...args] = onCpus(serviceCommand(runtime, preload), cpus);
  const child = spawn(command!, args, {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start in ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with code ${code} before listening: ${Buffer.concat(stderr).toString().trim()}`));
    });
    // Every log line is read (and dropped after start-up), so that the pipe never fills.
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = parseLogLine(line);
      if (entry?.msg !== 'listening' || typeof entry.address !== 'string') return;
      clearTimeout(timer);
      resolve({
        base: `http://${entry.address}`,
        pid: child.pid!,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
        signal: (signal) => child.kill(signal),
        stderr: () => Buffer.concat(stderr).toString(),
      });
    });
  });
}

/** `KEY=VALUE` pairs, as a command line gives them (`--service-env NODE_OPTIONS=...`), as an environment. */
export function parseServiceEnv(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--service-env takes KEY=VALUE, not "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function parseLogLine(line: string): { msg?: unknown; address?: unknown } | undefined {
  try {
    return JSON.parse(line) as { msg?: unknown; address?: unknown };
  } catch {
    return undefined;
  }
}

/** The CPUs of the load generator (this process) and of the service, apart: neither takes the other's time. */
export interface CpuSplit {
  generator: readonly number[];
  service: readonly number[];
}

/**
 * Keeps the last `generatorCpus` of the CPUs this process may run on for it (every thread pinned
 * there now, by taskset) and leaves the others to the service; undefined for 0 (both share every
 * CPU). Throws when no CPU would be left to the service.
 */
export function splitCpus(generatorCpus: number): CpuSplit | undefined {
  if (generatorCpus === 0) return undefined;
  const cpus = parseCpuList(execFileSync('taskset', ['--cpu-list', '--pid', String(process.pid)], { encoding: 'utf8' }).split(':').pop()!);
  if (cpus.length <= generatorCpus) throw new Error(`${cpus.length} CPU(s) here: none would be left to the service beside ${generatorCpus} for the load generator`);
  const split = { generator: cpus.slice(-generatorCpus), service: cpus.slice(0, -generatorCpus) };
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', split.generator.join(','), String(process.pid)], { stdio: 'ignore' });
  return split;
}

/** A CPU list as taskset and the kernel write it ("0-3,6"). */
export function parseCpuList(list: string): number[] {
  return list
    .trim()
    .split(',')
    .flatMap((range) => {
      const [from, to = from] = range.split('-').map(Number) as [number, number?];
      if (!Number.isInteger(from) || !Number.isInteger(to) || to! < from) throw new Error(`not a CPU list: "${list.trim()}"`);
      return Array.from({ length: to! - from + 1 }, (_, i) => from + i);
    });
}
