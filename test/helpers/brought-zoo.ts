/**
 * A zoo as a team brings it to `npm run add-task`, written into a temporary folder: the tiny
 * fixture's ONNX files (channels-first), plus models the test writes in the other layouts (an
 * NHWC image model, a flat one ending in a Softmax; a channels-first window model), labels.txt,
 * zoo.json, and labelled data files (PNG folders per class, or JSON Lines of windows).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../../src/inputs/image/decode.js';
import { seededRandom } from '../../src/premodel/forest.js';
import { floats, int64s, onnxModel, type GraphNode, type TensorValue } from './onnx.js';
import { SPLIT_SEEDS, TINY_IMAGE, TINY_WINDOW, tinyImages, tinyWindows } from './tiny-data.js';

const FIXTURE = 'test/fixtures/tiny/zoo';

export interface BroughtZoo {
  models: string;
  data: string;
}

/** A linear classifier of `input` (after `reshape` to [batch, features]), random but seeded; `softmax` ends it in probabilities. */
export function linearModel(input: { name: string; shape: readonly (number | string)[] }, features: number, classes: number, options: { seed: number; softmax?: boolean; reshape?: boolean }): Uint8Array {
  const random = seededRandom(options.seed);
  const nodes: GraphNode[] = [];
  const initializers: TensorValue[] = [floats('weights', [classes, features], Array.from({ length: classes * features }, () => random() - 0.5)), floats('bias', [classes], new Array(classes).fill(0))];
  let flat = input.name;
  if (options.reshape !== false) {
    nodes.push({ op: 'Reshape', inputs: [input.name, 'flat_shape'], outputs: ['flat'] });
    initializers.push(int64s('flat_shape', [-1, features]));
    flat = 'flat';
  }
  nodes.push({ op: 'Gemm', inputs: [flat, 'weights', 'bias'], outputs: [options.softmax === true ? 'scores' : 'logits'], attributes: { transB: 1 } });
  if (options.softmax === true) nodes.push({ op: 'Softmax', inputs: ['scores'], outputs: ['probabilities'], attributes: { axis: 1 } });
  return onnxModel({ input, output: { name: options.softmax === true ? 'probabilities' : 'logits', shape: ['batch', classes] }, nodes, initializers });
}

/** Tiny 12x10 colour images of 3 classes: the fixture's three models and two of other layouts; `perPart` images per part. */
export async function writeBroughtImageZoo(dir: string, perPart = 45): Promise<BroughtZoo> {
  const models = path.join(dir, 'models');
  const data = path.join(dir, 'data');
  await mkdir(models, { recursive: true });
  for (const id of ['pixels', 'columns', 'edges']) await copyFile(path.join(FIXTURE, 'tiny-image', `${id}.onnx`), path.join(models, `${id}.onnx`));
  const { width, height, channels, classes } = TINY_IMAGE;
  const size = width * height * channels;
  await writeFile(path.join(models, 'NHWC.onnx'), linearModel({ name: 'pixels_hwc', shape: ['n', height, width, channels] }, size, classes.length, { seed: 5 }));
  await writeFile(path.join(models, 'flat.onnx'), linearModel({ name: 'x', shape: ['n', size] }, size, classes.length, { seed: 6, softmax: true, reshape: false }));
  await writeFile(path.join(models, 'labels.txt'), `${classes.join('\n')}\n`);
  const spec = { models: { columns: { compression: { method: 'pruned', parent: 'edges' } }, edges: { description: 'the dear one', testTimeAugmentation: ['mirror'] } } };
  await writeFile(path.join(models, 'zoo.json'), JSON.stringify(spec, null, 2));
  for (const [part, seed] of [['premodel', SPLIT_SEEDS.premodel], ['test', SPLIT_SEEDS.test]] as const) {
    const set = tinyImages(perPart, seed);
    for (const name of classes) await mkdir(path.join(data, part, name), { recursive: true });
    await Promise.all(set.inputs.map(async (image, i) => writeFile(path.join(data, part, classes[set.labels[i]!]!, `${i}.png`), await encodePng(image))));
  }
  return { models, data };
}

/** Tiny 40 x 3 windows at 20 Hz of 3 classes: the fixture's three models and a channels-first one; windows with groups. */
export async function writeBroughtWindowZoo(dir: string, perPart = 60): Promise<BroughtZoo> {
  const models = path.join(dir, 'models');
  const data = path.join(dir, 'data');
  await mkdir(models, { recursive: true });
  await mkdir(data, { recursive: true });
  for (const id of ['one-axis', 'variance', 'motion']) await copyFile(path.join(FIXTURE, 'tiny-window', `${id}.onnx`), path.join(models, `${id}.onnx`));
  const { length, channels, sampleRateHz, classes } = TINY_WINDOW;
  await writeFile(path.join(models, 'conv1d.onnx'), linearModel({ name: 'signal', shape: ['n', channels, length] }, length * channels, classes.length, { seed: 7 }));
  await writeFile(path.join(models, 'labels.txt'), classes.join('\n'));
  await writeFile(path.join(models, 'zoo.json'), JSON.stringify({ preprocessing: { sampleRateHz, channelNames: ['x', 'y', 'z'] } }));
  for (const [part, seed] of [['premodel', SPLIT_SEEDS.premodel], ['test', SPLIT_SEEDS.test]] as const) {
    const set = tinyWindows(perPart, seed);
    const lines = set.inputs.map((w, i) => {
      const window = Array.from({ length }, (_, t) => Array.from(w.subarray(t * channels, (t + 1) * channels)));
      return JSON.stringify({ window, label: classes[set.labels[i]!], group: `person-${set.groups![i]}` });
    });
    await writeFile(path.join(data, `${part}.jsonl`), `${lines.join('\n')}\n`);
  }
  return { models, data };
}
