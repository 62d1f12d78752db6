import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ImportError, modelIdOf, planImport, writeImport, type ImportRequest } from '../../../src/pipeline/import/index.js';
import { buildTask, DEFAULT_PREMODEL_OPTIONS } from '../../../src/pipeline/task-steps.js';
import { linearModel, writeBroughtImageZoo, writeBroughtWindowZoo, type BroughtZoo } from '../../helpers/brought-zoo.js';
import { loadPlane, postBytes, postJson, request, startServer, syntheticImage, windowArray, type TestServer } from '../../http/server.js';

const QUICK_PROFILE = { intraOpThreads: 1, runs: 3, warmupRuns: 1 };

function requestFor(zoo: BroughtZoo, out: string, task: string, extra: Partial<ImportRequest> = {}): ImportRequest {
  return { task, modelsDir: zoo.models, dataDir: zoo.data, outDir: out, hints: {}, replace: false, ...extra };
}

/** The problems planImport reports for `req` (it must refuse). */
async function problemsOf(req: ImportRequest): Promise<readonly string[]> {
  try {
    await planImport(req);
  } catch (err) {
    if (err instanceof ImportError) return err.problems;
    throw err;
  }
  throw new Error('the import was not refused');
}

async function importAndBuild(zoo: BroughtZoo, out: string, task: string): Promise<string[]> {
  const plan = await planImport(requestFor(zoo, out, task));
  await writeImport(plan);
  const said: string[] = [];
  await buildTask(plan.paths, plan.splits, { profile: QUICK_PROFILE, premodel: DEFAULT_PREMODEL_OPTIONS, command: `npm run add-task -- --task ${task}` }, (l) => said.push(l));
  return said;
}

