/**
 * Loaded into the service with `--import` by `npm run profile:cpu`: SIGUSR2 starts V8's sampling
 * profiler, the next SIGUSR2 stops it and writes the profile to CPU_PROFILE_OUT. Toggled by
 * signal, the profile covers the load alone, not the start-up and warm-up before it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.CPU_PROFILE_OUT;
if (out === undefined || out === '') throw new Error('cpu-profiler: CPU_PROFILE_OUT names the file the profile goes to');

const session = new Session();
session.connect();
let running = false;

function post(method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
}

process.on('SIGUSR2', () => {
  void (async () => {
    if (!running) {
      running = true;
      await post('Profiler.enable');
      // 100 us between samples: a request of a few tenths of a ms shows in several.
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
      process.stderr.write('cpu-profiler: started\n');
      return;
    }
    running = false;
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    // Renamed into place, so that a reader never sees half a profile.
    writeFileSync(`${out}.part`, JSON.stringify(profile));
    renameSync(`${out}.part`, out);
    process.stderr.write(`cpu-profiler: wrote ${out}\n`);
  })();
});
