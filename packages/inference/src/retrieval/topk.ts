// Streaming top-k per query: rows arrive in increasing index order, so "strictly greater enters" breaks ties by
// the lower index (the reference convention). Scores/indices kept sorted, best first.
export class TopK {
  readonly scores: Float32Array;
  readonly indices: Int32Array;
  count = 0;
  /** Score a candidate must beat (strictly) to enter once full. */
  threshold = -Infinity;

  constructor(readonly k: number) {
    this.scores = new Float32Array(k);
    this.indices = new Int32Array(k);
  }

  push(score: number, index: number): void {
    const k = this.k;
    if (this.count === k && !(score > this.threshold)) return;
    if (score !== score) return; // NaN never ranks
    let pos = this.count < k ? this.count : k - 1;
    // Shift worse entries down; equal scores keep their earlier (lower-index) place.
    while (pos > 0 && this.scores[pos - 1]! < score) {
      if (pos < k) {
        this.scores[pos] = this.scores[pos - 1]!;
        this.indices[pos] = this.indices[pos - 1]!;
      }
      pos--;
    }
    this.scores[pos] = score;
    this.indices[pos] = index;
    if (this.count < k) this.count++;
    if (this.count === k) this.threshold = this.scores[k - 1]!;
  }

  /** Merges another TopK whose indices are all greater than this one's seen so far is NOT assumed: ties by index. */
  merge(other: TopK): void {
    for (let i = 0; i < other.count; i++) this.pushAnyOrder(other.scores[i]!, other.indices[i]!);
  }

  /** Insert without the increasing-index assumption (ties resolved by comparing indices). */
  pushAnyOrder(score: number, index: number): void {
    const k = this.k;
    if (score !== score) return;
    if (this.count === k && (score < this.threshold || (score === this.threshold && index > this.indices[k - 1]!))) return;
    let pos = this.count < k ? this.count : k - 1;
    while (pos > 0 && (this.scores[pos - 1]! < score || (this.scores[pos - 1]! === score && this.indices[pos - 1]! > index))) {
      if (pos < k) {
        this.scores[pos] = this.scores[pos - 1]!;
        this.indices[pos] = this.indices[pos - 1]!;
      }
      pos--;
    }
    this.scores[pos] = score;
    this.indices[pos] = index;
    if (this.count < k) this.count++;
    if (this.count === k) this.threshold = this.scores[k - 1]!;
  }
}
