// One rule turns an interval into a verdict, so the console, report.json and report.html can
// never disagree with the numbers: "A better" only when the whole 95% interval of A − B lies on
// A's good side of 0, "B better" when it lies on B's, and otherwise "no resolved difference".
// A single number never decides.
import type { DifferenceInterval } from '../metrics/index.js';

export interface Claim {
  /** Stable id, e.g. "baseline/nll". */
  id: string;
  /** What is compared, e.g. "test NLL, IVON BMA − AdamW (3 seeds pooled)". */
  statement: string;
  /** The two sides: the interval is metric(a) − metric(b). */
  a: string;
  b: string;
  lowerIsBetter: boolean;
  interval: DifferenceInterval;
  verdict: string;
}

export function verdictOf(a: string, b: string, lowerIsBetter: boolean, d: DifferenceInterval): string {
  if (![d.difference, d.lower, d.upper].every(Number.isFinite) || d.lower > d.upper) {
    throw new Error(`verdictOf: the interval must be finite with lower ≤ upper, got ${JSON.stringify(d)}`);
  }
  const aBetter = lowerIsBetter ? d.upper < 0 : d.lower > 0;
  const bBetter = lowerIsBetter ? d.lower > 0 : d.upper < 0;
  return aBetter ? `${a} better` : bBetter ? `${b} better` : 'no resolved difference';
}

export function claim(id: string, statement: string, a: string, b: string, lowerIsBetter: boolean, interval: DifferenceInterval): Claim {
  return { id, statement, a, b, lowerIsBetter, interval, verdict: verdictOf(a, b, lowerIsBetter, interval) };
}

const signed = (v: number, digits: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

/** "+0.0123 [−0.0050, +0.0300]" (4 decimals; the test parses this). */
export function formatInterval(d: DifferenceInterval): string {
  return `${signed(d.difference, 4)} [${signed(d.lower, 4)}, ${signed(d.upper, 4)}]`;
}

/** The console's verdict line for a claim: "verdict | id | statement | interval | verdict". */
export function verdictLine(c: Claim): string {
  return `verdict | ${c.id} | ${c.statement} | ${formatInterval(c.interval)} | ${c.verdict}`;
}
