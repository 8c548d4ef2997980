// The federated message format (src/federated/wire.ts): exact round trips, the size (uniform priors
// travel as one element: ~8 bytes per parameter), and hostile bytes — every truncation and random
// corruption is a FederatedMessageError or a posterior that passes every check, never anything else.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, FederatedMessageError, type Message } from '../src/federated/wire.js';
import { checkParam } from '../src/posterior/product.js';
import { exactClientPosterior, makeQuadraticClients, seeded } from './federated-helpers.js';

const SHAPES = { w: [7, 5], b: [5] };

function message(uniformPrior: boolean): Message {
  const { clients, prior } = makeQuadraticClients(SHAPES, [50], 51);
  if (uniformPrior) {
    for (const name of Object.keys(SHAPES)) {
      prior.precision[name].fill(3);
      prior.mean[name].fill(0);
    }
  }
  return { kind: 'update', session: 'wire-test', round: 4, sender: 'client-1', final: false, posterior: exactClientPosterior(clients[0], prior) };
}

describe('federated wire format', () => {
  it('round-trips every field exactly, with per-element and with uniform priors', () => {
    for (const uniform of [false, true]) {
      const m = message(uniform);
      const back = decodeMessage(encodeMessage(m), { kind: 'update', session: 'wire-test', shapes: SHAPES });
      expect(back).toEqual(m);
    }
  });

  it('carries a uniform prior as one element: about 8 bytes per parameter', () => {
    const big = { w: [256, 64] };
    const n = 256 * 64;
    const p = { shape: [256, 64], mean: new Float32Array(n).fill(0.5), hess: new Float32Array(n).fill(2), priorPrecision: new Float32Array(n).fill(1e-3), priorMean: new Float32Array(n), ess: 100 };
    const bytes = encodeMessage({ kind: 'global', session: 's', round: 0, sender: 'coordinator', final: false, posterior: { params: { w: p } } });
    expect(bytes.length - 8 * n).toBeGreaterThan(0);
    expect(bytes.length - 8 * n).toBeLessThan(600); // the header
    expect(decodeMessage(bytes, { shapes: big }).posterior.params.w.priorPrecision).toEqual(p.priorPrecision);
  });

  it('rejects every truncation with a FederatedMessageError', () => {
    const bytes = encodeMessage(message(false));
    for (let cut = 0; cut < bytes.length; cut += 7) {
      expect(() => decodeMessage(bytes.subarray(0, cut), { shapes: SHAPES })).toThrow(FederatedMessageError);
    }
  });

  it('random corruption: a FederatedMessageError or a posterior that passes every check, nothing else', () => {
    const bytes = encodeMessage(message(false));
    const rand = seeded(52);
    let rejected = 0;
    for (let trial = 0; trial < 600; trial++) {
      const bad = Uint8Array.from(bytes);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(rand() * bad.length)] ^= 1 << Math.floor(rand() * 8);
      try {
        const m = decodeMessage(bad, { shapes: SHAPES });
        for (const [name, p] of Object.entries(m.posterior.params)) checkParam(name, p, SHAPES[name as keyof typeof SHAPES]);
      } catch (e) {
        expect(e).toBeInstanceOf(FederatedMessageError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('refuses to encode what it would refuse to decode', () => {
    const m = message(false);
    expect(() => encodeMessage({ ...m, sender: 'a/b' })).toThrow(/1-64 characters/);
    expect(() => encodeMessage({ ...m, round: -1 })).toThrow(/round/);
    const w = m.posterior.params.w;
    expect(() => encodeMessage({ ...m, posterior: { params: { ...m.posterior.params, w: { ...w, ess: NaN } } } })).toThrow(/ess/);
  });
});
