import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '@ussd/platform-logging';
import type { ExecutionJob, ExecutionJobProcessor, ExecutionQueue } from './execution-queue.js';

const QUEUE_NAME = 'ussd-executions';
/** Who decided a job's fate first: a worker starting it, or a cancel. Kept a day. */
const CLAIM_TTL_MS = 24 * 60 * 60_000;
/** A crashed worker's slot is freed after this long (its job is re-run by BullMQ's stall check). */
const SLOT_LEASE_MS = 5 * 60_000;

/**
 * Takes a slot of a workflow's concurrency limit, shared by every replica: a sorted set of
 * execution ids scored by lease expiry, so slots of crashed workers expire by themselves.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export interface RedisExecutionQueueOptions {
  readonly redisUrl: string;
  /** REDIS_KEY_PREFIX: deployments (and test runs) sharing one Redis never see each other's jobs. */
  readonly keyPrefix: string;
  readonly workerConcurrency: number;
  readonly concurrencyPerWorkflow: number;
  /** Lock of a running job; a crashed worker's job is taken over after it lapses. */
  readonly jobLockMs: number;
  readonly logger: Logger;
}

/**
 * The durable async queue (BullMQ on Redis): any replica's worker picks a job up, a worker
 * that dies mid-job has its job re-run after BullMQ's stall check (at-least-once), and a
 * per-workflow limit holds across replicas. The job id is the execution id, so a repeated
 * enqueue is a no-op.
 */
export class RedisExecutionQueue implements ExecutionQueue {
  readonly durable = true;
  private readonly queue: Queue;
  private readonly redis: Redis;
  private worker: Worker | undefined;
  /** BullMQ does not close connections it was given: we do, at close(). */
  private readonly connections: Redis[] = [];

  constructor(private readonly options: RedisExecutionQueueOptions) {
    this.redis = this.connection('executions-queue');
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection('executions-queue'), prefix: `${options.keyPrefix}:bull` });
    this.queue.on('error', (error) => options.logger.warn({ err: error }, 'execution queue error'));
    this.redis.on('error', () => undefined); // the queue's own handler reports outages
  }

  start(process: ExecutionJobProcessor): void {
    if (this.options.workerConcurrency === 0 || this.worker) return;
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job<ExecutionJob>, token?: string) => {
        const slotKey = `${this.options.keyPrefix}:workflow-slots:${job.data.workflowId}`;
        const now = Date.now();
        const acquired = (await this.redis.eval(ACQUIRE, 1, slotKey, now, now + SLOT_LEASE_MS, this.options.concurrencyPerWorkflow, job.data.executionId, SLOT_LEASE_MS)) as number;
        if (acquired !== 1) {
          // The workflow is at its limit: come back shortly without counting as an attempt.
          await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 100), token);
          throw new DelayedError();
        }
        try {
          // Start and cancel race for one claim; whoever sets it first decides.
          if (!(await this.claim(job.data.executionId, 'started'))) return;
          await process(job.data);
        } finally {
          await this.redis.zrem(slotKey, job.data.executionId).catch(() => undefined);
        }
      },
      {
        connection: this.connection('executions-worker'),
        prefix: `${this.options.keyPrefix}:bull`,
        concurrency: this.options.workerConcurrency,
        lockDuration: this.options.jobLockMs,
        stalledInterval: this.options.jobLockMs,
      },
    );
    this.worker.on('error', (error) => this.options.logger.warn({ err: error }, 'execution worker error'));
  }

  async offer(job: ExecutionJob): Promise<boolean> {
    await this.queue.add('execution', job, { jobId: job.executionId, removeOnComplete: true, removeOnFail: 1000, attempts: 1 });
    return true;
  }

  /**
   * Cancels a job that no worker has started, wherever it is (waiting, delayed, or being
   * looked at by a worker of another replica): the cancel claim wins or loses atomically
   * against a worker's start claim, so a job is never both canceled and run.
   */
  async remove(executionId: string): Promise<ExecutionJob | undefined> {
    const job = (await this.queue.getJob(executionId)) as Job<ExecutionJob> | undefined;
    if (!job || (await job.isCompleted()) || (await job.isFailed())) return undefined;
    if (!(await this.claim(executionId, 'canceled'))) return undefined;
    await job.remove().catch(() => undefined); // a worker holding it will find the claim taken
    return job.data;
  }

  /**
   * A start claim also succeeds when a start claimed it before: BullMQ re-runs the job of a
   * worker that died mid-run (stall check), and that re-run must not be mistaken for a cancel.
   */
  private async claim(executionId: string, by: 'started' | 'canceled'): Promise<boolean> {
    const key = `${this.options.keyPrefix}:execution-claim:${executionId}`;
    if (by === 'canceled') return (await this.redis.set(key, by, 'PX', CLAIM_TTL_MS, 'NX')) === 'OK';
    const result = (await this.redis.eval(
      `local current = redis.call('GET', KEYS[1])
       if current == 'canceled' then return 0 end
       redis.call('SET', KEYS[1], 'started', 'PX', ARGV[1])
       return 1`,
      1,
      key,
      CLAIM_TTL_MS,
    )) as number;
    return result === 1;
  }

  /** Waiting jobs stay in Redis for the next worker: nothing is lost here. */
  /**
   * Stops taking jobs and lets the running ones finish. BullMQ's close waits on its blocking
   * connection; one stuck reconnecting must not hold shutdown: after CLOSE_TIMEOUT_MS the worker
   * is closed by force (a job still running is then retried elsewhere after its lock expires).
   */
  async close(): Promise<ExecutionJob[]> {
    const worker = this.worker;
    if (worker && !(await settlesWithin(worker.close(), CLOSE_TIMEOUT_MS))) {
      this.options.logger.warn({ ms: CLOSE_TIMEOUT_MS }, 'the BullMQ worker did not close in time; closing it by force');
      await settlesWithin(worker.close(true), CLOSE_TIMEOUT_MS);
    }
    await settlesWithin(this.queue.close(), CLOSE_TIMEOUT_MS);
    for (const connection of this.connections) connection.disconnect();
    return [];
  }

  private connection(name: string): Redis {
    const connection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null, connectionName: name });
    this.connections.push(connection);
    return connection;
  }
}

const CLOSE_TIMEOUT_MS = 5000;

/** True when `work` settled (either way) within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = work.then(
    () => true,
    () => true,
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
