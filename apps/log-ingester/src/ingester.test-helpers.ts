import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { EVENT_FIELD, ExecutionEventFactory } from '@ussd/execution-data-access';
import type { ExecutionEvent } from '@ussd/execution-domain';
import { spawnApp, type AppProcess } from '@ussd/platform-testing';

export const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface Produced {
  readonly executionIds: string[];
  readonly nodeIds: string[];
  readonly events: ExecutionEvent[];
}

/** `n` executions (start, `nodes` nodes, finish), shuffled so node events often come before their start. */
export function makeExecutions(n: number, nodes = 3): Produced {
  const factories = Array.from({ length: n }, () => new ExecutionEventFactory());
  const events: ExecutionEvent[] = factories.flatMap((f) => [f.started(), ...Array.from({ length: nodes }, (_, i) => f.node(`n${i}`)), f.finished()]);
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j] as ExecutionEvent, events[i] as ExecutionEvent];
  }
  return {
    executionIds: factories.map((f) => f.executionId),
    nodeIds: events.flatMap((e) => (e.type === 'node.finished' ? [e.payload.nodeExecutionId] : [])).sort(),
    events,
  };
}

/** Appends events as the api does (one entry, field `event`, JSON). */
export async function produce(redis: Redis, stream: string, events: readonly (ExecutionEvent | string)[]): Promise<void> {
  const pipeline = redis.pipeline();
  for (const e of events) pipeline.xadd(stream, '*', EVENT_FIELD, typeof e === 'string' ? e : JSON.stringify(e));
  await pipeline.exec();
}

export interface RowCounts {
  readonly executions: number;
  readonly completed: number;
  readonly nodes: number;
  readonly distinctNodes: number;
}

export async function rowCounts(client: pg.Client, executionIds: readonly string[]): Promise<RowCounts> {
  const { rows } = await client.query<RowCounts>(
    `SELECT (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1))::int AS executions,
            (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1) AND status = 'completed')::int AS completed,
            (SELECT COUNT(*) FROM node_execution_logs WHERE execution_id = ANY($1))::int AS nodes,
            (SELECT COUNT(DISTINCT id) FROM node_execution_logs WHERE execution_id = ANY($1))::int AS "distinctNodes"`,
    [executionIds],
  );
  return rows[0] as RowCounts;
}

export async function nodeIdsIn(client: pg.Client, executionIds: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(`SELECT id FROM node_execution_logs WHERE execution_id = ANY($1) ORDER BY id`, [executionIds]);
  return rows.map((r) => r.id).sort();
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function groupPending(redis: Redis, stream: string, group = 'log-ingester'): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/** The ingester app, built, as an operator starts it. */
export function spawnIngester(env: Record<string, string>): Promise<AppProcess> {
  return spawnApp(entry, {
    LOG_LEVEL: 'info',
    DATABASE_MIGRATE_ON_BOOT: 'false',
    INGEST_BLOCK_MS: '100',
    INGEST_CLAIM_IDLE_MS: '1000',
    HEALTH_CHECK_TIMEOUT_MS: '500',
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
    INGEST_CONSUMER_NAME: `c-${randomUUID().slice(0, 8)}`,
    ...env,
  });
}

/** Waits until a backend of database `name` is blocked on a lock (the ingester, inside its transaction). */
export async function waitForLockWait(client: pg.Client, name: string): Promise<void> {
  await waitFor(
    'the ingester to wait on the table lock',
    async () =>
      (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`, [name])).rows[0]?.n ?? 0,
    (n) => n > 0,
  );
}

export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** The consumers of the group, as XINFO CONSUMERS lists them (name and pending entries), sorted by name. */
export async function groupConsumers(redis: Redis, stream: string, group = 'log-ingester'): Promise<{ name: string; pending: number }[]> {
  const reply = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
  return reply
    .map((fields) => {
      const info = Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [String(fields[2 * i]), fields[2 * i + 1]]));
      return { name: String(info['name']), pending: Number(info['pending']) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Waits until at least `n` backends of database `name` are blocked on a lock (ingesters inside their transactions). */
export async function waitForLockWaits(client: pg.Client, name: string, n: number): Promise<void> {
  await waitFor(
    `${n} ingesters to wait on the table lock`,
    async () =>
      (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`, [name])).rows[0]?.n ?? 0,
    (count) => count >= n,
  );
}
