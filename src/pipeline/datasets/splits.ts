/** The two labelled parts every task's data set gives, premodel and test, in the form a request carries. */
import type { Input } from '../../inputs/kind.js';

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
  /**
   * The zoo's own training inputs, where a data set has people to cross-fit over
   * (pipeline/cross-fit.ts): never evaluated on, only measured by models that did not train on them.
   */
  zoo?: LabelledInputs;
}

/** The parts every task's data set gives. */
export type SplitName = 'premodel' | 'test';
export const EVALUATION_SPLITS: readonly SplitName[] = ['premodel', 'test'];
