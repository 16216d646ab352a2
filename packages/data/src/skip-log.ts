// Skipped-sample accounting: every dropped record is counted by reason and listed (file, key, reason), so a
// bad input never crashes a run and never disappears silently.

export interface SkippedSample { source: string; key?: string; reason: string }
export interface SkipReport { total: number; byReason: Record<string, number>; examples: SkippedSample[]; truncated: boolean }

export class SkipLog {
  private readonly entries: SkippedSample[] = [];
  private readonly counts = new Map<string, number>();
  private count = 0;

  constructor(private readonly maxExamples = 1000, private readonly onSkip?: (s: SkippedSample) => void) {}

  /** `reason` should start with a short category (text before the first ':' is the counting key). */
  add(s: SkippedSample): void {
    this.count++;
    const cat = s.reason.split(':')[0]!.trim();
    this.counts.set(cat, (this.counts.get(cat) ?? 0) + 1);
    if (this.entries.length < this.maxExamples) this.entries.push(s);
    this.onSkip?.(s);
  }

  get total(): number {
    return this.count;
  }

  report(): SkipReport {
    return { total: this.count, byReason: Object.fromEntries(this.counts), examples: [...this.entries], truncated: this.count > this.entries.length };
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
