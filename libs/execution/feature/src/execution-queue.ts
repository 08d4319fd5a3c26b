/** One async execution waiting for its turn. */
export interface QueuedRun {
  readonly executionId: string;
  readonly workflowId: string;
  readonly run: () => Promise<void>;
}

/**
 * The embedded default's async queue: FIFO per workflow with a per-workflow concurrency cap,
 * bounded in total. It lives in this process's memory, so a crash loses what is waiting; the
 * durable Redis-backed queue replaces it when REDIS_URL is set (see docs/decisions/0011).
 */
export class InMemoryExecutionQueue {
  private readonly lanes = new Map<string, { running: number; waiting: QueuedRun[] }>();
  private readonly active = new Set<Promise<void>>();
  private waitingCount = 0;
  private closed = false;

  constructor(
    private readonly concurrencyPerWorkflow: number,
    private readonly maxWaiting: number,
  ) {}

  get waiting(): number {
    return this.waitingCount;
  }

  /** False when the queue is full or closing: the caller answers 429 / 503. */
  offer(job: QueuedRun): boolean {
    if (this.closed || this.waitingCount >= this.maxWaiting) return false;
    const lane = this.lanes.get(job.workflowId) ?? { running: 0, waiting: [] };
    this.lanes.set(job.workflowId, lane);
    lane.waiting.push(job);
    this.waitingCount += 1;
    this.pump(job.workflowId);
    return true;
  }

  /** Takes a job out before it started; false if it is not waiting (running, done or unknown). */
  remove(executionId: string): QueuedRun | undefined {
    for (const [workflowId, lane] of this.lanes) {
      const index = lane.waiting.findIndex((j) => j.executionId === executionId);
      if (index < 0) continue;
      const [job] = lane.waiting.splice(index, 1);
      this.waitingCount -= 1;
      if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(workflowId);
      return job;
    }
    return undefined;
  }

  /** Stops starting new jobs and waits for the running ones; returns the jobs never started. */
  async close(): Promise<QueuedRun[]> {
    this.closed = true;
    const left = [...this.lanes.values()].flatMap((lane) => lane.waiting.splice(0));
    this.waitingCount = 0;
    await Promise.allSettled([...this.active]);
    return left;
  }

  private pump(workflowId: string): void {
    const lane = this.lanes.get(workflowId);
    if (!lane) return;
    while (!this.closed && lane.running < this.concurrencyPerWorkflow) {
      const job = lane.waiting.shift();
      if (job === undefined) break;
      this.waitingCount -= 1;
      lane.running += 1;
      const done = job
        .run()
        .catch(() => undefined) // runs report their own failures through the event sink
        .finally(() => {
          this.active.delete(done);
          lane.running -= 1;
          if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(workflowId);
          else this.pump(workflowId);
        });
      this.active.add(done);
    }
  }
}
