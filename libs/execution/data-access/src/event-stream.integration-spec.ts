import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ExecutionEvent } from '@ussd/execution-domain';
import { requireRedis, silentLogger, TcpProxy } from '@ussd/platform-testing';
import { deleteDeadLetters, listDeadLetters, redriveDeadLetters, streamStats } from './dead-letters.js';
import { EventStreamConsumer, type EventStreamConsumerOptions } from './event-stream-consumer.js';
import { deadLetterStreamKey, decodeStreamEntry, EVENT_FIELD } from './event-stream.js';
import { ExecutionEventFactory } from './execution-event.factory.js';
import { ExecutionLogIngestor } from './execution-log.ingestor.js';
import { EventStreamUnavailableError, RedisStreamEventSink } from './redis-stream-event-sink.js';
import { type MigratedDatabase, openMigratedDatabase } from './test-database.test-helpers.js';

const PREFIX = `t-stream-${randomUUID().slice(0, 8)}`;
let streamNo = 0;
const newStream = () => `${PREFIX}:events-${++streamNo}`;

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The events of `n` executions of `nodes` nodes each, shuffled so node events often overtake their start. */
function executions(n: number, nodes = 3): { events: ExecutionEvent[]; factories: ExecutionEventFactory[] } {
  const factories = Array.from({ length: n }, () => new ExecutionEventFactory());
  const events = factories.flatMap((f) => [f.started(), ...Array.from({ length: nodes }, (_, i) => f.node(`n${i}`)), f.finished()]);
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return { events, factories };
}

