/**
 * Writes an evaluation as reports/<task>.json (raw figures), reports/<task>.md (tables) and
 * reports/<task>.svg (accuracy against mean cost, the Pareto picture a reader opens first).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Evaluation, Point, TargetPoint, TaskEvaluation } from './evaluate.js';

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const ms = (v: number) => v.toFixed(4);
/** A ladder's thresholds, cheapest rung first; the top rung's is left out when it repeats the one below (it only starts there). */
const thresholds = (t: readonly number[]) => (t.length > 1 && t.at(-1) === t.at(-2) ? t.slice(0, -1) : t).map((v) => v.toFixed(3)).join(' / ');

function table(rows: readonly Point[], extra?: (p: Point) => string, extraHeader?: string): string {
  const extraColumns = extraHeader === undefined ? 0 : extraHeader.split('|').length;
  const head = `| | accuracy | mean cost (ms) |${extraHeader ? ` ${extraHeader} |` : ''}\n|---|---|---|${'---|'.repeat(extraColumns)}\n`;
  return head + rows.map((p) => `| ${p.label} | ${pct(p.accuracy)} | ${ms(p.meanCostMs)} |${extra ? ` ${extra(p)} |` : ''}`).join('\n');
}

const ratio = (r: number | null) => (r === null ? 'not reached' : `${r.toFixed(3)}x`);
const routingOf = (t: { ladder: readonly string[]; verifier: string; start: string }) =>
  t.ladder.length > 1 ? `${t.verifier}${t.start === 'cheapest' ? ', from the cheapest' : ''}` : '-';
const yes = (v: boolean | null) => (v === null ? 'n/a' : v ? 'yes' : '**no**');

function headline(e: Evaluation): string {
  const h = e.headline;
  const at = (p: Point | null) => (p ? `${pct(p.accuracy)} at ${ms(p.meanCostMs)} ms (${p.label})` : 'not reached');
  /** A point and its cost against the best model's, or one "not reached". */
  const costed = (p: Point | null, r: number | null, strong = false) =>
    p && r !== null ? `${at(p)}: ${strong ? `**${ratio(r)}**` : ratio(r)}` : 'not reached';
  return `- Most accurate single model: **${h.best.model}**, ${pct(h.best.accuracy)} at ${ms(h.best.meanCostMs)} ms.
- Premodel at that accuracy (within 0.2 points): ${costed(h.premodelAtBest, h.premodelCostRatio, true)}${h.premodelAtBest ? " the best model's cost" : ''}; at it exactly: ${costed(h.premodelAtBestExactly, h.premodelExactCostRatio)}.
- Confidence cascade at that accuracy: ${costed(h.cascadeAtBest, h.cascadeCostRatio)}. Tuned cascade: ${costed(h.tunedCascadeAtBest, h.tunedCascadeCostRatio)}.
- \`minAccuracy\` targets from 80% up to the best single model's accuracy: **${h.targets.met} of ${h.targets.reachable} met**; ${h.targets.metWithinMargin} within the sampling margin of these rows (${(e.samplingMargin * 100).toFixed(2)} points at 90%, one-sided 95%); ${h.targets.honest} met or else answered \`constraintMet: false\` on every request; on ${h.targets.kept} the answers that said \`constraintMet: true\` reached the target within their own sampling margin.
- Requests with no constraint: ${pct(e.premodelDefault.accuracy)} at ${ms(e.premodelDefault.meanCostMs)} ms; ${pct(e.premodelDefault.vouchedShare)} of them served a point vouched for the default target.
- Highest accuracy the premodel reaches (any operating point): ${pct(h.premodelMaxAccuracy)}; the oracle: ${pct(e.oracle.accuracy)} at ${ms(e.oracle.meanCostMs)} ms.
- The premodel's curve against the plain cascade's: ${h.dearerThanCascade.length === 0 ? 'nowhere dearer' : `dearer at ${h.dearerThanCascade
    .map((d) => `${d.cascade.label} (${pct(d.cascade.accuracy)} at ${ms(d.cascade.meanCostMs)} ms; the premodel ${d.premodel === null ? 'does not reach it' : `${ms(d.premodel.meanCostMs)} ms`})`)
    .join(', ')}`}.
- Premodel overhead (route, and features and forests where consulted): ${h.overheadShare === null ? 'n/a' : pct(h.overheadShare)} of the routed cost at the best model's accuracy.`;
}

