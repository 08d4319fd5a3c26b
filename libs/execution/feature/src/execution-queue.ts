/** One async execution: what a worker needs to run it, in any process. */
export interface ExecutionJob {
  readonly executionId: string;
  readonly workflowId: string;
  readonly version: number;
  readonly payload: unknown;
}

export type ExecutionJobProcessor = (job: ExecutionJob) => Promise<void>;

/** Where async executions wait: in memory (embedded default) or in Redis (durable, shared by replicas). */
export interface ExecutionQueue {
  readonly durable: boolean;
  /** Starts taking jobs; `process` runs one execution to its end (or pause). */
  start(process: ExecutionJobProcessor): void;
  /** False when the queue refuses it (full or closing): the caller answers 429 / 503. */
  offer(job: ExecutionJob): Promise<boolean>;
  /** Takes a job out before it started; undefined if it is not waiting. */
  remove(executionId: string): Promise<ExecutionJob | undefined>;
  /** Stops taking jobs and waits for the running ones; returns waiting jobs that are lost (memory only). */
  close(): Promise<ExecutionJob[]>;
}

/**
 * The embedded default's async queue: FIFO per workflow with a per-workflow concurrency cap,
 * bounded in total. It lives in this process's memory, so a crash loses what is waiting; the
 * Redis queue replaces it when REDIS_URL is set (docs/decisions/0011).
 */
export class InMemoryExecutionQueue implements ExecutionQueue {
  readonly durable = false;
  private readonly lanes = new Map<string, { running: number; waiting: ExecutionJob[] }>();
  private readonly active = new Set<Promise<void>>();
  private waitingCount = 0;
  private closed = false;
  private process: ExecutionJobProcessor | undefined;

  constructor(
    private readonly concurrencyPerWorkflow: number,
    private readonly maxWaiting: number,
  ) {}

  get waiting(): number {
    return this.waitingCount;
  }

  start(process: ExecutionJobProcessor): void {
    this.process = process;
    for (const workflowId of this.lanes.keys()) this.pump(workflowId);
  }

  offer(job: ExecutionJob): Promise<boolean> {
    if (this.closed || this.waitingCount >= this.maxWaiting) return Promise.resolve(false);
    const lane = this.lanes.get(job.workflowId) ?? { running: 0, waiting: [] };
    this.lanes.set(job.workflowId, lane);
    lane.waiting.push(job);
    this.waitingCount += 1;
    this.pump(job.workflowId);
    return Promise.resolve(true);
  }

  remove(executionId: string): Promise<ExecutionJob | undefined> {
    for (const [workflowId, lane] of this.lanes) {
      const index = lane.waiting.findIndex((j) => j.executionId === executionId);
      if (index < 0) continue;
      const [job] = lane.waiting.splice(index, 1);
      this.waitingCount -= 1;
      if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(workflowId);
      return Promise.resolve(job);
    }
    return Promise.resolve(undefined);
  }

  async close(): Promise<ExecutionJob[]> {
    this.closed = true;
    const left = [...this.lanes.values()].flatMap((lane) => lane.waiting.splice(0));
    this.waitingCount = 0;
    await Promise.allSettled([...this.active]);
    return left;
  }

  private pump(workflowId: string): void {
    const lane = this.lanes.get(workflowId);
    const process = this.process;
    if (!lane || !process) return;
    while (!this.closed && lane.running < this.concurrencyPerWorkflow) {
      const job = lane.waiting.shift();
      if (job === undefined) break;
      this.waitingCount -= 1;
      lane.running += 1;
      const done = process(job)
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
