/**
 * Bottlenecks of the tiny window task's head (test/fixtures/tiny/zoo/tiny-window/heads/motion-bn),
 * made as a device makes them: a synthetic window run through the committed head.
 */
import path from 'node:path';
import { openOnnxEncoder } from '../../src/zoo/onnx.js';
import { SPLIT_SEEDS, TINY_WINDOW, tinyWindows } from './tiny-data.js';

export const TINY_HEAD = Object.freeze({
  task: TINY_WINDOW.task,
  id: 'motion-bn',
  dir: path.join('test/fixtures/tiny/zoo', TINY_WINDOW.task, 'heads', 'motion-bn'),
  shape: [2, 3],
  tails: ['tail-x', 'tail-all'],
});

/** The head's uint8 codes of `count` test windows, with their labels. */
export function tinyBottlenecks(count: number): { codes: Uint8Array[]; labels: number[] } {
  const windows = tinyWindows(count, SPLIT_SEEDS.test);
  const head = openOnnxEncoder(path.join(TINY_HEAD.dir, 'head.onnx'), { intraOpThreads: 1 });
  try {
    return { codes: windows.inputs.map((w) => Uint8Array.from(head.run(w, [1, TINY_WINDOW.length, TINY_WINDOW.channels]))), labels: windows.labels };
  } finally {
    head.dispose();
  }
}

/** `codes` as v1's `input.bottleneck` carries them. */
export const base64 = (codes: Uint8Array) => Buffer.from(codes).toString('base64');
