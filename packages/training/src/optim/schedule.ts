// Learning-rate schedules with open_clip's scheduler semantics (open_clip/src/training/scheduler.py).

export type ScheduleName = 'cosine' | 'const' | 'const-cooldown';

export interface ScheduleOptions {
  name: ScheduleName;
  baseLr: number;
  warmup: number;
  /** Total optimizer steps. */
  steps: number;
  /** const-cooldown: number of final steps spent decaying. */
  cooldownSteps?: number;
  cooldownPower?: number;
  cooldownEndLr?: number;
}

export type Schedule = (step: number) => number;

/** `step` is 0-based, as in open_clip (the lr used for the update at that step). */
export function makeSchedule(o: ScheduleOptions): Schedule {
  const warm = (step: number) => (o.baseLr * (step + 1)) / o.warmup;
  switch (o.name) {
    case 'const':
      return (step) => (step < o.warmup ? warm(step) : o.baseLr);
    case 'cosine':
      return (step) => {
        if (step < o.warmup) return warm(step);
        const e = step - o.warmup;
        const es = o.steps - o.warmup;
        return 0.5 * (1 + Math.cos((Math.PI * e) / es)) * o.baseLr;
      };
    case 'const-cooldown': {
      const cooldown = o.cooldownSteps ?? 0;
      if (cooldown <= 0 || cooldown > o.steps) throw new Error(`const-cooldown schedule: cooldownSteps must be in 1..${o.steps}, got ${cooldown}`);
      const start = o.steps - cooldown;
      const power = o.cooldownPower ?? 1;
      const endLr = o.cooldownEndLr ?? 0;
      return (step) => {
        if (step < o.warmup) return warm(step);
        if (step < start) return o.baseLr;
        const decay = (1 - (step - start) / (o.steps - start)) ** power;
        return decay * (o.baseLr - endLr) + endLr;
      };
    }
    default:
      throw new Error(`unknown lr schedule "${(o as { name: string }).name}"; expected cosine, const or const-cooldown`);
  }
}