function sections(e: Evaluation, title: string): string {
  const encodings = e.perEncoding.length === 0 ? '' : `
### Per client encoding
Each test input was sent in a few of the ${e.perEncoding.length} client encodings (inputs/image/encode.ts), drawn in turn; every
row was routed with the calibration of the encoding group its decoder saw. Kept: the answers that said
\`constraintMet: true\` reached the target within the sampling margin of as many rows (the others said false).

| encoding | rows | best single model | targets met | within the sampling margin | kept | premodel cost at the best model's accuracy |
|---|---|---|---|---|---|---|
${e.perEncoding.map((p) => `| ${p.encoding} | ${p.rows} | ${p.best.model} ${pct(p.best.accuracy)} | ${p.met} of ${p.targets} | ${p.metWithinMargin} of ${p.targets} | ${p.kept} of ${p.targets} | ${ratio(p.costRatioAtBest)} |`).join('\n')}
`;
  return `## ${title}

${headline(e)}
${encodings}
### Single models and the oracle
${table([...e.singles, e.oracle])}

### Premodel, by minAccuracy target
Each request is served from the cheapest operating point (ladder of rungs, a threshold per rung, and
the verifier of each rung's answer: the premodel's stage two or the model's own top-1 confidence)
whose bound for the request's group (the encoding its decoder saw) reaches the target; the ladder
shown is the most frequent group's. Vouched: the share of requests whose point was vouched for the
target (the others were answered \`constraintMet: false\`).

${table(e.premodelTargets, (p) => {
  const t = p as TargetPoint;
  return `${t.ladder.join(' > ')} | ${thresholds(t.thresholds)} | ${routingOf(t)} | ${pct(t.vouchedShare)} | ${t.vouchedAccuracy === null ? '-' : pct(t.vouchedAccuracy)} | ${yes(t.met)} | ${yes(t.metWithinMargin)} | ${yes(t.kept)}`;
}, 'ladder | thresholds | verifier | vouched | accuracy of the vouched | target met | within the margin | kept')}

### Premodel, every operating point (its curve)
${table(e.premodelPoints, (p) => {
  const t = p as Evaluation['premodelPoints'][number];
  return `${pct(t.bound)} | ${routingOf(t)}`;
}, 'bound (worst group) | verifier')}

### Premodel, by maxLatencyMs budget
${table(e.premodelBudgets)}

### Confidence cascade (cheapest first, escalate while top-1 confidence < threshold)
${table(e.cascade)}

### Tuned confidence cascade (ladder and thresholds calibrated on the premodel split like the premodel's)
${table(e.tunedCascade, (p) => {
  const t = p as Evaluation['tunedCascade'][number];
  return `${t.ladder.join(' > ')} | ${thresholds(t.thresholds)}`;
}, 'ladder | thresholds')}
`;
}

