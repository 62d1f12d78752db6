import { expect } from 'chai';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  HAPT_VOLUNTEERS, HAR_CHANNELS, HAR_CLASSES, HaptFormatError, SAMPLE_RATE_HZ, WINDOW_LENGTH, WINDOW_STRIDE,
  loadHaptSplits, splitOfVolunteer,
} from '../../../src/pipeline/datasets/hapt.js';

/**
 * A tiny HAPT-format folder. Sample i (0-based) of experiment e encodes its origin in every value:
 * acc = [e*1e5 + i, i + 0.25, i + 0.5], gyro = [-(i), -(i + 0.25), -(i + 0.5)], so a window shows
 * which samples it holds and in which channel order.
 */
async function writeRecording(raw: string, exp: number, user: number, rows: number): Promise<void> {
  const acc: string[] = [];
  const gyro: string[] = [];
  for (let i = 0; i < rows; i++) {
    acc.push(`${exp * 1e5 + i} ${i + 0.25} ${i + 0.5}`);
    gyro.push(`${-i} ${-(i + 0.25)} ${-(i + 0.5)}`);
  }
  const name = `exp${String(exp).padStart(2, '0')}_user${String(user).padStart(2, '0')}.txt`;
  await writeFile(path.join(raw, `acc_${name}`), acc.join('\n') + '\n');
  await writeFile(path.join(raw, `gyro_${name}`), gyro.join('\n') + '\n');
}

