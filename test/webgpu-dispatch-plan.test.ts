// The chunk planner that keeps big models inside the device's binding and grid limits: pure
// arithmetic, checked here without a GPU for the invariants every dispatch relies on.

import { describe, expect, it } from 'vitest';
import { gridFor, planChunks, type DispatchLimits } from '../gpu/dispatch-plan.js';

const big: DispatchLimits = { maxBindingBytes: 1 << 30, offsetAlignment: 256, maxWorkgroupsPerDimension: 65535 };
const tiny: DispatchLimits = { maxBindingBytes: 1024, offsetAlignment: 256, maxWorkgroupsPerDimension: 2 };

describe('planChunks', () => {
  it('binds a buffer that fits one binding whole, in one dispatch', () => {
    expect(planChunks(48, 1000, 4096, 4, 4, big)).toEqual([{ start: 48, count: 1000, windowOffset: 0, windowSize: 4096, base: 48 }]);
  });

  it('covers the range exactly with aligned windows no larger than one binding', () => {
    const bufferBytes = 5008 * 4;
    for (const [start, count, perInvocation] of [
      [0, 5008, 4],
      [1040, 3001, 16],
      [16, 7, 1],
    ]) {
      const chunks = planChunks(start, count, bufferBytes, 4, perInvocation, tiny);
      let next = start;
      for (const c of chunks) {
        expect(c.start).toBe(next);
        expect(c.start % 16).toBe(start % 16);
        expect(c.windowOffset % tiny.offsetAlignment).toBe(0);
        expect(c.windowSize).toBeLessThanOrEqual(tiny.maxBindingBytes);
        expect(c.windowSize % 16).toBe(0);
        expect(c.windowOffset + c.windowSize).toBeLessThanOrEqual(bufferBytes);
        expect(c.windowOffset / 4 + c.base).toBe(c.start);
        expect((c.base + c.count) * 4).toBeLessThanOrEqual(c.windowSize);
        expect(Math.ceil(c.count / perInvocation)).toBeLessThanOrEqual(2 * 2 * 64);
        next += c.count;
      }
      expect(next).toBe(start + count);
    }
  });

  it('refuses limits too small to dispatch anything, saying what to do', () => {
    expect(() => planChunks(0, 100, 4096, 4, 4, { maxBindingBytes: 256, offsetAlignment: 256, maxWorkgroupsPerDimension: 1 })).toThrow(/backend 'wasm'/);
  });
});

describe('gridFor', () => {
  it('uses one dimension up to the limit and a covering 2-D grid past it', () => {
    expect(gridFor(64 * 100, 65535)).toEqual({ x: 100, y: 1, rowSize: 6400 });
    const g = gridFor(64 * 70000, 65535);
    expect(g.y).toBe(2);
    expect(g.x * g.y * 64).toBeGreaterThanOrEqual(64 * 70000);
    expect(g.x).toBeLessThanOrEqual(65535);
    expect(gridFor(1, 2)).toEqual({ x: 1, y: 1, rowSize: 64 });
    expect(gridFor(4 * 64, 2)).toEqual({ x: 2, y: 2, rowSize: 128 });
  });
});
