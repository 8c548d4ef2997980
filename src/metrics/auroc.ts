// Out-of-distribution AUROC (IVON.md §4): how well a score separates in-distribution examples
// (positives, expected to score higher — e.g. max-probability, or minus the entropy) from unknown
// ones. Mann–Whitney U with average ranks, so ties count one half.

/** P(score_in > score_out) + ½ P(tie). */
export function auroc(inDomain: ArrayLike<number>, outOfDomain: ArrayLike<number>): number {
  const nIn = inDomain.length;
  const nOut = outOfDomain.length;
  if (nIn === 0 || nOut === 0) throw new Error(`auroc: needs at least one in-domain and one out-of-domain score, got ${nIn} and ${nOut}`);
  const all: { score: number; positive: boolean }[] = [];
  for (let i = 0; i < nIn; i++) all.push({ score: inDomain[i], positive: true });
  for (let i = 0; i < nOut; i++) all.push({ score: outOfDomain[i], positive: false });
  for (const e of all) if (Number.isNaN(e.score)) throw new Error('auroc: scores must not be NaN');
  all.sort((a, b) => a.score - b.score);
  let rankSumIn = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].score === all[i].score) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let t = i; t <= j; t++) if (all[t].positive) rankSumIn += averageRank;
    i = j + 1;
  }
  return (rankSumIn - (nIn * (nIn + 1)) / 2) / (nIn * nOut);
}
