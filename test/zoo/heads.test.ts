import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ArtifactError } from '../../src/errors/index.js';
import { loadManifest, manifestProblems } from '../../src/zoo/manifest.js';
import { loadHeads, loadZoo } from '../../src/zoo/repository.js';
import { TINY_HEAD } from '../helpers/bottleneck.js';

const TASK_DIR = path.dirname(path.dirname(TINY_HEAD.dir));
const sessions = { intraOpThreads: 1 };

/** The tiny window task copied to a temp folder, its head's manifest open to change. */
async function copyTask(): Promise<{ taskDir: string; headManifest: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-heads-'));
  const taskDir = path.join(root, TINY_HEAD.task);
  await cp(TASK_DIR, taskDir, { recursive: true });
  return { taskDir, headManifest: path.join(taskDir, 'heads', TINY_HEAD.id, 'manifest.json'), remove: () => rm(root, { recursive: true, force: true }) };
}

async function loadProblems(taskDir: string): Promise<string> {
  const task = await loadZoo(taskDir, sessions);
  try {
    const err = await loadHeads(task, sessions).then((heads) => {
      for (const h of heads) h.tails.dispose();
      return undefined;
    }, (e: unknown) => e);
    expect(err).to.be.instanceOf(ArtifactError);
    return (err as ArtifactError).message;
  } finally {
    task.dispose();
  }
}

describe('zoo: heads (split computing)', () => {
  it("loads a task's heads: the tails' zoo, frozen, the head checked and its bytes those its sha256 names", async () => {
    const task = await loadZoo(TASK_DIR, sessions);
    const heads = await loadHeads(task, sessions);
    try {
      expect(heads.map((h) => h.entry.id)).to.deep.equal([TINY_HEAD.id]);
      const [head] = heads;
      expect(Object.isFrozen(head!.entry.bottleneck)).to.equal(true);
      expect(head!.tails.models.map((m) => m.id)).to.deep.equal(TINY_HEAD.tails);
      expect(head!.tails.head).to.equal(head!.entry);
      expect(Buffer.from(head!.bytes).equals(await readFile(path.join(TINY_HEAD.dir, 'head.onnx')))).to.equal(true);
      expect(await loadHeads(await loadZoo('test/fixtures/tiny/zoo/tiny-image', sessions).then((z) => (z.dispose(), z)), sessions)).to.deep.equal([]);
    } finally {
      for (const h of heads) h.tails.dispose();
      task.dispose();
    }
  });

  it('holds a head manifest to its kind: a bottleneck zoo needs a head, tails take what the head gives, split is a method', async () => {
    const { manifest } = await loadManifest(TINY_HEAD.dir);
    const copy = JSON.parse(JSON.stringify(manifest));
    expect(manifestProblems(copy)).to.deep.equal([]);
    expect(manifestProblems({ ...copy, head: undefined })).to.deep.equal(['a zoo of kind bottleneck needs its "head"']);
    copy.models[0].input.preprocessing.zeroPoint = 3;
    expect(manifestProblems(copy)[0]).to.match(/^model "tail-x": takes a bottleneck \[2, 3\] at scale [\d.]+, zero point 3; the head gives \[2, 3\] at scale [\d.]+, zero point \d+$/);
    const windowZoo = (await loadManifest(TASK_DIR)).manifest;
    expect(manifestProblems({ ...windowZoo, head: manifest.head })).to.deep.equal([`head "${TINY_HEAD.id}": only a zoo of tails (kind bottleneck) has a head, not one of kind window`]);
  });

  it('refuses a head whose file changed, whose parent is not a model of the task, or whose graph does not give uint8', async () => {
    const copy = await copyTask();
    try {
      const original = await readFile(copy.headManifest, 'utf8');
      const manifest = JSON.parse(original);
      await writeFile(copy.headManifest, JSON.stringify({ ...manifest, head: { ...manifest.head, parent: 'nope' } }));
      expect(await loadProblems(copy.taskDir)).to.contain('head "motion-bn": parent "nope" is not a model of task "tiny-window" (its models: one-axis, variance, motion)');
      await writeFile(copy.headManifest, JSON.stringify({ ...manifest, head: { ...manifest.head, input: { ...manifest.head.input, preprocessing: { ...manifest.head.input.preprocessing, sampleRateHz: 50 } } } }));
      expect(await loadProblems(copy.taskDir)).to.contain('its input (shape and preprocessing) is not that of its parent "motion"');
      // A tail's file in place of the head: another hash, and a float32 output.
      const tail = manifest.models[0];
      await writeFile(copy.headManifest, JSON.stringify({ ...manifest, head: { ...manifest.head, file: 'head.onnx', sha256: tail.sha256, bytes: tail.bytes } }));
      await cp(path.join(copy.taskDir, 'heads', TINY_HEAD.id, tail.file), path.join(copy.taskDir, 'heads', TINY_HEAD.id, 'head.onnx'));
      const problems = await loadProblems(copy.taskDir);
      expect(problems).to.contain('input is named "bottleneck" in the ONNX file, "window" in the manifest');
      expect(problems).to.contain('ONNX output "logits" is not the manifest\'s "bottleneck"');
      await writeFile(copy.headManifest, original);
      expect(await loadProblems(copy.taskDir)).to.match(/head "motion-bn" \(head.onnx\): file has \d+ bytes, the manifest says \d+ \(file changed\?\)/);
    } finally {
      await copy.remove();
    }
  });
});
