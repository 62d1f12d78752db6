/**
 * The service as `npm start` runs it, started as a child process on a free port of 127.0.0.1
 * for the bench and the soak: environment variables choose its configuration, its "listening"
 * log line gives its address (what it says on stderr explains a failed start), and `stop()`
 * sends SIGTERM and waits for its exit.
 */
import { spawn } from 'node:child_process';
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

/**
 * Starts `node --import tsx src/main.ts` from the working directory with `env` over the caller's
 * (and `nodeArgs` before the script: a module to `--import` into the service).
 */
export function startService(env: Record<string, string>, startTimeoutMs = 60_000, nodeArgs: readonly string[] = []): Promise<RunningService> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/main.ts'], {
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
