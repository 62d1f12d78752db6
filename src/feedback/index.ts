/**
 * Label feedback: a client that learns the truth about an answer sends its requestId (the signed
 * decision, feedback/token.ts) with the label. Each label is checked (signature, task, class),
 * stored durably in this replica's log before it is acknowledged (feedback/store.ts), and counted
 * by the task's quality book (quality/realized.ts), whose online correction moves the band's
 * operating point. A repeat is idempotent; a different label for an id already labelled is a
 * conflict. A batch is taken whole or not at all.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestError, ConflictError, UnavailableError } from '../errors/index.js';
import type { TaskQuality } from '../quality/realized.js';
import { FeedbackLog, readFeedback } from './store.js';
import { DecisionSigner, TokenError, type Decision } from './token.js';

/** One label as a client sends it: the class by name or by index. */
export interface FeedbackItem {
  requestId: string;
  label?: string;
  classIndex?: number;
}

/** What the log holds per label: enough for the offline tools without the key. */
export interface FeedbackRecord {
  /** The token's signature (hex): a label's identity across replicas. */
  id: string;
  /** The route that answered: the task, or `<task>/<head>` for a split route. */
  task: string;
  /** The true class index. */
  label: number;
  /** When it was stored (ISO 8601). */
  at: string;
  decision: Decision;
}

/** One route of a served task that signs decisions: the task's own zoo, or a head's tails (split computing). */
export interface FeedbackRoute {
  /** What its decisions name: the task, or `<task>/<head>`. */
  readonly route: string;
  readonly premodelId: string;
  readonly quality: TaskQuality;
}

/** What feedback needs of a served task: its classes, and its routes by the name their decisions carry. */
export interface FeedbackTask {
  readonly name: string;
  readonly classes: readonly string[];
  readonly routes: ReadonlyMap<string, FeedbackRoute>;
}

export interface FeedbackOptions {
  /** The folder of the log and of the key file. */
  dir: string;
  replica: string;
  /** The signing key; default: `<dir>/key`, made once. */
  key?: string;
  maxBatch: number;
  maxBytes: number;
}

/** Labels remembered for idempotency; the oldest are forgotten beyond this. */
const MAX_REMEMBERED = 1_000_000;
const KEY_FILE = 'key';

/** Whether a decision's answer (its last model's) is the true class. */
export const answeredRight = (record: Pick<FeedbackRecord, 'label' | 'decision'>) => record.decision.runs.at(-1)?.classIndex === record.label;

export class FeedbackService {
  /** Label of each id this replica has seen (from its log, and since). */
  private readonly seen = new Map<string, number>();
  private accepted = 0;
  private duplicates = 0;

  private constructor(
    readonly signer: DecisionSigner,
    private readonly log: FeedbackLog,
    readonly options: Readonly<FeedbackOptions>,
  ) {}

  /** Opens the log in `options.dir` (taking this replica's lock), loads or makes the key, and remembers the ids already stored there. */
  static async open(options: FeedbackOptions): Promise<FeedbackService> {
    await mkdir(options.dir, { recursive: true });
    const key = options.key === undefined || options.key === '' ? await keyFile(options.dir) : Buffer.from(options.key, 'utf8');
    const log = await FeedbackLog.open(options.dir, { replica: options.replica, maxBytes: options.maxBytes });
    const service = new FeedbackService(new DecisionSigner(key), log, options);
    for await (const record of service.records()) service.remember(record.id, record.label);
    return service;
  }

  /** Every label stored in this folder, by every replica writing there. */
  async *records(): AsyncIterable<FeedbackRecord> {
    for await (const record of readFeedback([this.options.dir])) yield record as FeedbackRecord;
  }

  /** Counts the stored labels into the quality books of `tasks` (a fresh plane's: start-up, reload); they do not move the correction. */
  async replay(tasks: readonly FeedbackTask[]): Promise<number> {
    const byRoute = new Map(tasks.flatMap((t) => [...t.routes]));
    let counted = 0;
    for await (const record of this.records()) {
      const task = byRoute.get(record.task);
      if (task === undefined) continue;
      task.quality.record(record.decision, answeredRight(record), { current: record.decision.premodel === task.premodelId, learn: false });
      counted++;
    }
    return counted;
  }

