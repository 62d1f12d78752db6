/**
 * An embedded, durable, append-only log of label feedback.
 *
 * The service answers a feedback POST with 202 only once the record is on disk, so the log must not
 * lose what it acknowledged, through `kill -9` or a power cut. Each replica (process) writes its own
 * files in a shared directory, so writers never contend; offline tools read many replicas' files.
 *
 * On disk, in `dir`:
 * - `<replica>.<seq>.log`: segments, `seq` zero-padded to 8 digits so that names sort. One line a
 *   record: `<crc32 of the JSON's UTF-8 bytes, 8 lowercase hex digits> <JSON>\n`. A crash mid-write
 *   leaves at most a torn last line, which the checksum or the missing newline gives away.
 * - `<replica>.lock`: the pid of the process writing that replica's segments.
 *
 * Only node:fs: no dependency to vet for a piece whose whole job is not to lose data.
 */
import { mkdir, open, readFile, readdir, stat, unlink, link, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/** Options of {@link FeedbackLog.open}. */
export interface FeedbackLogOptions {
  /** Stable name of this writer (e.g. host and worker number): its file names start with it. [A-Za-z0-9._-]{1,64} */
  replica: string;
  /** A segment is closed and a new one started past this size, in bytes (default 8 MiB). */
  segmentBytes?: number;
  /** Retention: this replica's segments are deleted oldest first while they total more (default 64 MiB). The segment being written is never deleted. */
  maxBytes?: number;
}

const DEFAULTS = Object.freeze({
  segmentBytes: 8 * 1024 * 1024, // 8 MiB
  maxBytes: 64 * 1024 * 1024, // 64 MiB
});

const REPLICA = /^[A-Za-z0-9._-]{1,64}$/;
/** A segment's name: the replica is greedy, so the sequence number is always the last dot-group. */
const SEGMENT = /^([A-Za-z0-9._-]{1,64})\.(\d{8,})\.log$/;
const SEQ_DIGITS = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** Lock files this process holds or is taking: a second open of one in this process fails at once. */
const heldLocks = new Set<string>();

interface SegmentFile {
  replica: string;
  seq: number;
  file: string;
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
}

interface OpenSegment extends Segment {
  handle: FileHandle;
}

interface PendingAppend {
  text: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Another live process writes this replica's log: each replica needs a name of its own. */
export class LockHeldError extends Error {}

/**
 * The append side of one replica's log: group commit over one open segment, rolling and retention.
 * Open it with {@link FeedbackLog.open}; read logs back with {@link readFeedback}.
 */
export class FeedbackLog {
  private pending: PendingAppend[] = [];
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** The last write or sync failed: the current segment may end in a partial line, so the next batch starts a new one. */
  private torn = false;
  private closedBytes: number;

  private constructor(
    private readonly dir: string,
    private readonly replica: string,
    private readonly segmentBytes: number,
    private readonly maxBytes: number,
    private readonly lockFile: string,
    /** This replica's closed segments, oldest first. */
    private readonly closedSegments: Segment[],
    private current: OpenSegment,
  ) {
    this.closedBytes = closedSegments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /**
   * Opens (creating the directory) and takes an exclusive lock for `replica` in `dir` (a lock file
   * holding the pid; a stale lock of a dead pid is taken over; a live one: throws an Error naming
   * the pid). Continues with the next segment number after this replica's existing ones: a new
   * segment per open, so that nothing is appended after a torn line a crash may have left.
   */
  static async open(dir: string, options: FeedbackLogOptions): Promise<FeedbackLog> {
    const { replica, segmentBytes, maxBytes } = checkOptions(options);
    await makeDir(dir);
    const lockFile = path.resolve(dir, `${replica}.lock`);
    await takeLock(lockFile);
    try {
      const listed = await listSegments(dir, replica);
      // A run that wrote nothing left an empty segment: without this, every restart would add one.
      for (const empty of listed.filter((seg) => seg.bytes === 0)) await unlink(empty.file).catch(unlessMissing);
      const segments = listed.filter((seg) => seg.bytes > 0);
      const current = await createSegment(dir, replica, (segments.at(-1)?.seq ?? 0) + 1);
      return new FeedbackLog(dir, replica, segmentBytes, maxBytes, lockFile, segments, current);
    } catch (err) {
      await releaseLock(lockFile);
      throw err;
    }
  }

  /**
   * Appends `records`; resolves once they are on disk (written and fdatasync'd). Appends made while
   * a write and sync are in flight are written together in the next one (group commit). The records
   * of one call are never split across segments and read back in order. Rejects if closed, if a
   * record does not serialise to a JSON object or array, or if the write or sync of its batch failed.
   */
  async append(records: readonly object[]): Promise<void> {
    if (this.closing) throw new Error(`feedback log ${this.replica} in ${this.dir} is closed`);
    const text = records.map(encodeLine).join('');
    if (text === '') return;
    return new Promise((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      // Started on a microtask, so that the appends of one synchronous run share the first sync.
      this.draining ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Waits for pending appends, closes the segment and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Bytes of this replica's segments on disk now. */
  get bytes(): number {
    return this.closedBytes + this.current.bytes;
  }

  private async shutdown(): Promise<void> {
    await this.draining;
    // Every acknowledged batch was synced before it was acknowledged: there is nothing left to sync.
    try {
      await this.current.handle.close();
    } finally {
      await releaseLock(this.lockFile);
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      try {
        await this.write(Buffer.from(batch.map((p) => p.text).join(''), 'utf8'));
        for (const p of batch) p.resolve();
      } catch (err) {
        const error = new Error(`feedback log ${this.replica} in ${this.dir}: ${messageOf(err)}`, { cause: err });
        for (const p of batch) p.reject(error);
      }
    }
    this.draining = undefined;
  }

  private async write(batch: Buffer): Promise<void> {
    const full = this.current.bytes > 0 && this.current.bytes + batch.length > this.segmentBytes;
    if (this.torn || full) await this.roll();
    const segment = this.current;
    try {
      for (let offset = 0; offset < batch.length; ) {
        const { bytesWritten } = await segment.handle.write(batch, offset, batch.length - offset, null);
        offset += bytesWritten;
        segment.bytes += bytesWritten;
      }
      await segment.handle.datasync();
    } catch (err) {
      this.torn = true;
      throw err;
    }
  }

  /** Closes the current segment, starts the next one, then deletes the oldest closed ones past `maxBytes`. */
  private async roll(): Promise<void> {
    const old = this.current;
    // On failure the old segment stays current (and `torn` set if it was): the next batch retries.
    this.current = await createSegment(this.dir, this.replica, old.seq + 1);
    this.torn = false;
    this.closedSegments.push({ seq: old.seq, file: old.file, bytes: old.bytes });
    this.closedBytes += old.bytes;
    await old.handle.close();
    while (this.closedSegments.length > 0 && this.bytes > this.maxBytes) {
      const oldest = this.closedSegments[0]!;
      await unlink(oldest.file).catch(unlessMissing);
      this.closedSegments.shift();
      this.closedBytes -= oldest.bytes;
    }
  }
}

/**
 * Every intact record of every replica's segments under each of `dirs`, dir by dir, in segment
 * order per replica (replicas in name order). A torn or corrupted line (no newline, or a checksum
 * or JSON that does not match) is skipped alone: reading resumes at the next newline. Every dir is
 * listed before the first record comes, so a missing one fails with an Error naming it.
 */
export async function* readFeedback(dirs: readonly string[]): AsyncIterable<object> {
  const listings = await Promise.all(dirs.map((dir) => listAllSegments(dir)));
  for (const segments of listings) {
    for (const segment of segments) yield* segmentRecords(segment.file);
  }
}

function checkOptions(options: FeedbackLogOptions): Required<FeedbackLogOptions> {
  const { replica, segmentBytes = DEFAULTS.segmentBytes, maxBytes = DEFAULTS.maxBytes } = options;
  if (typeof replica !== 'string' || !REPLICA.test(replica)) {
    throw new Error(`feedback log replica must match ${REPLICA.source}, got ${JSON.stringify(replica)}`);
  }
  for (const [name, value] of [['segmentBytes', segmentBytes], ['maxBytes', maxBytes]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new Error(`feedback log ${name} must be a positive whole number of bytes, got ${value}`);
    }
  }
  return { replica, segmentBytes, maxBytes };
}

function encodeLine(record: object, index: number): string {
  const json = JSON.stringify(record) as string | undefined;
  // What readFeedback gives back: a JSON object or array (a Date, say, would come back a string).
  if (json === undefined || (json[0] !== '{' && json[0] !== '[')) {
    throw new Error(`feedback record ${index} does not serialise to a JSON object or array`);
  }
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The record of one line (without its newline), or undefined if it is torn or corrupted. */
function decodeLine(line: Buffer): object | undefined {
  if (line.length < 10 || line[8] !== SPACE) return undefined;
  const hex = line.toString('latin1', 0, 8);
  if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
  const json = line.subarray(9);
  if (crc32(json) !== Number.parseInt(hex, 16)) return undefined;
  try {
    const value: unknown = JSON.parse(json.toString('utf8'));
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

async function* segmentRecords(file: string): AsyncGenerator<object> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (isCode(err, 'ENOENT')) return; // deleted by its writer's retention since the listing
    throw err;
  }
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of handle.createReadStream() as AsyncIterable<Buffer>) {
    const buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
      const record = decodeLine(buffer.subarray(start, end));
      if (record !== undefined) yield record;
      start = end + 1;
    }
    rest = buffer.subarray(start);
  }
  // What is left in `rest` never got its newline: torn by a crash mid-write, so never acknowledged.
}

function segmentName(replica: string, seq: number): string {
  return `${replica}.${String(seq).padStart(SEQ_DIGITS, '0')}.log`;
}

/** The segments in `dir`, replicas in name order, each replica's in sequence order. */
async function listAllSegments(dir: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isCode(err, 'ENOENT')) throw new Error(`feedback directory ${dir} does not exist`);
    throw err;
  }
  const segments = names.flatMap((name) => {
    const match = SEGMENT.exec(name);
    return match ? [{ replica: match[1]!, seq: Number(match[2]), file: path.join(dir, name) }] : [];
  });
  return segments.sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : a.seq - b.seq));
}

/** This replica's segments in `dir`, oldest first, with their sizes. */
async function listSegments(dir: string, replica: string): Promise<Segment[]> {
  const own = (await listAllSegments(dir)).filter((s) => s.replica === replica);
  return Promise.all(own.map(async ({ seq, file }) => ({ seq, file, bytes: (await stat(file)).size })));
}

async function createSegment(dir: string, replica: string, seq: number): Promise<OpenSegment> {
  const file = path.join(dir, segmentName(replica, seq));
  // 'a': O_APPEND. Not exclusive: under the lock, an existing file of this number can only be an
  // empty one of an earlier try whose directory sync failed.
  const handle = await open(file, 'a');
  try {
    await syncDir(dir); // the new file's directory entry must be durable before records in it are acknowledged
  } catch (err) {
    await handle.close();
    throw err;
  }
  return { seq, file, bytes: 0, handle };
}

/** Creates `dir` if need be, syncing the parent of each directory made so that their entries are durable. */
async function makeDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const top = path.resolve(first);
  for (let made = path.resolve(dir); made.startsWith(top); made = path.dirname(made)) await syncDir(path.dirname(made));
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Takes `lockFile` for this process. The pid is written to a file of this process first and then
 * linked into place, so a lock file never exists without its pid: one that holds none is from a
 * power cut, and stale. A lock whose process is gone is removed and taken again.
 */
async function takeLock(lockFile: string): Promise<void> {
  // Claimed in this process before the first await, so a lock file holding our pid is an earlier process's.
  if (heldLocks.has(lockFile)) throw new LockHeldError(`feedback log ${lockFile} is held by live process ${process.pid}`);
  heldLocks.add(lockFile);
  const mine = `${lockFile}.${process.pid}.tmp`;
  try {
    await writeFile(mine, `${process.pid}\n`);
    for (;;) {
      try {
        await link(mine, lockFile);
        return;
      } catch (err) {
        if (!isCode(err, 'EEXIST')) throw err;
      }
      const pid = await readPid(lockFile);
      if (pid !== undefined && isAlive(pid)) throw new LockHeldError(`feedback log ${lockFile} is held by live process ${pid}`);
      await unlink(lockFile).catch(unlessMissing);
    }
  } catch (err) {
    heldLocks.delete(lockFile);
    throw err;
  } finally {
    await unlink(mine).catch(unlessMissing);
  }
}

async function releaseLock(lockFile: string): Promise<void> {
  try {
    await unlink(lockFile).catch(unlessMissing);
  } finally {
    heldLocks.delete(lockFile);
  }
}

/** The pid in a lock file; undefined if it is gone or holds no pid. */
async function readPid(lockFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
  return /^[1-9]\d*\n?$/.test(text) ? Number(text.trim()) : undefined;
}

function isAlive(pid: number): boolean {
  // Our own pid in a lock not held in this process: an earlier process had it (pid 1 of a restarted container).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isCode(err, 'EPERM'); // exists, but is another user's
  }
}

function isCode(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

function unlessMissing(err: unknown): void {
  if (!isCode(err, 'ENOENT')) throw err;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
