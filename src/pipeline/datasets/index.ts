/**
 * The labelled data behind each task of the default zoo, as the profiler and premodel training
 * read it: the premodel split and the test split, each input in the form a request carries.
 * A team that brings its own zoo adds its loader here.
 */
import { ImageInput } from '../../inputs/image/decode.js';
import type { Input } from '../../inputs/kind.js';
import { WindowInput } from '../../inputs/window/decode.js';
import { FASHION_DEFAULT_DIR, loadFashionSplits, type ImageSet } from './fashion.js';
import { loadHaptSplits, type WindowSet } from './hapt.js';

export interface LabelledInputs {
  labels: readonly number[];
  /**
   * Who each input came from (a volunteer), where inputs of one person are alike: folds keep a
   * group together, and accuracy bounds allow for the spread between people.
   */
  groups?: readonly number[];
  /**
   * The original input each row was made from, where several rows encode one input (client
   * encodings): folds keep a source's rows together, so out-of-fold estimates never saw the input.
   */
  sources?: readonly number[];
  input(index: number): Input | Promise<Input>;
}

export interface EvaluationSplits {
  premodel: LabelledInputs;
  test: LabelledInputs;
}

export type SplitName = keyof EvaluationSplits;
export const EVALUATION_SPLITS: readonly SplitName[] = ['premodel', 'test'];

export interface Dataset {
  /** Where the data lives unless a script is told otherwise (`--data`). */
  defaultDir: string;
  load(dir: string): Promise<EvaluationSplits>;
}

function imageInputs(set: ImageSet): LabelledInputs {
  return { labels: set.labels, input: (i) => ImageInput.fromRaw(set.images[i]!) };
}

function windowInputs(set: WindowSet): LabelledInputs {
  return { labels: set.labels, groups: set.users, input: (i) => new WindowInput(set.windows[i]!) };
}

export const DATASETS: Readonly<Record<string, Dataset>> = Object.freeze({
  fashion: {
    defaultDir: FASHION_DEFAULT_DIR,
    async load(dir: string) {
      const splits = await loadFashionSplits(dir);
      return { premodel: imageInputs(splits.premodel), test: imageInputs(splits.test) };
    },
  },
  har: {
    defaultDir: '../shared/data/hapt',
    async load(dir: string) {
      const splits = await loadHaptSplits(dir);
      return { premodel: windowInputs(splits.premodel), test: windowInputs(splits.test) };
    },
  },
});

export function datasetOf(task: string): Dataset {
  const dataset = DATASETS[task];
  if (dataset === undefined) {
    throw new Error(`no data set is known for task "${task}"; known: ${Object.keys(DATASETS).join(', ')}`);
  }
  return dataset;
}