describe('execution events through a Redis Stream (real Redis and PostgreSQL)', () => {
  let redis: Redis;
  let db: MigratedDatabase;
  const consumers: EventStreamConsumer[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = new Redis(await requireRedis());
    db = await openMigratedDatabase();
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await db?.close();
  });

  const ingestor = () => new ExecutionLogIngestor(db.dataSource);
  const produce = (stream: string, events: readonly ExecutionEvent[]) => Promise.all(events.map((e) => redis.xadd(stream, '*', EVENT_FIELD, JSON.stringify(e))));
  async function consumer(stream: string, overrides: Partial<EventStreamConsumerOptions> = {}) {
    const connection = new Redis(await requireRedis());
    clients.push(connection);
    const c = new EventStreamConsumer(connection, {
      streamKey: stream,
      group: 'ingesters',
      consumer: `c-${randomUUID().slice(0, 6)}`,
      batchSize: 50,
      blockMs: 100,
      claimIdleMs: 1000,
      maxDeliveries: 3,
      maxLength: 1_000_000,
      ingest: (events) => ingestor().ingest(events),
      logger: silentLogger(),
      ...overrides,
    });
    consumers.push(c);
    c.start();
    return c;
  }
  const counts = async (ids: readonly string[]) =>
    (
      (await db.dataSource.query(
        `SELECT (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1))::int AS executions,
                (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1) AND status = 'completed')::int AS completed,
                (SELECT COUNT(*) FROM node_execution_logs WHERE execution_id = ANY($1))::int AS nodes`,
        [ids],
      )) as { executions: number; completed: number; nodes: number }[]
    )[0]!;

  describe('RedisStreamEventSink (the api side)', () => {
    it('appends every emitted event to the stream, in order, without the emitter waiting', async () => {
      const stream = newStream();
      const sink = new RedisStreamEventSink(redis, { streamKey: stream, maxBuffered: 1000, onError: () => undefined });
      const f = new ExecutionEventFactory();
      const events = [f.started(), f.node('a'), f.node('b'), f.finished()];
      for (const e of events) expect(sink.emit(e)).toBeUndefined();
      // Pause/resume markers change no row: they are not streamed.
      const base = f.started();
      sink.emit({ ...base, eventId: randomUUID(), type: 'execution.paused', payload: { nodeId: 'a', waitingFor: 'input' } } as ExecutionEvent);
      sink.emit({ ...base, eventId: randomUUID(), type: 'execution.resumed', payload: { nodeId: 'a' } } as ExecutionEvent);
      await sink.flush();
      const entries = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
      expect(entries.map(([id, fields]) => (decodeStreamEntry(id, fields) as { event: ExecutionEvent }).event)).toEqual(events);
      expect(sink.saturated).toBe(false);
      await sink.close();
      expect(() => sink.emit(f.node('late'))).toThrow('closed');
    });

    it('rides out a Redis outage within its bound: saturated (with the reason) while down, full -> emit throws, then every event once', async () => {
      const url = await requireRedis();
      const proxy = await TcpProxy.forUrl(url).start();
      const client = new Redis(proxy.rewrite(url), { maxRetriesPerRequest: 1, retryStrategy: () => 50, connectTimeout: 500 });
      client.on('error', () => undefined);
      clients.push(client);
      const stream = newStream();
      const errors: unknown[] = [];
      const sink = new RedisStreamEventSink(client, { streamKey: stream, maxBuffered: 10, onError: (e) => errors.push(e) });
      try {
        const f = new ExecutionEventFactory();
        sink.emit(f.started());
        await sink.flush();
        await proxy.cut();
        const during = [f.node('a'), f.node('b'), f.node('c')];
        for (const e of during) sink.emit(e);
        await until(async () => errors.length > 0);
        expect(sink.saturated).toBe(true);
        expect(sink.saturationReason).toMatch(/^Redis is unreachable/);
        for (let i = 0; i < 7; i += 1) sink.emit(f.node(`more-${i}`));
        expect(sink.pending).toBe(10);
        expect(() => sink.emit(f.finished())).toThrow(EventStreamUnavailableError);
        await proxy.restore();
        await sink.flush(15_000);
        expect(sink.saturated).toBe(false);
        const ids = ((await redis.xrange(stream, '-', '+')) as [string, string[]][]).map(([id, fields]) => (decodeStreamEntry(id, fields) as { event: ExecutionEvent }).event.eventId);
        expect(ids).toHaveLength(11);
        expect(new Set(ids).size).toBe(11);
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('EventStreamConsumer (the log-ingester)', () => {
    it('writes every event once, in batches, whatever the order (node before start), and acknowledges them all', async () => {
      const stream = newStream();
      const { events, factories } = executions(40);
      await produce(stream, events);
      await consumer(stream, { batchSize: 7 });
      const ids = factories.map((f) => f.executionId);
      await until(async () => (await counts(ids)).nodes === 120 && (await counts(ids)).completed === 40);
      await until(async () => (await streamStats(redis, stream, 'ingesters')).pending === 0);
      expect(await counts(ids)).toEqual({ executions: 40, completed: 40, nodes: 120 });
      expect(await streamStats(redis, stream, 'ingesters')).toMatchObject({ length: 200, pending: 0, lag: 0, deadLetters: 0 });
    });

    it('two consumers in one group share the stream: no duplicates, no foreign-key errors', async () => {
      const stream = newStream();
      const { events, factories } = executions(100);
      const failures: boolean[] = [];
      await consumer(stream, { batchSize: 13, observer: { writeFailed: (t) => failures.push(t) } });
      await consumer(stream, { batchSize: 11, observer: { writeFailed: (t) => failures.push(t) } });
      await produce(stream, events);
      const ids = factories.map((f) => f.executionId);
      await until(async () => (await counts(ids)).nodes === 300 && (await counts(ids)).completed === 100);
      expect(await counts(ids)).toEqual({ executions: 100, completed: 100, nodes: 300 });
      expect(failures).toEqual([]);
    });

    it('claims what a dead consumer left pending after the idle time, and writes it once', async () => {
      const stream = newStream();
      const { events, factories } = executions(5);
      await redis.xgroup('CREATE', stream, 'ingesters', '0', 'MKSTREAM');
      await produce(stream, events);
      // A consumer that read everything and died before writing.
      await redis.xreadgroup('GROUP', 'ingesters', 'dead', 'COUNT', 1000, 'STREAMS', stream, '>');
      const started = Date.now();
      await consumer(stream, { claimIdleMs: 1000 });
      const ids = factories.map((f) => f.executionId);
      await until(async () => (await counts(ids)).nodes === 15);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await until(async () => (await streamStats(redis, stream, 'ingesters')).pending === 0);
      expect(await counts(ids)).toEqual({ executions: 5, completed: 5, nodes: 15 });
    });

    it('dead-letters a poison entry (after maxDeliveries failures; a malformed one at once) with its error, and the others flow', async () => {
      const stream = newStream();
      const { events, factories } = executions(10);
      const poison = new ExecutionEventFactory(randomUUID(), 2_147_483_648).started(); // PostgreSQL refuses the int
      const mid = Math.floor(events.length / 2);
      await produce(stream, [...events.slice(0, mid), poison, ...events.slice(mid)]);
      await redis.xadd(stream, '*', EVENT_FIELD, '{"not": "an event"');
      const dead: number[] = [];
      await consumer(stream, { batchSize: 20, maxDeliveries: 3, observer: { deadLettered: (n) => dead.push(n) } });
      const ids = factories.map((f) => f.executionId);
      await until(async () => (await counts(ids)).nodes === 30);
      await until(async () => (await streamStats(redis, stream, 'ingesters')).deadLetters === 2);
      expect(await counts(ids)).toEqual({ executions: 10, completed: 10, nodes: 30 });
      const letters = await listDeadLetters(redis, stream, { limit: 10 });
      expect(letters.map((l) => [l.failures, l.error.split(':')[0]]).sort()).toEqual([
        [1, 'event is not JSON'],
        [3, '22003'],
      ]);
      expect(JSON.parse(letters.find((l) => l.failures === 3)!.event)).toEqual(poison);
      await until(async () => (await streamStats(redis, stream, 'ingesters')).pending === 0);
      expect(dead).toEqual([1, 1]);
      expect((await counts([poison.executionId])).executions).toBe(0);

      // Re-driving puts the event back; still poison, it comes back to the dead letters.
      const poisonLetter = letters.find((l) => l.failures === 3)!;
      expect(await redriveDeadLetters(redis, stream, [poisonLetter.id, '1-1'])).toEqual({ redriven: [poisonLetter.id], missing: ['1-1'] });
      await until(async () => (await listDeadLetters(redis, stream, { limit: 10 })).some((l) => l.sourceId !== poisonLetter.sourceId && l.failures === 3));
      await expect(redriveDeadLetters(redis, stream, ['nope'])).rejects.toThrow('not a stream entry id');
      const malformed = letters.find((l) => l.failures === 1)!;
      expect(await deleteDeadLetters(redis, stream, [malformed.id])).toEqual({ redriven: [malformed.id], missing: [] });
      expect(await listDeadLetters(redis, stream, { limit: 10 })).toHaveLength(1);
    });

    it('a redriven dead letter that is fine now is written once', async () => {
      const stream = newStream();
      const f = new ExecutionEventFactory();
      const event = f.node('late');
      await redis.xadd(deadLetterStreamKey(stream), '*', 'sourceId', '1-0', 'event', JSON.stringify(event), 'error', 'x', 'failures', '3', 'consumer', 'c', 'deadAt', new Date().toISOString());
      await consumer(stream);
      expect((await redriveDeadLetters(redis, stream, 'all')).redriven).toHaveLength(1);
      await until(async () => (await counts([f.executionId])).nodes === 1);
      expect(await listDeadLetters(redis, stream, { limit: 10 })).toEqual([]);
    });

    it('keeps entries pending through a PostgreSQL outage, retries with backoff, and catches up by itself', async () => {
      const stream = newStream();
      const proxy = await TcpProxy.forUrl(db.database.url).start();
      const viaProxy = await openMigratedDatabase({ url: (u) => proxy.rewrite(u), env: { DATABASE_CONNECT_TIMEOUT_MS: '300' } });
      try {
        const proxied = new ExecutionLogIngestor(viaProxy.dataSource);
        const c = await consumer(stream, { ingest: (e) => proxied.ingest(e), maxBackoffMs: 200 });
        const first = executions(5);
        await produce(stream, first.events);
        await until(async () => (await countsOn(viaProxy, first.factories)).nodes === 15);
        await proxy.cut();
        const second = executions(5);
        await produce(stream, second.events);
        await until(async () => !c.health.healthy);
        expect((await streamStats(redis, stream, 'ingesters')).pending).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 500));
        await proxy.restore();
        await until(async () => (await countsOn(viaProxy, second.factories)).nodes === 15);
        await until(async () => c.health.healthy && (await streamStats(redis, stream, 'ingesters')).pending === 0);
        expect(await countsOn(viaProxy, [...first.factories, ...second.factories])).toEqual({ executions: 10, completed: 10, nodes: 30 });
      } finally {
        await Promise.all(consumers.splice(0).map((c) => c.stop()));
        await proxy.stop();
        await viaProxy.dataSource.destroy();
        await viaProxy.database.drop();
      }
    });

    it('trims only acknowledged entries once the stream is over its length', async () => {
      const stream = newStream();
      const { events } = executions(60, 3); // 300 entries
      await redis.xgroup('CREATE', stream, 'ingesters', '0', 'MKSTREAM');
      await produce(stream, events.slice(0, 150));
      // Another group lags behind: nothing it has not acknowledged may go.
      await redis.xgroup('CREATE', stream, 'audit', '0');
      await redis.xreadgroup('GROUP', 'audit', 'a', 'COUNT', 100, 'STREAMS', stream, '>');
      const [oldestPendingAtAudit] = ((await redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][])[0]!;
      await produce(stream, events.slice(150));
      await consumer(stream, { maxLength: 50 });
      await until(async () => (await streamStats(redis, stream, 'ingesters')).lag === 0 && (await streamStats(redis, stream, 'ingesters')).pending === 0);
      await new Promise((r) => setTimeout(r, 1300));
      // The audit group holds its 100 entries pending from the first one: everything stays.
      expect(((await redis.xrange(stream, '-', '+', 'COUNT', 1)) as [string, string[]][])[0]![0]).toBe(oldestPendingAtAudit);
      expect(await redis.xlen(stream)).toBe(300);
      await redis.xgroup('DESTROY', stream, 'audit');
      await produce(stream, executions(1, 1).events);
      await until(async () => (await redis.xlen(stream)) < 300, 5000);
      expect((await streamStats(redis, stream, 'ingesters')).pending).toBe(0);
    });

    it('stop() finishes the batch in hand, acknowledges it, and returns', async () => {
      const stream = newStream();
      const { events, factories } = executions(10);
      await produce(stream, events);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let entered: () => void = () => undefined;
      const inside = new Promise<void>((r) => (entered = r));
      const c = await consumer(stream, {
        batchSize: 1000,
        ingest: async (batch) => {
          entered();
          await gate;
          return ingestor().ingest(batch);
        },
      });
      await inside;
      const stopped = c.stop();
      release();
      await stopped;
      expect(await counts(factories.map((f) => f.executionId))).toEqual({ executions: 10, completed: 10, nodes: 30 });
      expect((await streamStats(redis, stream, 'ingesters')).pending).toBe(0);
    });
  });

  async function countsOn(database: MigratedDatabase, factories: readonly ExecutionEventFactory[]) {
    const rows = (await database.dataSource.query(
      `SELECT (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1))::int AS executions,
              (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1) AND status = 'completed')::int AS completed,
              (SELECT COUNT(*) FROM node_execution_logs WHERE execution_id = ANY($1))::int AS nodes`,
      [factories.map((f) => f.executionId)],
    )) as { executions: number; completed: number; nodes: number }[];
    return rows[0]!;
  }
});
