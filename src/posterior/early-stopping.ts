// Early stopping without a held-out split: after each epoch, estimate the leave-one-out loss of
// the training data from the posterior (perturbation.ts) and stop once it has not improved for
// `patience` epochs. Plugs into fit() as its onEpochEnd callback.
import { UsageError } from '../errors.js';
import type { GpuNetwork } from '../../gpu/nn/gpu-network.js';
import type { FitEpochInfo } from '../nn/fit.js';
import type { Network } from '../nn/network.js';
import type { PosteriorOptimizer } from './state.js';
import { leaveOneOut, type LeaveOneOutOptions, type PerturbationData } from './perturbation.js';

export interface LooEarlyStoppingOptions extends LeaveOneOutOptions {
  /** Epochs without a new best LOO loss before stopping (default 3). */
  patience?: number;
  /** Smallest decrease that counts as an improvement (default 0). */
  minDelta?: number;
}

export interface LooEarlyStopping {
  /** Pass as fit(..., { onEpochEnd }). */
  onEpochEnd: (info: FitEpochInfo) => Promise<void | 'stop'>;
  /** The LOO estimate after each epoch so far. */
  readonly history: { epoch: number; nll: number }[];
  /** The epoch with the lowest estimate so far (-1 before the first). */
  readonly bestEpoch: number;
}

export function looEarlyStopping(net: Network | GpuNetwork, opt: PosteriorOptimizer, data: PerturbationData, options: LooEarlyStoppingOptions = {}): LooEarlyStopping {
  const { patience = 3, minDelta = 0, ...looOptions } = options ?? {};
  if (!(Number.isInteger(patience) && patience >= 1)) throw new UsageError(`looEarlyStopping: patience must be a positive integer, got ${String(patience)}`);
  if (!(Number.isFinite(minDelta) && minDelta >= 0)) throw new UsageError(`looEarlyStopping: minDelta must be a finite number ≥ 0, got ${String(minDelta)}`);
  const history: { epoch: number; nll: number }[] = [];
  let best = Infinity;
  let bestEpoch = -1;
  return {
    history,
    get bestEpoch() {
      return bestEpoch;
    },
    async onEpochEnd(info) {
      const { nll } = await leaveOneOut(net, opt, data, looOptions);
      history.push({ epoch: info.epoch, nll });
      if (nll < best - minDelta) {
        best = nll;
        bestEpoch = info.epoch;
      }
      return info.epoch - bestEpoch >= patience ? 'stop' : undefined;
    },
  };
}
