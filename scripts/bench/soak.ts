/**
 * The soak test (`npm run soak`, and a short run in `npm test`): sustained concurrent load of
 * valid predictions mixed with invalid requests of every kind against a live service, bounded in
 * count and time. It passes when every valid request is answered 200, nothing is answered 5xx or
 * left unanswered, and the service's resident memory levels off: over the second half of the run
 * it grows by no more than `maxGrowthMbPer10k` MB per 10,000 requests.
 */
import { runLoad, answerCount, type LoadRequest } from './load.js';

export interface SoakOptions {
  base: string;
  /** Valid predict requests (labels starting "valid"), all expected to answer 200. */
  valid: readonly LoadRequest[];
  /** Requests expected to answer 4xx (see `invalidRequests`). */
  invalid: readonly LoadRequest[];
  /** Requests to send in all, at most. */
  requests: number;
  /** Seconds the run may take, at most. */
  maxSeconds: number;
  connections: number;
  /** How often the service's memory is read, in ms. */
  sampleEveryMs: number;
  /** Largest growth of resident memory over the second half that counts as levelled off. */
  maxGrowthMbPer10k: number;
}

export interface MemorySample {
  /** Seconds since the start of the run. */
  s: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface SoakResult {
  requests: number;
  seconds: number;
  connections: number;
  /** Answers by label and status. */
  answers: Record<string, Record<string, number>>;
  /** Valid requests not answered 200; answers 5xx; requests with no answer at all. */
  validFailures: number;
  serverErrors: number;
  unanswered: number;
  memory: {
    samples: MemorySample[];
    /** Growth of resident memory in MB per 10,000 requests over each half of the run (see `growth`). */
    firstHalfMbPer10k: number;
    secondHalfMbPer10k: number;
    maxGrowthMbPer10k: number;
    levelledOff: boolean;
  };
  passed: boolean;
}

/** Requests that must each be refused with a 4xx while the service keeps serving: one of each kind of mistake. */
export function invalidRequests(imageTask: string, windowTask: string): LoadRequest[] {
  const json = (task: string, body: string): LoadRequest => ({
    label: '',
    method: 'POST',
    path: `/v1/tasks/${task}/predict`,
    headers: { 'content-type': 'application/json' },
    body,
  });
  const png = (path: string, body: Buffer, type = 'image/png'): LoadRequest => ({ label: '', method: 'POST', path, headers: { 'content-type': type }, body });
  const predict = `/v1/tasks/${imageTask}/predict`;
  const cases: [string, LoadRequest][] = [
    ['malformed JSON', json(windowTask, '{"input": {"window": [[1, 2')],
    ['window of the wrong length', json(windowTask, JSON.stringify({ input: { window: [[1, 0, 0, 0, 0, 0]] } }))],
    ['number out of range', json(windowTask, '{"input": {"window": [[1e999, 0, 0, 0, 0, 0]]}}')],
    ['__proto__ key', json(windowTask, '{"__proto__": {"admin": true}, "input": {"window": []}}')],
    ['constraint out of range', json(windowTask, JSON.stringify({ input: { window: [] }, constraint: { minAccuracy: 2 } }))],
    ['corrupt PNG', png(predict, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(64, 7)]))],
    ['text sent as an image', png(predict, Buffer.from('not an image at all'))],
    ['unsupported content type', png(predict, Buffer.from('hello'), 'text/plain')],
    ['empty body', png(predict, Buffer.alloc(0))],
    ['unknown task', json('no-such-task', '{}')],
    ['unknown model', png(`${predict}?model=no-such-model`, Buffer.from('x'))],
  ];
  return cases.map(([what, request]) => ({ ...request, label: `invalid: ${what}` }));
}

/** Resident and used-heap memory of the service, from its Prometheus metrics. */
async function memoryOf(base: string): Promise<{ rssMb: number; heapUsedMb: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^adaptive_zoo_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
  return { rssMb: gauge('process_resident_memory_bytes'), heapUsedMb: gauge('nodejs_heap_size_used_bytes') };
}