  /**
   * Takes labels for decisions of `task`: every item is checked first (a bad one refuses the whole
   * batch, nothing stored), then the new ones are stored, synced, and counted.
   */
  async accept(task: FeedbackTask, items: readonly FeedbackItem[]): Promise<{ accepted: number; duplicates: number }> {
    if (items.length > this.options.maxBatch) {
      throw new BadRequestError(`a feedback batch holds at most ${this.options.maxBatch} labels (FEEDBACK_MAX_BATCH), not ${items.length}`);
    }
    const fresh: { record: FeedbackRecord; route: FeedbackRoute }[] = [];
    const inBatch = new Map<string, number>();
    const at = new Date().toISOString();
    items.forEach((item, i) => {
      const where = items.length === 1 ? 'the requestId' : `item ${i}: the requestId`;
      let verified: { decision: Decision; id: string };
      try {
        verified = this.signer.verify(item.requestId);
      } catch (err) {
        if (err instanceof TokenError) throw new BadRequestError(`${where} ${err.message}`);
        throw err;
      }
      const { decision, id } = verified;
      const route = task.routes.get(decision.task);
      if (route === undefined) throw new BadRequestError(`${where} was issued by ${routeName(decision.task)}, not by task "${task.name}"`);
      const label = labelOf(task, item, i, items.length);
      const known = this.seen.get(id) ?? inBatch.get(id);
      if (known !== undefined && known !== label) {
        throw new ConflictError(`${where} is already labelled "${task.classes[known]}"; a label, once given, stands`);
      }
      if (known !== undefined) return;
      inBatch.set(id, label);
      fresh.push({ record: { id, task: decision.task, label, at, decision }, route });
    });
    // Claimed before the write, so that a concurrent repeat is a duplicate, not a second record.
    for (const { record: r } of fresh) this.remember(r.id, r.label);
    try {
      if (fresh.length > 0) await this.log.append(fresh.map((f) => f.record));
    } catch (err) {
      for (const { record: r } of fresh) this.seen.delete(r.id);
      throw new UnavailableError(`the feedback could not be stored (${err instanceof Error ? err.message : String(err)}); nothing was kept, send it again`);
    }
    for (const { record: r, route } of fresh) {
      const current = r.decision.premodel === route.premodelId;
      route.quality.record(r.decision, answeredRight(r), { current, learn: current });
    }
    this.accepted += fresh.length;
    this.duplicates += items.length - fresh.length;
    return { accepted: fresh.length, duplicates: items.length - fresh.length };
  }

  /** Labels taken and repeats seen since start-up, and the log's size. */
  get counts(): { accepted: number; duplicates: number; storedBytes: number } {
    return { accepted: this.accepted, duplicates: this.duplicates, storedBytes: this.log.bytes };
  }

  close(): Promise<void> {
    return this.log.close();
  }

  private remember(id: string, label: number): void {
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(id, label);
  }
}

/** A decision's route as a message names it: a task, or a task's head. */
function routeName(route: string): string {
  const slash = route.indexOf('/');
  return slash < 0 ? `task "${route}"` : `head "${route.slice(slash + 1)}" of task "${route.slice(0, slash)}"`;
}

function labelOf(task: FeedbackTask, item: FeedbackItem, i: number, count: number): number {
  const where = count === 1 ? '' : `item ${i}: `;
  if (item.classIndex !== undefined) {
    if (item.classIndex < task.classes.length) return item.classIndex;
    throw new BadRequestError(`${where}classIndex ${item.classIndex} is not a class of task "${task.name}" (0 to ${task.classes.length - 1})`);
  }
  const index = task.classes.indexOf(item.label!);
  if (index === -1) throw new BadRequestError(`${where}"${item.label}" is not a class of task "${task.name}"; its classes: ${task.classes.join(', ')}`);
  return index;
}

/** The key in `<dir>/key`: read, or made once (written aside, then linked: two processes starting at once agree on one). */
async function keyFile(dir: string): Promise<Buffer> {
  const file = path.join(dir, KEY_FILE);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  try {
    await link(aside, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(aside, { force: true });
  }
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
}