describe('HAPT windows (src/pipeline/datasets/hapt.ts)', () => {
  let dir: string;
  let raw: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hapt-test-'));
    raw = path.join(dir, 'RawData');
    await mkdir(raw);
    // user 1 (zoo), 5 (premodel), 2 (test); user 99 is in no split.
    await writeRecording(raw, 1, 1, 1000);
    await writeRecording(raw, 2, 5, 400);
    await writeRecording(raw, 3, 2, 400);
    await writeRecording(raw, 4, 99, 400);
    const labels = [
      '1 1 5 1 319', // standing, 319 samples: starts 0, 64, 128 (a window at 192 would end at 319)
      '1 1 7 320 400', // stand-to-sit transition: skipped
      '1 1 4 401 528', // sitting, exactly 128 samples: one window
      '1 1 6 529 655', // laying, 127 samples: no window
      '2 5 1 11 200', // walking, 190 samples: one window starting at sample 10
      '3 2 3 1 256', // downstairs, 256 samples: starts 0, 64, 128 (the last one ends exactly at 256)
      '4 99 1 1 300', // volunteer in no split: skipped
    ];
    await writeFile(path.join(raw, 'labels.txt'), labels.join('\n') + '\n');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exports the contract constants', () => {
    expect(HAR_CLASSES).to.deep.equal(['walking', 'upstairs', 'downstairs', 'sitting', 'standing', 'laying']);
    expect(HAR_CHANNELS).to.deep.equal(['acc_x', 'acc_y', 'acc_z', 'gyro_x', 'gyro_y', 'gyro_z']);
    expect(WINDOW_LENGTH).to.equal(128);
    expect(SAMPLE_RATE_HZ).to.equal(50);
    expect(WINDOW_STRIDE).to.equal(64);
  });

  it('cuts 128-sample windows with stride 64 inside segments and skips transitions', async () => {
    const { zoo } = await loadHaptSplits(dir);
    expect(zoo.windows).to.have.length(4);
    expect(zoo.labels).to.deep.equal([4, 4, 4, 3]); // standing x3, sitting x1; no laying (too short)
    expect(zoo.users).to.deep.equal([1, 1, 1, 1]);
    const starts = zoo.windows.map((w) => w[0]! - 1e5);
    expect(starts).to.deep.equal([0, 64, 128, 400]);
    for (const w of zoo.windows) expect(w).to.be.instanceOf(Float32Array).with.length(128 * 6);
  });

  it('keeps windows inside segment boundaries (1-based inclusive)', async () => {
    const { zoo, premodel } = await loadHaptSplits(dir);
    const sitting = zoo.windows[3]!;
    // segment 401..528 (1-based) is samples 400..527: the last row of the window is sample 527
    expect(sitting[127 * 6]! - 1e5).to.equal(527);
    expect(premodel.windows).to.have.length(1);
    expect(premodel.windows[0]![0]! - 2e5).to.equal(10);
    expect(premodel.labels).to.deep.equal([0]);
  });

  it('lays windows out time-major with acc x,y,z then gyro x,y,z', async () => {
    const { test } = await loadHaptSplits(dir);
    const w = test.windows[1]!; // starts at sample 64
    const t = 5;
    const row = Array.from(w.slice(t * 6, t * 6 + 6));
    const i = 64 + t;
    expect(row).to.deep.equal([3e5 + i, i + 0.25, i + 0.5, -i, -(i + 0.25), -(i + 0.5)]);
  });

  it('splits by volunteer into fixed, disjoint groups', async () => {
    const splits = await loadHaptSplits(dir);
    expect(splits.zoo.users.every((u) => u === 1)).to.equal(true);
    expect(splits.premodel.users).to.deep.equal([5]);
    expect(splits.test.users).to.deep.equal([2, 2, 2]);
    expect(splits.test.labels).to.deep.equal([2, 2, 2]);
    const all = [...HAPT_VOLUNTEERS.zoo, ...HAPT_VOLUNTEERS.premodel, ...HAPT_VOLUNTEERS.test];
    expect(new Set(all).size).to.equal(all.length);
    for (const u of [2, 9, 10, 13, 18]) expect(splitOfVolunteer(u)).to.equal('test');
    expect(splitOfVolunteer(99)).to.equal(undefined);
    // the 26 volunteers of the shared subset are all placed
    const present = [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 25, 26, 27, 28, 29, 30];
    for (const u of present) expect(splitOfVolunteer(u)).to.not.equal(undefined);
    expect(HAPT_VOLUNTEERS.zoo).to.have.length(14);
    expect(HAPT_VOLUNTEERS.premodel).to.have.length(7);
  });

  it('names the file of a malformed row', async () => {
    const file = path.join(raw, 'gyro_exp03_user02.txt');
    await writeFile(file, '0 0 0\n1 1\n');
    try {
      await loadHaptSplits(dir);
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(HaptFormatError);
      expect((err as Error).message).to.contain('gyro_exp03_user02.txt').and.contain('line 2');
    }
  });

  it('rejects non-numeric values and acc/gyro files of different lengths', async () => {
    await writeFile(path.join(raw, 'acc_exp02_user05.txt'), '0 0 x\n');
    await expectError(dir, 'acc_exp02_user05.txt');
    await writeRecording(raw, 2, 5, 400);
    await writeFile(path.join(raw, 'gyro_exp02_user05.txt'), '0 0 0\n');
    await expectError(dir, 'gyro_exp02_user05.txt');
  });

  it('names a missing folder, label file or recording', async () => {
    await expectError(path.join(dir, 'nope'), path.join(dir, 'nope', 'RawData'));
    await rm(path.join(raw, 'acc_exp03_user02.txt'));
    await expectError(dir, 'acc_exp03_user02.txt');
    await rm(path.join(raw, 'labels.txt'));
    await expectError(dir, 'labels.txt');
  });

  it('rejects a segment past the end of its recording', async () => {
    await writeFile(path.join(raw, 'labels.txt'), '2 5 1 300 401\n');
    await expectError(dir, 'labels.txt');
  });
});

async function expectError(dir: string, fragment: string): Promise<void> {
  try {
    await loadHaptSplits(dir);
  } catch (err) {
    expect(err).to.be.instanceOf(HaptFormatError);
    expect((err as Error).message).to.contain(fragment);
    return;
  }
  expect.fail(`expected an error naming ${fragment}`);
}