describe('pipeline/import (a zoo brought as files becomes a served task)', function () {
  this.timeout(120_000);
  let root: string;
  let images: BroughtZoo;
  let windows: BroughtZoo;
  let out: string;
  let server: TestServer;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'adaptive-zoo-import-'));
    images = await writeBroughtImageZoo(path.join(root, 'images'));
    windows = await writeBroughtWindowZoo(path.join(root, 'windows'));
    out = path.join(root, 'out');
    await importAndBuild(images, out, 'brought-images');
    await importAndBuild(windows, out, 'brought-windows');
    server = await startServer({}, {}, () => loadPlane({ zooDir: path.join(out, 'zoo'), premodelDir: path.join(out, 'premodel') }));
  });

  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reads each graph: kind, size, layout, channels, output kind; zoo.json adds compression and views', async () => {
    const manifest = JSON.parse(await readFile(path.join(out, 'zoo', 'brought-images', 'manifest.json'), 'utf8'));
    const byId = Object.fromEntries(manifest.models.map((m: { id: string }) => [m.id, m]));
    expect(Object.keys(byId).sort()).to.deep.equal(['columns', 'edges', 'flat', 'nhwc', 'pixels']);
    expect(byId.nhwc.input.shape).to.deep.equal([10, 12, 3]);
    expect(byId.nhwc.input.preprocessing).to.include({ width: 12, height: 10, channels: 3, layout: 'nhwc' });
    expect(byId.flat.input.preprocessing).to.include({ layout: 'flat', channels: 3 });
    expect(byId.flat.output.kind).to.equal('probabilities');
    expect(byId.pixels.output.kind).to.equal('logits');
    expect(byId.pixels.input.preprocessing).to.not.have.property('layout');
    expect(byId.columns.compression).to.deep.equal({ method: 'pruned', parent: 'edges' });
    expect(byId.edges.testTimeAugmentation).to.deep.equal(['mirror']);
    expect(byId.pixels.parameters).to.be.above(0);
    expect(byId.pixels.accuracy.test).to.be.within(0, 1);
    const window = JSON.parse(await readFile(path.join(out, 'zoo', 'brought-windows', 'manifest.json'), 'utf8'));
    const conv = window.models.find((m: { id: string }) => m.id === 'conv1d');
    expect(conv.input.shape).to.deep.equal([3, 40]);
    expect(conv.input.preprocessing).to.include({ length: 40, channels: 3, sampleRateHz: 20, layout: 'channels-first' });
  });

  it('writes a report that compares the premodel with every single model, the cascades and the oracle', async () => {
    const report = await readFile(path.join(out, 'reports', 'brought-images.md'), 'utf8');
    for (const model of ['pixels', 'columns', 'edges', 'flat', 'nhwc']) expect(report).to.contain(model);
    expect(report).to.match(/oracle/i);
    expect(report).to.match(/cascade/i);
    expect(existsSync(path.join(out, 'reports', 'brought-windows.md'))).to.equal(true);
  });

  it('serves both: GET /v1/tasks lists them, predict routes them, the v2 routes infer', async () => {
    const tasks = (await request(`${server.base}/v1/tasks`)).body.tasks.map((t: { task: string }) => t.task);
    expect(tasks).to.include.members(['brought-images', 'brought-windows']);
    const routed = await postBytes(`${server.base}/v1/tasks/brought-images/predict?minAccuracy=0.5`, await syntheticImage(60, 50, 'jpeg'), 'image/jpeg');
    expect(routed.status, routed.text).to.equal(200);
    expect(['square', 'rows', 'columns']).to.include(routed.body.label);
    expect(['pixels', 'columns', 'edges', 'flat', 'nhwc']).to.include(routed.body.model.split('+')[0]);
    const window = await postJson(`${server.base}/v1/tasks/brought-windows/predict`, { input: { window: windowArray(40, 3) } });
    expect(window.status, window.text).to.equal(200);
    const forced = await postJson(`${server.base}/v1/tasks/brought-windows/predict`, { input: { window: windowArray(40, 3) }, model: 'conv1d' });
    expect(forced.status, forced.text).to.equal(200);
    expect(forced.body.model).to.equal('conv1d');
    const meta = await request(`${server.base}/v2/models/brought-windows`);
    expect(meta.status, meta.text).to.equal(200);
    const input = meta.body.inputs[0];
    const samples = windowArray(40, 3);
    // The task's tensor is laid out as its first model takes it: samples by channels, or channels by samples.
    const data = input.shape[1] === 40 ? samples.flat() : [0, 1, 2].flatMap((c) => samples.map((s) => s[c]!));
    const inferred = await postJson(`${server.base}/v2/models/brought-windows/infer`, { inputs: [{ name: input.name, shape: [1, ...input.shape.slice(1)], datatype: 'FP32', data }] });
    expect(inferred.status, inferred.text).to.equal(200);
  });

  it('derives model ids from file names', () => {
    expect(modelIdOf('ResNet18_int8.onnx')).to.equal('resnet18_int8');
    expect(modelIdOf('My Model (v2).onnx')).to.equal('my-model-v2-');
  });

  describe('refuses before any long work, one line a problem, writing nothing', () => {
    let bad: string;
    beforeEach(async () => {
      bad = await mkdtemp(path.join(root, 'bad-'));
    });

    it('a model whose output size differs from the labels', async () => {
      const models = path.join(bad, 'models');
      await mkdir(models);
      await writeFile(path.join(models, 'labels.txt'), 'square\nrows\ncolumns\n');
      await writeFile(path.join(models, 'four.onnx'), linearModel({ name: 'x', shape: ['n', 360] }, 360, 4, { seed: 1, reshape: false }));
      const problems = await problemsOf({ ...requestFor(images, bad, 'four'), modelsDir: models });
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/model "four".* 4 scores; labels.txt names 3 classes/);
    });

    it('an input it cannot feed', async () => {
      const models = path.join(bad, 'models');
      await mkdir(models);
      await writeFile(path.join(models, 'labels.txt'), 'square\nrows\ncolumns\n');
      await writeFile(path.join(models, 'five.onnx'), linearModel({ name: 'x', shape: ['n', 5, 10, 12] }, 600, 3, { seed: 1 }));
      const windowModels = path.join(bad, 'window-models');
      await mkdir(windowModels);
      await writeFile(path.join(windowModels, 'labels.txt'), 'still\nwalk\nrun\n');
      await writeFile(path.join(windowModels, 'long.onnx'), linearModel({ name: 'w', shape: ['n', 64, 3] }, 192, 3, { seed: 1 }));
      await writeFile(path.join(windowModels, 'zoo.json'), JSON.stringify({ preprocessing: { sampleRateHz: 20 } }));
      expect(await problemsOf({ ...requestFor(images, bad, 'five'), modelsDir: models })).to.deep.equal([
        'model "five" (five.onnx): input [5, 10, 12] (after the batch) is not an image input: [channels, height, width], [height, width, channels] (1 or 3 channels) or a flat [channels * height * width]',
      ]);
      const [problem, ...rest] = await problemsOf({ ...requestFor(windows, bad, 'long'), modelsDir: windowModels });
      expect(rest).to.deep.equal([]);
      expect(problem).to.match(/model "long".*input \[64, 3\].*does not take the data's windows of 40 samples x 3 channels/);
    });

    it('a window zoo without its sample rate, and a zoo.json that says what cannot be', async () => {
      const models = path.join(bad, 'models');
      await mkdir(models);
      await writeFile(path.join(models, 'labels.txt'), 'still\nwalk\nrun\n');
      await writeFile(path.join(models, 'w.onnx'), linearModel({ name: 'w', shape: ['n', 40, 3] }, 120, 3, { seed: 1 }));
      expect(await problemsOf({ ...requestFor(windows, bad, 'rate'), modelsDir: models })).to.deep.equal([
        'model "w" (w.onnx): windows need the rate they were sampled at: --sample-rate HZ, or preprocessing.sampleRateHz in zoo.json',
      ]);
      await writeFile(path.join(models, 'zoo.json'), JSON.stringify({ preprocessing: { sampleRateHz: 20, colour: true } }));
      expect((await problemsOf({ ...requestFor(windows, bad, 'rate'), modelsDir: models }))[0]).to.match(/zoo.json: \/preprocessing has an unknown field "colour"/);
      await writeFile(path.join(models, 'zoo.json'), JSON.stringify({ preprocessing: { sampleRateHz: 20 }, models: { ghost: {}, w: { compression: { method: 'pruned', parent: 'nobody' } } } }));
      expect(await problemsOf({ ...requestFor(windows, bad, 'rate'), modelsDir: models })).to.deep.equal([
        'zoo.json describes a model "ghost" that has no .onnx file (models: w)',
        'zoo.json: model "w": parent "nobody" is not a model of this zoo',
      ]);
    });

    it('a class folder not in labels.txt, an empty part, a file that is not an image', async () => {
      const data = path.join(bad, 'data');
      await mkdir(path.join(data, 'premodel', 'circles'), { recursive: true });
      await writeFile(path.join(data, 'premodel', 'circles', 'a.png'), await syntheticImage(12, 10));
      await mkdir(path.join(data, 'premodel', 'rows'), { recursive: true });
      await writeFile(path.join(data, 'premodel', 'rows', 'notes.txt'), 'hello');
      await writeFile(path.join(data, 'premodel', 'rows', 'broken.png'), 'not a png');
      await mkdir(path.join(data, 'test'));
      const problems = await problemsOf({ ...requestFor(images, bad, 'folders'), dataDir: data });
      expect(problems).to.have.length(4);
      expect(problems[0]).to.match(/premodel\/circles\/: "circles" is not a class of labels.txt \(square, rows, columns\)/);
      expect(problems[1]).to.match(/notes.txt is not a PNG, JPEG or WebP file/);
      expect(problems[2]).to.match(/broken.png cannot be decoded as an image/);
      expect(problems[3]).to.match(/test\/ holds no images: the test part is empty/);
    });

    it('windows: a bad line (file:line), a label not in labels.txt, groups given for some only', async () => {
      const data = path.join(bad, 'data');
      await mkdir(data);
      const good = (label: string, group?: string) => JSON.stringify({ window: windowArray(40, 3), label, ...(group === undefined ? {} : { group }) });
      await writeFile(path.join(data, 'premodel.jsonl'), [good('walk', 'a'), '{"window": [[1, 2]', good('fly', 'a'), good('run')].join('\n'));
      await writeFile(path.join(data, 'test.jsonl'), '');
      const problems = await problemsOf({ ...requestFor(windows, bad, 'lines'), dataDir: data });
      expect(problems).to.deep.equal([
        `${path.join(data, 'premodel.jsonl')}:2: is not JSON`,
        `${path.join(data, 'premodel.jsonl')}:3: label "fly" is not a class of labels.txt (still, walk, run)`,
        `${path.join(data, 'premodel.jsonl')}: 1 windows have no group while 1 have one: give every window a group, or none`,
        `${path.join(data, 'test.jsonl')} holds no windows: the test part is empty`,
      ]);
    });

    it('a task name taken, unless replaced; a bad task name; no labels', async () => {
      const taken = await problemsOf(requestFor(images, out, 'brought-images'));
      expect(taken).to.deep.equal([`${path.join(out, 'zoo', 'brought-images')} already holds a task "brought-images": choose another name, or --replace it`]);
      const models = path.join(bad, 'models');
      await mkdir(models);
      const problems = await problemsOf({ ...requestFor(images, bad, 'Bad_Name'), modelsDir: models });
      expect(problems[0]).to.match(/--task "Bad_Name" must be lower case/);
      expect(problems[1]).to.match(/labels.txt is missing/);
      expect(problems[2]).to.match(/holds no .onnx file/);
    });

    it('as a command: each problem on its own line on stderr, exit 2, nothing written', () => {
      const target = path.join(bad, 'out');
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/add-task.ts', '--task', 'cmd', '--models', images.models, '--data', path.join(bad, 'nowhere'), '--out', target], { encoding: 'utf8' });
      expect(result.status, result.stderr).to.equal(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines[0]).to.equal(`npm run add-task --: the data folder ${path.join(bad, 'nowhere')} does not exist`);
      expect(lines.at(-1)).to.equal('npm run add-task --: nothing was written (1 problem)');
      expect(existsSync(target)).to.equal(false);
    });
  });
});