export function markdown(r: TaskEvaluation, command: string, name = r.clean.task): string {
  const e = r.clean;
  return `# ${e.task}: premodel routing against the alternatives

Generated by \`${command}\` on the test split (${e.inputs} inputs that neither the zoo nor the
premodel saw)${r.client === undefined ? '' : `, as it is and as clients send it (${r.client.inputs} rows: each input in client encodings, decoded by the service's own decoder)`}.
Cost per request = the profiled batch-1 latency (p50, this machine) of every model run the request
makes, plus, for the premodel, its measured overhead per request: the route and policy, ${e.overheadUs.route.toFixed(1)} us, on
every request; the features, ${e.overheadUs.features.toFixed(1)} us, and forests, ${e.overheadUs.premodel.toFixed(1)} us, on the requests whose operating
point consults the premodel (a point that starts at the cheapest rung and trusts each model's own
confidence does not: the service skips both for it). Bounds carry a measured margin of ${(r.margin * 100).toFixed(2)} points (docs/premodel.md).

![accuracy against mean cost](${name}.svg)

${sections(e, 'The test split as it is')}
${r.client === undefined ? '' : sections(r.client, 'The test split as clients send it')}
## Input features: importance and cost
All ${e.featureImportance.length} features come from one fused pass over the input, ${e.overheadUs.features.toFixed(1)} us per input in all
(${(e.overheadUs.features / e.featureImportance.length).toFixed(2)} us per feature on average); importance is each feature's share of the
split nodes of all the premodel's forests.

| feature | share of splits |
|---|---|
${e.featureImportance.map((f) => `| ${f.feature} | ${pct(f.share)} |`).join('\n')}
`;
}

export function svg(e: Evaluation): string {
  const W = 760, H = 480, L = 70, R = 20, T = 30, B = 50;
  const all = [...e.singles, e.oracle, ...e.cascade, ...e.tunedCascade, ...e.premodelPoints, ...e.premodelBudgets];
  const costs = all.map((p) => p.meanCostMs);
  const lo = Math.log10(Math.min(...costs) * 0.8), hi = Math.log10(Math.max(...costs) * 1.25);
  const accs = all.map((p) => p.accuracy);
  const aLo = Math.floor(Math.min(...accs) * 50) / 50, aHi = Math.min(1, Math.ceil(Math.max(...accs) * 50) / 50);
  const x = (c: number) => L + ((Math.log10(c) - lo) / (hi - lo)) * (W - L - R);
  const y = (a: number) => T + (1 - (a - aLo) / (aHi - aLo)) * (H - T - B);
  const line = (pts: readonly Point[], colour: string) => {
    const sorted = [...pts].sort((a, b) => a.meanCostMs - b.meanCostMs);
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map((p) => `${x(p.meanCostMs).toFixed(1)},${y(p.accuracy).toFixed(1)}`).join(' ')}"/>` +
      sorted.map((p) => `<circle cx="${x(p.meanCostMs).toFixed(1)}" cy="${y(p.accuracy).toFixed(1)}" r="3" fill="${colour}"/>`).join('');
  };
  const ticks: string[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of [1, 2, 5]) {
      const c = m * 10 ** d;
      if (Math.log10(c) < lo || Math.log10(c) > hi) continue;
      ticks.push(`<line x1="${x(c)}" x2="${x(c)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(c)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${c}</text>`);
    }
  }
  for (let a = aLo; a <= aHi + 1e-9; a += 0.01) {
    ticks.push(`<line x1="${L}" x2="${W - R}" y1="${y(a)}" y2="${y(a)}" stroke="#eee"/><text x="${L - 6}" y="${y(a) + 4}" font-size="11" text-anchor="end">${(a * 100).toFixed(0)}%</text>`);
  }
  const singles = e.singles.map((p) => `<circle cx="${x(p.meanCostMs)}" cy="${y(p.accuracy)}" r="4" fill="#555"/><text x="${x(p.meanCostMs) + 6}" y="${y(p.accuracy) - 6}" font-size="11">${p.label}</text>`).join('');
  const legend = [['#d62728', 'premodel (every operating point)'], ['#9467bd', 'premodel (maxLatencyMs sweep)'], ['#1f77b4', 'confidence cascade'], ['#17becf', 'tuned confidence cascade'], ['#2ca02c', 'oracle'], ['#555', 'single models']]
    .map(([c, t], i) => `<rect x="${W - R - 220}" y="${H - B - 106 + i * 16}" width="10" height="10" fill="${c}"/><text x="${W - R - 204}" y="${H - B - 97 + i * 16}" font-size="12">${t}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<!-- Generated by npm run evaluate: accuracy against mean cost per input on the ${e.task} test split. -->
<rect width="${W}" height="${H}" fill="white"/>${ticks.join('')}
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>
<text x="${(L + W - R) / 2}" y="${H - 10}" font-size="13" text-anchor="middle">mean cost per input (ms, log scale)</text>
<text x="16" y="${(T + H - B) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">accuracy</text>
<text x="${L}" y="20" font-size="14">${e.task}: accuracy against cost (test split)</text>
${line(e.cascade, '#1f77b4')}${line(e.tunedCascade, '#17becf')}${line(e.premodelBudgets, '#9467bd')}${line(e.premodelPoints, '#d62728')}${singles}
<circle cx="${x(e.oracle.meanCostMs)}" cy="${y(e.oracle.accuracy)}" r="6" fill="#2ca02c"/>${legend}
</svg>
`;
}

/** A section that a step adds to a report: its markdown, its figures (under their key in the JSON), and the lines it prints. */
export interface ReportAppendix {
  key: string;
  markdown: string;
  data: object;
  lines: readonly string[];
}

/** Writes <dir>/<name>.json, .md and .svg (name: the task's, by default). */
export async function writeReport(dir: string, r: TaskEvaluation, command: string, options: { name?: string; appendix?: ReportAppendix } = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const name = options.name ?? r.clean.task;
  const { appendix } = options;
  const files = [path.join(dir, `${name}.json`), path.join(dir, `${name}.md`), path.join(dir, `${name}.svg`)];
  await writeFile(files[0]!, `${JSON.stringify(appendix === undefined ? r : { ...r, [appendix.key]: appendix.data }, null, 2)}\n`);
  await writeFile(files[1]!, appendix === undefined ? markdown(r, command, name) : `${markdown(r, command, name)}\n${appendix.markdown}`);
  await writeFile(files[2]!, svg(r.clean));
  return files;
}
