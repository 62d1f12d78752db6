import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { FeedbackLog, readFeedback } from '../../src/feedback/store.js';

const WRITER = fileURLToPath(new URL('./store-writer.ts', import.meta.url));
/** Above Linux's largest pid_max (2^22): no process has it. */
const DEAD_PID = 2 ** 22 + 12345;

async function readAll(dirs: readonly string[]): Promise<object[]> {
  const records: object[] = [];
  for await (const record of readFeedback(dirs)) records.push(record);
  return records;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A line as the log writes it. */
function line(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

async function segmentsOf(dir: string, replica: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(`${replica}.`) && name.endsWith('.log')).sort();
}

async function sizeOf(dir: string, names: readonly string[]): Promise<number> {
  const sizes = await Promise.all(names.map(async (name) => (await stat(path.join(dir, name))).size));
  return sizes.reduce((a, b) => a + b, 0);
}

/**
 * Replaces FileHandle's datasync (how the log syncs its segments) while `body` runs. The class is
 * not exported, so its prototype is taken from a handle.
 */
async function withDatasync<T>(
  replacement: (original: () => Promise<void>) => Promise<void>,
  body: () => Promise<T>,
): Promise<T> {
  const probe = await open(WRITER, 'r');
  const proto = Object.getPrototypeOf(probe) as { datasync(this: unknown): Promise<void> };
  await probe.close();
  const original = proto.datasync;
  proto.datasync = function (this: unknown) {
    return replacement(() => original.call(this));
  };
  try {
    return await body();
  } finally {
    proto.datasync = original;
  }
}

describe('feedback/store', () => {
  let dir: string;
  const opened: FeedbackLog[] = [];
  async function openLog(options: Parameters<typeof FeedbackLog.open>[1], where = dir): Promise<FeedbackLog> {
    const log = await FeedbackLog.open(where, options);
    opened.push(log);
    return log;
  }

  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'feedback-store-')), 'logs');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((log) => log.close()));
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('reads appended records back in order across a restart, which continues the numbering', async () => {
    const first = await openLog({ replica: 'host-a.0' });
    await first.append([{ n: 0, text: 'café ☕' }, { n: 1 }]);
    await first.append([{ n: 2 }]);
    expect(first.bytes).to.equal(await sizeOf(dir, await segmentsOf(dir, 'host-a.0')));
    await first.close();
    await first.close(); // idempotent
    expect((await rejection(first.append([{ n: -1 }]))).message).to.match(/closed/);

    const second = await openLog({ replica: 'host-a.0' });
    await second.append([{ n: 3 }]);
    await second.close();

    expect(await readAll([dir])).to.deep.equal([{ n: 0, text: 'café ☕' }, { n: 1 }, { n: 2 }, { n: 3 }]);
    expect((await readdir(dir)).sort(), 'one segment per open; the lock released').to.deep.equal([
      'host-a.0.00000001.log',
      'host-a.0.00000002.log',
    ]);
  });

  it('group commit: 200 concurrent appends all resolve, their records are there, with far fewer syncs', async () => {
    const log = await openLog({ replica: 'r' });
    let syncs = 0;
    await withDatasync(
      (original) => {
        syncs += 1;
        return original();
      },
      () => Promise.all(Array.from({ length: 200 }, (_, n) => log.append([{ n }]))),
    );
    // All 200 are queued before the first write starts: at most that one alone, then the rest together.
    expect(syncs).to.be.within(1, 2);
    await log.close();
    const ns = (await readAll([dir])).map((r) => (r as { n: number }).n);
    expect(ns).to.deep.equal(Array.from({ length: 200 }, (_, n) => n));
  });

  it('rolls segments and deletes its oldest past maxBytes, keeping the newest and other replicas\' files', async () => {
    const other = await openLog({ replica: 'a-other' });
    await other.append([{ who: 'other', n: 0 }, { who: 'other', n: 1 }]);
    const otherFiles = await segmentsOf(dir, 'a-other');
    const otherBytes = await readFile(path.join(dir, otherFiles[0]!));

    const segmentBytes = 256;
    const maxBytes = 1024;
    const log = await openLog({ replica: 'b-main', segmentBytes, maxBytes });
    const pad = 'x'.repeat(40); // a line of about 70 bytes: a few per segment
    for (let n = 0; n < 60; n++) {
      await log.append([{ who: 'main', n, pad }]);
      expect(log.bytes, 'closed segments within maxBytes, plus the current one').to.be.at.most(maxBytes + segmentBytes);
    }

    const files = await segmentsOf(dir, 'b-main');
    expect(files.length).to.be.at.least(3);
    expect(files).to.not.include('b-main.00000001.log');
    expect(await sizeOf(dir, files)).to.equal(log.bytes);
    for (const name of files) expect((await stat(path.join(dir, name))).size, name).to.be.at.most(segmentBytes);

    const records = (await readAll([dir])) as { who: string; n: number }[];
    expect(records.slice(0, 2), 'replicas in name order').to.deep.equal([{ who: 'other', n: 0 }, { who: 'other', n: 1 }]);
    const kept = records.filter((r) => r.who === 'main').map((r) => r.n);
    expect(kept[0]).to.be.above(0);
    expect(kept, 'a contiguous run of the newest').to.deep.equal(Array.from({ length: 60 - kept[0]! }, (_, i) => kept[0]! + i));

    expect(await segmentsOf(dir, 'a-other')).to.deep.equal(otherFiles);
    expect(await readFile(path.join(dir, otherFiles[0]!))).to.deep.equal(otherBytes);
  });

  it('skips a torn tail and corrupted lines, and reads the records around them', async () => {
    const first = await openLog({ replica: 'r' });
    await first.append([{ n: 0 }, { n: 1 }, { n: 2 }]);
    await first.close();
    const segment1 = path.join(dir, 'r.00000001.log');
    await appendFile(
      segment1,
      'deadbeef {"n":"wrong crc"}\n' + line('{"n":3}') + line('{"n":') + line('{"n":4}') + '0123abcd {"n":"torn',
    );

    const second = await openLog({ replica: 'r' });
    await second.append([{ n: 5 }]);
    await second.close();
    // A whole line, checksum right, but its newline never written: never acknowledged.
    await appendFile(path.join(dir, 'r.00000002.log'), line('{"n":"no newline"}').trimEnd());

    expect(await readAll([dir])).to.deep.equal([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
  });

  it('locks a replica: a second open fails naming the pid; after close, or over a dead pid\'s lock, it opens', async () => {
    const lockFile = path.join(dir, 'r.lock');
    const log = await openLog({ replica: 'r' });
    expect((await rejection(FeedbackLog.open(dir, { replica: 'r' }))).message).to.include(`live process ${process.pid}`);
    await log.close();
    await (await openLog({ replica: 'r' })).close();

    await writeFile(lockFile, `${process.ppid}\n`);
    expect((await rejection(FeedbackLog.open(dir, { replica: 'r' }))).message).to.include(`live process ${process.ppid}`);

    await writeFile(lockFile, `${DEAD_PID}\n`);
    const again = await openLog({ replica: 'r' });
    expect(await readFile(lockFile, 'utf8')).to.equal(`${process.pid}\n`);
    await again.close();
    expect(await readdir(dir)).to.not.include('r.lock');
  });

  it('a failed sync rejects its batch, and the next append goes on in a new segment', async () => {
    const log = await openLog({ replica: 'r' });
    await log.append([{ n: 0 }]);
    const failure = await withDatasync(
      () => Promise.reject(new Error('EIO: injected')),
      () => rejection(log.append([{ n: 1 }])),
    );
    expect(failure.message).to.include('EIO: injected');
    await log.append([{ n: 2 }]);
    await log.close();

    expect(await segmentsOf(dir, 'r')).to.deep.equal(['r.00000001.log', 'r.00000002.log']);
    // The unsynced record may be there (more than acknowledged is allowed); the others must.
    const ns = (await readAll([dir])).map((r) => (r as { n: number }).n);
    expect(ns.filter((n) => n !== 1)).to.deep.equal([0, 2]);
  });

  it('rejects bad options, records that are not JSON objects, and missing dirs', async () => {
    expect((await rejection(FeedbackLog.open(dir, { replica: '../r' }))).message).to.match(/replica must match/);
    expect((await rejection(FeedbackLog.open(dir, { replica: 'r', segmentBytes: 0 }))).message).to.match(/segmentBytes/);
    const log = await openLog({ replica: 'r' });
    expect((await rejection(log.append([{ n: 0 }, new Date(0)]))).message).to.match(/record 1 /);
    const missing = path.join(dir, 'nope');
    expect((await rejection(readAll([dir, missing]))).message).to.include(missing);
  });

  it('keeps every acknowledged record through kill -9, and a restart takes the dead writer\'s lock over', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, 'writer'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const acknowledged: number[] = [];
    let partial = '';
    let killed = false;
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop()!; // a number printed in part is not counted
        for (const printed of lines) acknowledged.push(Number(printed));
        if (acknowledged.length >= 300 && !killed) {
          killed = true;
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code, signal) => {
        if (!killed) reject(new Error(`writer exited (${code ?? signal}) after ${acknowledged.length} acknowledgements: ${stderr}`));
      });
    });
    await closed; // every line printed before the kill has been read

    expect(await readFile(path.join(dir, 'writer.lock'), 'utf8'), 'the dead writer\'s lock').to.equal(`${child.pid}\n`);
    const onDisk = new Set((await readAll([dir])).map((r) => (r as { n: number }).n));
    const lost = acknowledged.filter((n) => !onDisk.has(n));
    expect(lost, 'acknowledged but not on disk').to.deep.equal([]);

    const restarted = await openLog({ replica: 'writer' });
    await restarted.append([{ n: -1 }]);
    await restarted.close();
    const after = (await readAll([dir])).map((r) => (r as { n: number }).n);
    expect(after.at(-1)).to.equal(-1);
  });
});
