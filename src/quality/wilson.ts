/** Wilson score bounds of a share of independent trials: what a labelled count vouches for. */

/** z of a one-sided 95% bound. */
export const Z_95 = 1.645;

/** Wilson score lower bound of a share `share` of `n` independent trials. */
export function wilsonLowerBound(share: number, n: number, z = Z_95): number {
  if (n <= 0) return 0;
  const z2 = z * z;
  const centre = share + z2 / (2 * n);
  const spread = z * Math.sqrt((share * (1 - share)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

/** Wilson score upper bound: the lower bound of the failures' share, turned over. */
export function wilsonUpperBound(share: number, n: number, z = Z_95): number {
  return n <= 0 ? 1 : 1 - wilsonLowerBound(1 - share, n, z);
}
