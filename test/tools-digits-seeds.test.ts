// The multi-seed tool (tools/digits-seeds.ts): its argument parsing (the job itself is runMainJob,
// tested end to end in main-job.test.ts).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/cli/config.js';
import { ivonSettings, parseSeeds } from '../tools/digits-seeds.js';

describe('tools/digits-seeds.ts arguments', () => {
  it('reads seed ranges and lists', () => {
    expect(parseSeeds('0-4')).toEqual([0, 1, 2, 3, 4]);
    expect(parseSeeds('3,1,7')).toEqual([3, 1, 7]);
    expect(() => parseSeeds('a-b')).toThrow(/--seeds must look like 0-9/);
    expect(() => parseSeeds('1,-2')).toThrow(/--seeds/);
    expect(() => parseSeeds('5-2')).toThrow(/--seeds/);
  });

  it('overrides only known IVON settings, with numbers, on every grid point', () => {
    expect(ivonSettings(undefined)).toEqual(DEFAULT_CONFIG.grids.ivon);
    const swept = ivonSettings('{"lr":0.3,"essFactor":2}');
    expect(swept).toEqual(DEFAULT_CONFIG.grids.ivon.map((s) => ({ ...s, lr: 0.3, essFactor: 2 })));
    expect(() => ivonSettings('{"learningRate":0.3}')).toThrow(/unknown setting 'learningRate'/);
    expect(() => ivonSettings('{"lr":"0.3"}')).toThrow(/'lr' must be a number/);
    expect(() => ivonSettings('[1]')).toThrow(/unknown setting '0'/);
  });
});
