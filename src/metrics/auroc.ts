// Out-of-distribution AUROC (IVON.md §4): how well a score separates in-distribution examples
// (positives, expected to score higher — e.g. max-probability, or minus the entropy) from unknown
// ones. The Mann–Whitney statistic with ties counting one half, counted by merging the two sorted
// score lists (numeric typed-array sorts, no per-element objects: the bootstrap calls this
// thousands of times).

/** P(score_in > score_out) + ½ P(tie). */
export function auroc(inDomain: ArrayLike<number>, outOfDomain: ArrayLike<number>): number {
  const nIn = inDomain.length;
  const nOut = outOfDomain.length;
  if (nIn === 0 || nOut === 0) throw new Error(`auroc: needs at least one in-domain and one out-of-domain score, got ${nIn} and ${nOut}`);
  const scoresIn = Float64Array.from(inDomain);
  const scoresOut = Float64Array.from(outOfDomain);
  if (scoresIn.some(Number.isNaN) || scoresOut.some(Number.isNaN)) throw new Error('auroc: scores must not be NaN');
  scoresIn.sort();
  scoresOut.sort();
  // For each out-score v (ascending): below = #in < v, upTo = #in ≤ v; both only grow.
  let below = 0;
  let upTo = 0;
  let wins = 0;
  for (const v of scoresOut) {
    while (below < nIn && scoresIn[below] < v) below++;
    while (upTo < nIn && scoresIn[upTo] <= v) upTo++;
    wins += nIn - upTo + 0.5 * (upTo - below);
  }
  return wins / (nIn * nOut);
}
