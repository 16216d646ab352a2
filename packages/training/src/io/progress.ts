// Progress reporting: a redrawn bar with rate and ETA on a TTY; plain periodic lines otherwise (logs, CI).
export interface ProgressInfo {
  step: number;
  total: number;
  samples: number;
  /** Short key/value tail, e.g. { loss: 0.52, lr: 1e-3 }. */
  fields?: Record<string, number | string>;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Seconds between plain lines when not on a TTY. */
  intervalS?: number;
  label?: string;
  now?: () => number;
}

export class ProgressReporter {
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly label: string;
  private start = -1;
  private startSamples = 0;
  private startStep = 0;
  private lastPrint = -Infinity;
  private drawn = false;

  constructor(o: ProgressOptions = {}) {
    this.stream = o.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.intervalMs = (o.intervalS ?? 10) * 1000;
    this.now = o.now ?? (() => Date.now());
    this.label = o.label ?? 'train';
  }

  update(p: ProgressInfo): void {
    const t = this.now();
    if (this.start < 0) {
      this.start = t;
      this.startSamples = p.samples;
      this.startStep = p.step;
    }
    const done = p.step >= p.total;
    if (!this.tty && !done && t - this.lastPrint < this.intervalMs) return;
    this.lastPrint = t;
    const el = (t - this.start) / 1000;
    const rate = el > 0 ? (p.samples - this.startSamples) / el : 0;
    const stepRate = el > 0 ? (p.step - this.startStep) / el : 0;
    const eta = stepRate > 0 ? (p.total - p.step) / stepRate : NaN;
    const tail = Object.entries(p.fields ?? {}).map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNum(v) : v}`).join('  ');
    const pct = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
    const stats = `${p.step}/${p.total} ${(pct * 100).toFixed(0)}%  ${rate.toFixed(1)} samples/s  ETA ${fmtDur(eta)}  ${tail}`;
    if (this.tty) {
      const cols = ('columns' in this.stream && this.stream.columns) || 100;
      const barW = Math.max(10, Math.min(30, cols - stats.length - this.label.length - 6));
      const fill = Math.round(pct * barW);
      const line = `${this.label} [${'#'.repeat(fill)}${'.'.repeat(barW - fill)}] ${stats}`;
      this.stream.write(`\r${line.slice(0, cols - 1)}\x1b[K`);
      this.drawn = true;
      if (done) this.end();
    } else {
      this.stream.write(`${this.label} step ${stats}\n`);
    }
  }

  /** Print a message without tearing the bar. */
  log(msg: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(msg + '\n');
  }

  end(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function fmtDur(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
function fmtNum(v: number): string {
  return Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : v.toFixed(4).replace(/\.?0+$/, '') || '0';
}
