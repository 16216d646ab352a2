// Per-phase wall and CPU time of training steps (`DUET_PROFILE=1`): where a step's time goes, per rank, to find
// what does not scale with data parallelism (work every rank repeats, per-op overhead, waits in collectives). The
// wasm and cpu backends run ops synchronously, so a lap around a phase is the phase's cost; on webgpu a lap ends
// at the next readback instead. CPU time is the calling thread's own (Linux /proc/thread-self/schedstat, ns), so
// on a shared machine wall − CPU separates waiting (for a core, or in a collective) from work. Off by default:
// lap() is then one branch.
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';

/** Phases in step order. A step's laps sum to its wall time (from the end of the previous step). */
export const PROFILE_PHASES = [
  'data', // waiting for the loader's next batch (decode/preprocess when inline)
  'vote', // data parallel: the per-step all-reduce that agrees on epoch end / stop
  'upload', // the batch's typed arrays -> tensors
  'forward', // the towers' forward (taped); single process: forward + loss + backward in one call
  'loss', // the loss and ∂loss/∂embeds (data parallel: including its all-gather / ring exchange)
  'backward', // backprop of the embedding gradients through the towers
  'allreduce', // gradient flatten + bucketed all-reduce + unflatten
  'clip', // global-norm clipping
  'optimizer', // the AdamW update (and, sharded, the parameter all-gather)
  'clamp', // logit-scale clamp
  'metrics', // the metrics line (readbacks, file append)
  'hooks', // progress, eval, checkpoints, afterStep
  'yield', // the once-per-step event-loop turn
] as const;
/** Not a phase (it overlaps them): this thread's GC pauses in the step (V8's helper threads' GC work not included). */
export const PROFILE_EXTRA = ['gc'] as const;
export type ProfilePhase = (typeof PROFILE_PHASES)[number];

export function profilingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env['DUET_PROFILE'] ?? '');
}

export class StepProfiler {
  private t = 0;
  private c = 0;
  private cur = new Float64Array(PROFILE_PHASES.length);
  private curCpu = new Float64Array(PROFILE_PHASES.length);
  private fd: number | undefined;
  /** One row of phase wall milliseconds per finished step. */
  readonly steps: Float64Array[] = [];
  /** The same for this thread's CPU milliseconds (zeros where the OS does not report per-thread CPU time). */
  readonly cpuSteps: Float64Array[] = [];
  private readonly buf = new Uint8Array(64);
  private gcMs = 0;
  /** GC pause ms per finished step. */
  readonly gcSteps: number[] = [];
  private observer: PerformanceObserver | undefined;

  /** `env`: re-read DUET_PROFILE at every start() (a bench can switch it on after import); a boolean fixes it. */
  constructor(private readonly mode: boolean | 'env') {}

  enabled = false;

  /** Starts a run: forgets earlier steps; the first step's `data` lap counts from here. */
  start(): void {
    this.enabled = this.mode === 'env' ? profilingEnabled() : this.mode;
    if (!this.enabled) return;
    this.steps.length = 0;
    this.cpuSteps.length = 0;
    this.gcSteps.length = 0;
    this.gcMs = 0;
    if (!this.observer) {
      this.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) this.gcMs += e.duration;
      });
      this.observer.observe({ entryTypes: ['gc'] });
    }
    this.cur.fill(0);
    this.curCpu.fill(0);
    if (this.fd === undefined) {
      try {
        this.fd = openSync('/proc/thread-self/schedstat', 'r'); // opened on the thread that profiles
      } catch {
        this.fd = -1;
      }
    }
    this.t = performance.now();
    this.c = this.cpuMs();
  }

  /** This thread's CPU time in ms (0 where unavailable). */
  private cpuMs(): number {
    if (this.fd === undefined || this.fd < 0) return 0;
    try {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
      let ns = 0;
      for (let i = 0; i < n; i++) {
        const d = this.buf[i]! - 48;
        if (d < 0 || d > 9) break;
        ns = ns * 10 + d;
      }
      return ns / 1e6;
    } catch {
      closeSync(this.fd);
      this.fd = -1;
      return 0;
    }
  }

  /** Charges the time since the previous lap to `phase`. */
  lap(phase: ProfilePhase): void {
    if (!this.enabled) return;
    const now = performance.now();
    const cpu = this.cpuMs();
    const j = PROFILE_PHASES.indexOf(phase);
    this.cur[j]! += now - this.t;
    this.curCpu[j]! += cpu - this.c;
    this.t = now;
    this.c = cpu;
  }

  /** Closes the step: its row is kept and the next step starts at zero. */
  endStep(): Float64Array | undefined {
    if (!this.enabled) return undefined;
    const row = this.cur;
    this.steps.push(row);
    this.cpuSteps.push(this.curCpu);
    this.gcSteps.push(this.gcMs); // entries arrive asynchronously: a pause is counted in the step it is reported in
    this.gcMs = 0;
    this.cur = new Float64Array(PROFILE_PHASES.length);
    this.curCpu = new Float64Array(PROFILE_PHASES.length);
    return row;
  }

  /** Stops observing GC (end of a run). */
  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Rows as one flat array [steps × phases] (to gather across ranks); `cpu` for the CPU rows. */
  flat(cpu = false): Float32Array {
    const rows = cpu ? this.cpuSteps : this.steps;
    const out = new Float32Array(rows.length * PROFILE_PHASES.length);
    rows.forEach((row, i) => out.set(row, i * PROFILE_PHASES.length));
    return out;
  }
}

/** Mean ms per phase over rows `from..` of a flat [steps × phases] array. */
export function meanPhases(flat: ArrayLike<number>, from = 0): Record<ProfilePhase, number> {
  const p = PROFILE_PHASES.length;
  const n = Math.floor(flat.length / p);
  const out = Object.fromEntries(PROFILE_PHASES.map((k) => [k, 0])) as Record<ProfilePhase, number>;
  const rows = Math.max(0, n - from);
  if (rows === 0) return out;
  PROFILE_PHASES.forEach((k, j) => {
    let s = 0;
    for (let i = from; i < n; i++) s += flat[i * p + j]!;
    out[k] = s / rows;
  });
  return out;
}

/** The profile file a run writes (`<out>/profile.json`): every rank's per-step phase milliseconds. */
export interface ProfileFile {
  phases: readonly string[];
  /** ranks[r][step][phase]: wall ms. */
  ranks: number[][][];
  /** The same in CPU ms of the rank's thread. */
  cpu: number[][][];
  /** gc[r][step]: the rank thread's GC pause ms (overlaps the phases). */
  gc: number[][];
}

/** The thread's profiler (each worker thread has its own module instance, so one per rank). */
export const stepProfiler = new StepProfiler('env');
