/**
 * The labelled data behind each task, as the profiler, premodel training and evaluation read it:
 * the premodel split and the test split. The built-in tasks read their public data sets; any other
 * task (a zoo a team brought with `npm run add-task`) reads the folder layout of folder.ts.
 */
import { ImageInput } from '../../inputs/image/decode.js';
import { WindowInput } from '../../inputs/window/decode.js';
import { FASHION_DEFAULT_DIR, loadFashionSplits, type ImageSet } from './fashion.js';
import { folderFormatOf, loadFolderSplits } from './folder.js';
import { loadHaptSplits, type WindowSet } from './hapt.js';
import type { EvaluationSplits, LabelledInputs } from './splits.js';

export { EVALUATION_SPLITS, type EvaluationSplits, type LabelledInputs, type SplitName } from './splits.js';

/** What a data set reader needs to know of its task. */
export interface TaskData {
  task: string;
  kind: string;
  classes: readonly string[];
}

export interface Dataset {
  /** Where the data lives unless a script is told otherwise (`--data`); none for a brought task. */
  defaultDir?: string;
  load(dir: string, task: TaskData): Promise<EvaluationSplits>;
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
      return { premodel: windowInputs(splits.premodel), test: windowInputs(splits.test), zoo: windowInputs(splits.zoo) };
    },
  },
});

/** A brought task's data: premodel/ and test/ folders of images, or premodel.jsonl and test.jsonl. */
export const FOLDER_DATASET: Dataset = Object.freeze({
  load: (dir: string, task: TaskData) => loadFolderSplits(dir, task.classes, task.kind),
});

export function datasetOf(task: string): Dataset {
  return DATASETS[task] ?? FOLDER_DATASET;
}

/** The splits of `task` from `dir` (in the folder layout, or its data set's own), or from its data set's own folder. */
export function loadSplits(task: TaskData, dir: string | undefined): Promise<EvaluationSplits> {
  const dataset = dir !== undefined && folderFormatOf(dir) !== undefined ? FOLDER_DATASET : datasetOf(task.task);
  const from = dir ?? dataset.defaultDir;
  if (from === undefined) {
    throw new Error(`task "${task.task}" is not a built-in data set: give --data DIR (its premodel and test parts, as npm run add-task took them)`);
  }
  return dataset.load(from, task);
}
