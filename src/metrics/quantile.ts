// The one quantile rule the project uses: linear interpolation between order statistics (numpy's
// default). The bootstrap's percentile intervals and the bench's medians and p90s both read it.

/** The value at quantile q (0..1) of ascending `sorted`, interpolating linearly between ranks. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantile: no samples');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
