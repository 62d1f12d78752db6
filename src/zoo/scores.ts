/**
 * What a classifier's output says: class probabilities from logits, and the top answer with its
 * confidence and margin over the runner-up (what the premodel's stage two and a confidence
 * cascade judge an answer by).
 */

/** Row-wise softmax, numerically stable (max subtracted). */
export function softmaxRows(values: Float32Array, width: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let row = 0; row < values.length; row += width) {
    let max = -Infinity;
    for (let i = row; i < row + width; i++) max = Math.max(max, values[i]!);
    let sum = 0;
    for (let i = row; i < row + width; i++) {
      const e = Math.exp(values[i]! - max);
      out[i] = e;
      sum += e;
    }
    for (let i = row; i < row + width; i++) out[i]! /= sum;
  }
  return out;
}

/** Top-1 index, its probability and the margin over the runner-up, of one probability row. */
export function topTwo(probabilities: ArrayLike<number>): { index: number; confidence: number; margin: number } {
  let best = 0;
  let second = -Infinity;
  for (let i = 1; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p > probabilities[best]!) {
      second = probabilities[best]!;
      best = i;
    } else if (p > second) {
      second = p;
    }
  }
  const confidence = probabilities[best]!;
  return { index: best, confidence, margin: confidence - (second === -Infinity ? 0 : second) };
}

/**
 * The class probabilities of the mean of two answers' logits (a model on an input and on a view
 * of it): the softmax of the mean log-probability, as a test-time augmentation graph averages
 * logits.
 */
export function averageLogits(a: Float32Array, b: Float32Array): Float32Array {
  const mean = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) mean[i] = (Math.log(Math.max(a[i]!, 1e-30)) + Math.log(Math.max(b[i]!, 1e-30))) / 2;
  return softmaxRows(mean, a.length);
}
