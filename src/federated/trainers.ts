// The `train` callbacks of a FederatedClient for this library's optimizers: start the round from
// the global posterior (mean; momentum reset; IVON keeps its own curvature h, which is what its data
// says and what its site is made of), run the user's local training (e.g. fit for E epochs), and
// return the optimizer's posterior. The prior a client trains against depends on the rule
// (docs/FEDERATED.md §2): 'product' — the run's base prior, which IVON's scalar weightDecay carries
// when ess_k·weightDecay = P₀; 'global-prior' — round r's global, set per element with setPrior.

import { UsageError } from '../errors.js';
import type { IVON } from '../optim/ivon.js';
import type { AdamW } from '../optim/adamw.js';
import type { OptimizerSnapshot } from '../optim/snapshot.js';
import { posteriorOf } from '../posterior/state.js';
import type { ParamPosterior, Posterior } from '../posterior/types.js';
import { clientPrior, roundPrior, type AggregationRule } from './aggregate.js';

/** Relative agreement required between the base prior and a client's ess·weightDecay ('product'). */
const PRIOR_TOLERANCE = 1e-5;

/** Restores `opt` with every parameter's mean set to the global's and momentum (and AdamW's second moment) zeroed. */
async function startFrom(opt: IVON | AdamW, global: Posterior, resetStep: boolean): Promise<void> {
  const snapshot = await opt.snapshot();
  for (const [name, t] of Object.entries(snapshot.tensors)) {
    const g = global.params[name];
    if (!g) throw new UsageError(`federated trainer: the global posterior has no '${name}'; the client's model must match the coordinator's`);
    if (g.mean.length !== t.mean.length) throw new UsageError(`federated trainer: '${name}' has ${t.mean.length} elements here but ${g.mean.length} in the global posterior`);
    t.mean = Float32Array.from(g.mean);
    if (t.momentum) t.momentum = new Float32Array(t.momentum.length);
    if (t.expAvgSq) t.expAvgSq = new Float32Array(t.expAvgSq.length);
  }
  if (resetStep) snapshot.step = 0;
  await opt.restore(snapshot);
}

export interface IvonTrainerOptions {
  opt: IVON;
  rule: Exclude<AggregationRule, 'fedavg'>;
  /** Local training from the round's start (e.g. fit for E epochs); called once per round. */
  train: (round: number) => Promise<unknown>;
}

/** A FederatedClient `train` callback for an IVON optimizer. */
export function ivonTrainer(o: IvonTrainerOptions): (round: number, global: Posterior) => Promise<Posterior> {
  return async (round, global) => {
    const prior = roundPrior(o.rule, global);
    const snapshot = await o.opt.snapshot();
    for (const group of snapshot.groups) {
      if (group.hyper.frozen === true) continue;
      const ess = group.hyper.ess as number;
      for (const name of group.params) {
        const want = clientPrior(prior[name], ess);
        if (o.rule === 'product') checkScalarPrior(name, want, group.hyper.weightDecay as number, ess);
      }
    }
    await startFrom(o.opt, global, false);
    if (o.rule === 'global-prior') await setGlobalPrior(o.opt, prior, snapshot);
    await o.train(round);
    return posteriorOf(o.opt);
  };
}

function checkScalarPrior(name: string, want: { priorPrecision: Float32Array; priorMean: Float32Array }, weightDecay: number, ess: number): void {
  for (let j = 0; j < want.priorPrecision.length; j++) {
    const d = want.priorPrecision[j];
    if (Math.abs(d - weightDecay) > PRIOR_TOLERANCE * Math.max(d, weightDecay) || want.priorMean[j] !== 0) {
      throw new UsageError(
        `federated trainer ('product'): '${name}'[${j}] needs prior precision ${d} (= P₀/ess with ess ${ess}) and prior mean ${want.priorMean[j]}, ` +
          `but the optimizer has weightDecay ${weightDecay} and mean 0; construct the client's IVON with weightDecay = P₀/ess (the run's base prior), or use rule 'global-prior'`,
      );
    }
  }
}

/** Sets the round's global as the per-element prior (IVON's setPrior). */
async function setGlobalPrior(opt: IVON, prior: ReturnType<typeof roundPrior>, snapshot: OptimizerSnapshot): Promise<void> {
  const mean: Record<string, Float32Array> = {};
  const precision: Record<string, Float32Array> = {};
  for (const group of snapshot.groups) {
    if (group.hyper.frozen === true) continue;
    for (const name of group.params) {
      const p = clientPrior(prior[name], group.hyper.ess as number);
      mean[name] = p.priorMean;
      precision[name] = p.priorPrecision;
    }
  }
  await opt.setPrior({ mean, precision });
}

export interface AdamwTrainerOptions {
  opt: AdamW;
  /** The client's data-set size: FedAvg's weight. */
  rows: number;
  train: (round: number) => Promise<unknown>;
}

/** A FederatedClient `train` callback for FedAvg with AdamW: the answer carries the weights and the row count. */
export function adamwTrainer(o: AdamwTrainerOptions): (round: number, global: Posterior) => Promise<Posterior> {
  if (!(Number.isSafeInteger(o.rows) && o.rows > 0)) throw new UsageError(`adamwTrainer: rows must be the client's number of training rows, not ${String(o.rows)}`);
  return async (round, global) => {
    await startFrom(o.opt, global, true);
    await o.train(round);
    const snapshot = await o.opt.snapshot();
    const params: Record<string, ParamPosterior> = {};
    for (const [name, t] of Object.entries(snapshot.tensors)) params[name] = pointPosterior(t.shape, t.mean, o.rows);
    return { params };
  };
}

/**
 * A point estimate dressed as a posterior, for FedAvg: only mean and ess (the weight) are used;
 * hess 0 and priorPrecision 1 just keep it a valid posterior.
 */
export function pointPosterior(shape: readonly number[], mean: Float32Array, ess: number): ParamPosterior {
  return { shape: [...shape], mean: Float32Array.from(mean), hess: new Float32Array(mean.length), priorPrecision: new Float32Array(mean.length).fill(1), priorMean: new Float32Array(mean.length), ess };
}
