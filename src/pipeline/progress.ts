/**
 * Progress of long offline runs, on stderr: a bar on a terminal; elsewhere (a log, CI) a line at
 * every tenth of the way with the time so far, so that a long run shows it is moving.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(by?: number): void;
  stop(): void;
}

export function progress(label: string, total: number): Progress {
  if (!process.stderr.isTTY) {
    const started = performance.now();
    let done = 0;
    let shown = 0;
    return {
      tick(by = 1) {
        done += by;
        const tenth = Math.floor((10 * done) / Math.max(1, total));
        if (tenth > shown && tenth < 10) {
          shown = tenth;
          process.stderr.write(`${label}: ${tenth * 10}% (${done}/${total}) in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
        }
      },
      stop() {
        process.stderr.write(`${label}: done (${done}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(28)} {bar} {percentage}% {value}/{total} eta {eta_formatted}`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: (by = 1) => bar.increment(by), stop: () => bar.stop() };
}
