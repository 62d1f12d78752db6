/**
 * What an idle costs the machine itself, with no service code: a plain node process, on the CPUs
 * the service runs on, times the same memory-bound work back to back and after an idle, in
 * alternation. On a virtual machine a CPU that idles halts, and the host hands its core and caches
 * to others meanwhile: the work after the idle reads from memory what it read from cache before.
 * The first-request part reports it beside the service's own after-idle figures.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { onCpus } from './service.js';
import { summarise } from './suite.js';

/** Reads per timed work, and the float64 values they are drawn from (8 MB: more than a core's cache). */
const READS = 20_000;
const VALUES = 1 << 20;

/** What the probe times: about 0.1 ms of reads no prefetcher foresees. */
export const HOST_IDLE_WORKLOAD = `${READS.toLocaleString('en')} random reads over an ${(VALUES * 8) / 2 ** 20} MB array`;

/**
 * The probe, run by `node -e` as it is (a string, so that no transform of this file reaches it):
 * argv idle ms and rounds; prints the times of each round's work back to back and after the idle, in ms.
 */
const PROBE = `
const N = ${VALUES};
const values = new Float64Array(N).map((_, i) => i % 7);
let sink = 0;
function work() {
  let sum = 0;
  let j = 1;
  for (let r = 0; r < ${READS}; r++) {
    j = (j * 1103515245 + 12345) & (N - 1);
    sum += values[j];
  }
  sink += sum;
}
function timed() {
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}
for (let i = 0; i < 200; i++) work();
const [idleMs, rounds] = process.argv.slice(1).map(Number);
(async () => {
  const backToBack = [];
  const afterIdle = [];
  for (let i = 0; i < rounds; i++) {
    await new Promise(setImmediate);
    backToBack.push(timed());
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    afterIdle.push(timed());
  }
  process.stdout.write(JSON.stringify({ backToBack, afterIdle, sink: sink > 0 }));
})();
`;

export interface HostIdleResult {
  workload: string;
  idleMs: number;
  rounds: number;
  /** Medians of the work's time, in ms. */
  backToBackMs: number;
  afterIdleMs: number;
  /** afterIdleMs over backToBackMs: what an idle alone costs a request's memory reads here. */
  ratio: number;
}

/** Runs the probe, `rounds` of each, on `cpus` (taskset; default: any). */
export async function measureHostIdle(options: { idleMs: number; rounds: number; cpus?: readonly number[] }): Promise<HostIdleResult> {
  const { idleMs, rounds, cpus } = options;
  const [command, ...args] = onCpus([process.execPath, '-e', PROBE, String(idleMs), String(rounds)], cpus);
  const { stdout } = await promisify(execFile)(command!, args, { encoding: 'utf8' });
  const times = JSON.parse(stdout) as { backToBack: number[]; afterIdle: number[] };
  const backToBackMs = summarise(times.backToBack).p50;
  const afterIdleMs = summarise(times.afterIdle).p50;
  return { workload: HOST_IDLE_WORKLOAD, idleMs, rounds, backToBackMs, afterIdleMs, ratio: afterIdleMs / backToBackMs };
}