function medianRss(samples: readonly MemorySample[]): number {
  const sorted = samples.map((x) => x.rssMb).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * How resident memory grew from `fromS` to `toS`, in MB per second: the median of the window's
 * second half less the median of its first half, over the time between their middles. Medians,
 * because garbage collection saws memory up and down by more than a slow leak adds.
 */
function growth(samples: readonly MemorySample[], fromS: number, toS: number): number {
  const middle = (fromS + toS) / 2;
  const early = samples.filter((x) => x.s >= fromS && x.s < middle);
  const late = samples.filter((x) => x.s >= middle && x.s <= toS);
  return (medianRss(late) - medianRss(early)) / ((toS - fromS) / 2);
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const { valid, invalid } = options;
  // Valid and invalid alternate, so that every connection mixes them.
  const requests = Array.from({ length: Math.max(valid.length, invalid.length) * 2 }, (_, i) =>
    i % 2 === 0 ? valid[(i / 2) % valid.length]! : invalid[((i - 1) / 2) % invalid.length]!,
  );
  const samples: MemorySample[] = [];
  const started = performance.now();
  const sample = async () => samples.push({ s: (performance.now() - started) / 1000, ...(await memoryOf(options.base)) });
  await sample();
  const timer = setInterval(() => void sample(), options.sampleEveryMs);
  const run = await runLoad({
    base: options.base,
    requests,
    connections: options.connections,
    durationS: options.maxSeconds,
    amount: options.requests,
  }).finally(() => clearInterval(timer));
  await sample();

  const answers: SoakResult['answers'] = {};
  let validFailures = 0;
  let serverErrors = 0;
  let answered = 0;
  for (const [label, byLabel] of run.byLabel) {
    answers[label] = Object.fromEntries([...byLabel.clientMs].map(([status, ms]) => [String(status), ms.length]));
    const total = answerCount(byLabel);
    answered += total;
    if (label.startsWith('valid')) validFailures += total - answerCount(byLabel, 200);
    for (const [status, ms] of byLabel.clientMs) if (status >= 500) serverErrors += ms.length;
  }
  const perS = answered / run.durationS;
  const half = run.durationS / 2;
  const firstHalfMbPer10k = (growth(samples, 0, half) / perS) * 10_000;
  const secondHalfMbPer10k = (growth(samples, half, run.durationS) / perS) * 10_000;
  const levelledOff = secondHalfMbPer10k <= options.maxGrowthMbPer10k;
  return {
    requests: answered,
    seconds: run.durationS,
    connections: options.connections,
    answers,
    validFailures,
    serverErrors,
    unanswered: run.errors,
    memory: { samples, firstHalfMbPer10k, secondHalfMbPer10k, maxGrowthMbPer10k: options.maxGrowthMbPer10k, levelledOff },
    passed: validFailures === 0 && serverErrors === 0 && run.errors === 0 && levelledOff,
  };
}

/** bench/SOAK.md from a soak run. */
export function renderSoak(r: SoakResult, command: string, host: string): string {
  const rss = r.memory.samples.map((x) => x.rssMb);
  const lines = [
    '# Soak test',
    '',
    `Generated by \`${command}\` on ${new Date().toISOString().slice(0, 10)} (${host}): **${r.passed ? 'passed' : 'FAILED'}**.`,
    '',
    `${r.requests} requests in ${r.seconds.toFixed(1)} s over ${r.connections} connections (${(r.requests / r.seconds).toFixed(0)} per second),`,
    'valid predictions of both tasks alternating with invalid requests of every kind.',
    '',
    `- valid requests not answered 200: **${r.validFailures}** (must be 0)`,
    `- answers 5xx: **${r.serverErrors}** (must be 0); requests left unanswered: **${r.unanswered}** (must be 0)`,
    `- resident memory: ${Math.min(...rss).toFixed(0)} to ${Math.max(...rss).toFixed(0)} MB; growth ${r.memory.firstHalfMbPer10k.toFixed(2)} MB per 10,000 requests ` +
      `over the first half, **${r.memory.secondHalfMbPer10k.toFixed(2)}** over the second (levelled off: at most ${r.memory.maxGrowthMbPer10k})`,
    '',
    '| request | answers by status |',
    '|---|---|',
    ...Object.entries(r.answers).map(([label, byStatus]) => `| ${label} | ${Object.entries(byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')} |`),
    '',
    '| s | resident MB | heap used MB |',
    '|---|---|---|',
    ...r.memory.samples
      .filter((_, i, all) => i % Math.max(1, Math.floor(all.length / 20)) === 0 || i === all.length - 1)
      .map((x) => `| ${x.s.toFixed(1)} | ${x.rssMb.toFixed(1)} | ${x.heapUsedMb.toFixed(1)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
