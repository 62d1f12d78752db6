/**
 * How much accuracy a routing can vouch for on inputs it has not seen: one-sided 95% lower bounds
 * on an accuracy measured on the premodel split. Calibration serves a target only from points whose
 * bound reaches it, so that a target holds on new data, not only where it was measured.
 *
 * The bounds are prediction bounds: they hold for the accuracy measured on a new sample (the
 * evaluation split, a day of traffic), which has its own sampling error, not for the accuracy on
 * infinitely many inputs. Between two shares of n rows each, the difference varies twice as much
 * as one share does about the truth; a bound for the truth alone missed targets by up to 0.75 pt
 * on Fashion-MNIST's test split.
 */
import { wilsonLowerBound, Z_95 } from '../quality/wilson.js';

/** Student's t quantile of a one-sided 95% bound with `df` degrees of freedom (Cornish-Fisher, first order). */
function t95(df: number): number {
  return Z_95 + (Z_95 ** 3 + Z_95) / (4 * df);
}

/**
 * Lower bound of the accuracy of per-row outcomes `right` (1 right, 0 wrong). Rows of one group (a
 * volunteer) are alike, so with groups the bound also allows for the spread between groups, for
 * one new group: a wearer of the service is one person, whose accuracy may differ from the mean of
 * the G measured ones by t * s * sqrt(1 + 1/G), more than the mean of as many new groups as were
 * measured may (sqrt(2/G)). Without groups, rows count as independent.
 */
export function accuracyLowerBound(right: ArrayLike<number>, groups?: readonly number[]): number {
  const n = right.length;
  let hits = 0;
  for (let i = 0; i < n; i++) hits += right[i]!;
  const share = n === 0 ? 0 : hits / n;
  // A new sample as large as the measured one: the Wilson bound at half the rows has the variance
  // of the difference of the two shares.
  const rowBound = wilsonLowerBound(share, n / 2);
  if (groups === undefined) return rowBound;
  const perGroup = new Map<number, { hits: number; rows: number }>();
  for (let i = 0; i < n; i++) {
    const g = perGroup.get(groups[i]!) ?? { hits: 0, rows: 0 };
    g.hits += right[i]!;
    g.rows += 1;
    perGroup.set(groups[i]!, g);
  }
  const accuracies = [...perGroup.values()].map((g) => g.hits / g.rows);
  const count = accuracies.length;
  if (count < 2) return rowBound;
  const mean = accuracies.reduce((a, b) => a + b, 0) / count;
  const spread = Math.sqrt(accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / (count - 1));
  return Math.max(0, Math.min(rowBound, share - t95(count - 1) * spread * Math.sqrt(1 + 1 / count)));
}
