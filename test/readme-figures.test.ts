// The README's "What it shows" paragraph is generated (tools/readme-figures.ts) from a recorded
// run of the main job (docs/main-job-run.json), never typed by hand: the README must hold exactly
// what whatItShows says about that run, and every verdict in it must be the interval's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verdictOf } from '../src/cli/verdict.js';
import { currentSection, END, replaceSection, RUN_PATH, START, whatItShows } from '../tools/readme-figures.js';

describe('README "What it shows"', () => {
  it('is whatItShows of the recorded run, and each verdict is its interval\'s', () => {
    const run = JSON.parse(readFileSync(RUN_PATH, 'utf8'));
    expect(currentSection(readFileSync('README.md', 'utf8'))).toBe(whatItShows(run));
    expect(run.seeds.length).toBeGreaterThanOrEqual(2);
    expect(run.parts.map((p: { id: string }) => p.id)).toEqual(['baseline', 'no-validation', 'mislabelled', 'merging', 'shift']);
    for (const p of run.parts) for (const c of p.claims) expect(c.verdict).toBe(verdictOf(c.a, c.b, c.lowerIsBetter, c.interval));
  });

  it('replaces only the text between the markers, and says what is missing', () => {
    const readme = `head\n${START}\nold\n${END}\ntail\n`;
    expect(replaceSection(readme, 'new')).toBe(`head\n${START}\nnew\n${END}\ntail\n`);
    expect(currentSection(replaceSection(readme, 'new'))).toBe('new');
    expect(() => replaceSection('no markers', 'x')).toThrow(/needs the markers/);
  });
});
