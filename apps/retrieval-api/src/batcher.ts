// Micro-batching: concurrent requests submitted within `waitMs` (or until `maxBatch` rows) run as one call, so
// onnxruntime sees one larger batch instead of many single rows. One call runs at a time; requests that arrive
// meanwhile form the next batch. The queue is bounded (maxQueue rows waiting): past it, submit rejects at once with
// QueueFullError, so an open-loop overload sheds requests instead of holding their decoded inputs in memory.
export class QueueFullError extends Error {
  constructor(readonly queued: number, readonly maxQueue: number) {
    super(`${queued} rows are already waiting (limit ${maxQueue})`);
  }
}

export class MicroBatcher<I, O> {
  private queue: { items: I[]; resolve: (o: O[]) => void; reject: (e: unknown) => void }[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly opts: { waitMs: number; maxBatch: number; maxQueue?: number; onBatch?: (rows: number, requests: number) => void },
  ) {}

  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    // An empty queue always accepts (a single request larger than the bound still runs).
    const max = this.opts.maxQueue;
    if (max !== undefined && this.queued > 0 && this.queued + items.length > max) return Promise.reject(new QueueFullError(this.queued, max));
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      this.schedule();
    });
  }

  /** Rows waiting for a call (not counting the running one). */
  get pending(): number {
    return this.queued;
  }

  private schedule(): void {
    if (this.running || !this.queue.length) return;
    if (this.queued >= this.opts.maxBatch) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.waitMs);
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || !this.queue.length) return;
    // Whole requests up to maxBatch rows (a larger single request runs alone; the embedder splits it).
    const jobs = [this.queue.shift()!];
    let rows = jobs[0]!.items.length;
    while (this.queue.length && rows + this.queue[0]!.items.length <= this.opts.maxBatch) {
      rows += this.queue[0]!.items.length;
      jobs.push(this.queue.shift()!);
    }
    this.queued -= rows;
    this.running = true;
    this.opts.onBatch?.(rows, jobs.length);
    this.run(jobs.flatMap((j) => j.items))
      .then((out) => {
        let at = 0;
        for (const j of jobs) {
          j.resolve(out.slice(at, at + j.items.length));
          at += j.items.length;
        }
      }, (e) => jobs.forEach((j) => j.reject(e)))
      .finally(() => {
        this.running = false;
        this.schedule();
      });
  }
}
