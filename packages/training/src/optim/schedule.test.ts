import { describe, it, expect } from 'vitest';
import { makeSchedule } from './schedule.js';

describe('lr schedules (open_clip semantics)', () => {
  it('cosine: linear warmup to base then half-cosine to 0', () => {
    const s = makeSchedule({ name: 'cosine', baseLr: 1, warmup: 4, steps: 14 });
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(s(4)).toBeCloseTo(1, 12);
    expect(s(9)).toBeCloseTo(0.5, 12); // halfway through the 10 decay steps
    expect(s(14)).toBeCloseTo(0, 12);
  });
  it('const: warmup then flat', () => {
    const s = makeSchedule({ name: 'const', baseLr: 2, warmup: 2, steps: 10 });
    expect([0, 1, 2, 9].map(s)).toEqual([1, 2, 2, 2]);
  });
  it('const-cooldown: flat then (1 - e/es)^power to the end lr', () => {
    const s = makeSchedule({ name: 'const-cooldown', baseLr: 1, warmup: 0, steps: 10, cooldownSteps: 4, cooldownPower: 2, cooldownEndLr: 0.1 });
    expect(s(5)).toBe(1);
    expect(s(6)).toBeCloseTo(1, 12);
    expect(s(8)).toBeCloseTo(0.25 * 0.9 + 0.1, 12);
    expect(() => makeSchedule({ name: 'const-cooldown', baseLr: 1, warmup: 0, steps: 10 })).toThrow(/cooldownSteps/);
  });
});
