/**
 * A split as clients send it: each input of the split encoded in a few of its kind's client
 * encodings (inputs/image/encode.ts), drawn with a seed so that each encoding gets its share, then
 * decoded by the service's own decoder. What the decoder saw of each row (its encoding group) is
 * what calibration vouches for separately. A kind without client encodings keeps its rows as they
 * are. The plan of rows (source and encoding of each) is stored in the outcome file, so that
 * premodel training and evaluation rebuild exactly the rows the profiler measured.
 */
import type { DecodeLimits, TaskInputs } from '../inputs/kind.js';
import { seededRandom } from '../premodel/forest.js';
import type { LabelledInputs } from './datasets/splits.js';

export interface RowPlan {
  /** Per row: the index of the split's input it encodes. */
  source: number[];
  /** Per row: the client encoding (an id of TaskInputs.clientEncodings). */
  encoding: string[];
}

/** Enough pixels for any image a client encoding makes of a data set's input. */
const LIMITS: DecodeLimits = { maxPixels: 1 << 24 };

/**
 * Every input in `perInput` of `encodings` (all of them when there are fewer), each encoding
 * taken in turn from a seeded shuffle, so that every encoding gets an equal share of the inputs.
 */
export function planRows(count: number, encodings: readonly string[], perInput: number, seed: number): RowPlan {
  const random = seededRandom(seed);
  const plan: RowPlan = { source: [], encoding: [] };
  const take = Math.min(perInput, encodings.length);
  let deck: string[] = [];
  for (let i = 0; i < count; i++) {
    const picked = new Set<string>();
    while (picked.size < take) {
      if (deck.length === 0) deck = shuffled(encodings, random);
      const next = deck.findIndex((e) => !picked.has(e));
      picked.add(deck.splice(next === -1 ? 0 : next, 1)[0]!);
    }
    for (const encoding of picked) {
      plan.source.push(i);
      plan.encoding.push(encoding);
    }
  }
  return plan;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The rows of `plan` over `split`: each source encoded as its row says, and decoded as a request is. */
export function clientRows(split: LabelledInputs, inputs: TaskInputs, plan: RowPlan): LabelledInputs {
  return {
    labels: plan.source.map((i) => split.labels[i]!),
    ...(split.groups === undefined ? {} : { groups: plan.source.map((i) => split.groups![i]!) }),
    sources: plan.source,
    async input(row) {
      const wire = await inputs.asWire(await split.input(plan.source[row]!), plan.encoding[row]);
      const input = await inputs.decode(wire, LIMITS);
      await inputs.prepare(input);
      return input;
    },
  };
}

/** The rows an outcome file was measured on: its plan of client encodings over `split`, or `split` as it is. */
export function rowsOfOutcomes(split: LabelledInputs, inputs: TaskInputs, rows: { encodings: readonly string[]; source: readonly number[]; encoding: readonly number[] } | undefined): LabelledInputs {
  if (rows === undefined) return split;
  return clientRows(split, inputs, { source: [...rows.source], encoding: rows.encoding.map((e) => rows.encodings[e]!) });
}
