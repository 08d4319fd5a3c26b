import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { requireRedis } from '@ussd/platform-testing';
import { ConsumerHeartbeat, ConsumerNameInUseError, consumerHeartbeatKey } from './consumer-heartbeat.js';
import { EventStreamConsumer } from './event-stream-consumer.js';
import { EVENT_FIELD } from './event-stream.js';
import { ExecutionEventFactory } from './execution-event.factory.js';
import { ExecutionLogIngestor } from './execution-log.ingestor.js';
import { type MigratedDatabase, openMigratedDatabase } from './test-database.test-helpers.js';

const PREFIX = `t-heartbeat-${randomUUID().slice(0, 8)}`;
let streamNo = 0;
const GROUP = 'ingesters';

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('consumer heartbeats and dead consumers (real Redis and PostgreSQL)', () => {
  let url: string;
  let redis: Redis;
  let stream: string;
  const connections: Redis[] = [];
  const heartbeats: ConsumerHeartbeat[] = [];

  beforeAll(async () => {
    url = await requireRedis();
    redis = new Redis(url);
  });
  beforeEach(() => {
    stream = `${PREFIX}:events-${++streamNo}`;
  });
  afterEach(async () => {
    await Promise.all(heartbeats.splice(0).map((h) => h.stop()));
    for (const c of connections.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const logged: { message: string; object: Record<string, unknown> }[] = [];
  const logger = {
    info: (object: object, message: string) => logged.push({ message, object: object as Record<string, unknown> }),
    warn: (object: object, message: string) => logged.push({ message, object: object as Record<string, unknown> }),
    error: (object: object, message: string) => logged.push({ message, object: object as Record<string, unknown> }),
  };

  function heartbeat(ttlMs = 5000, beatMs = 100): ConsumerHeartbeat {
    const connection = new Redis(url);
    connections.push(connection);
    const h = new ConsumerHeartbeat(connection, { streamKey: stream, group: GROUP, ttlMs, beatMs, logger });
    heartbeats.push(h);
    return h;
  }

  it('takes a free name and renews its heartbeat (under the stream key, with the TTL) every beat', async () => {
    const h = heartbeat(5000);
    expect(await h.acquire('pod-a')).toBe('pod-a');
    const key = consumerHeartbeatKey(stream, GROUP, 'pod-a');
    expect(key.startsWith(`${PREFIX}:`)).toBe(true);
    const first = await redis.get(key);
    h.start();
    await until(async () => (await redis.get(key)) !== first);
    expect(await redis.pttl(key)).toBeGreaterThan(4000);
  });

  it('a name a live process renews is refused without a fallback (one line saying what to do), or replaced by the fallback', async () => {
    const holder = heartbeat(5000, 50);
    await holder.acquire('pod-b');
    holder.start();
    const holderToken = (await redis.get(consumerHeartbeatKey(stream, GROUP, 'pod-b')))?.split(' ')[0];
    const refused = heartbeat(5000, 250).acquire('pod-b'); // watches 1.5 s; the holder renews every 50 ms
    await expect(refused).rejects.toBeInstanceOf(ConsumerNameInUseError);
    await expect(refused).rejects.toThrow(`consumer name "pod-b" of group ${GROUP} is used by another live process (its heartbeat is being renewed): give each process its own INGEST_CONSUMER_NAME, or stop the other one`);
    expect(await heartbeat(5000, 250).acquire('pod-b', () => 'pod-b-2')).toBe('pod-b-2');
    expect((await redis.get(consumerHeartbeatKey(stream, GROUP, 'pod-b')))?.split(' ')[0]).toBe(holderToken); // still the holder's
  });

  it('a heartbeat whose connection is closed is taken at once; one whose connection lives but is not renewed, after six beats', async () => {
    const gone = new Redis(url);
    const goneId = Number(await gone.client('ID'));
    gone.disconnect();
    await until(async () => String(await redis.call('CLIENT', 'LIST', 'ID', String(goneId))).trim() === '');
    await redis.set(consumerHeartbeatKey(stream, GROUP, 'pod-c'), `dead-token ${goneId} 7`, 'PX', 60_000);
    logged.length = 0;
    expect(await heartbeat(5000, 200).acquire('pod-c')).toBe('pod-c');
    expect(logged.map((l) => [l.message, l.object['consumer'], l.object['why']])).toEqual([['took over the consumer name of a process that stopped', 'pod-c', 'its Redis connection is closed']]);

    const hung = new Redis(url); // still connected, never renews (a process stuck, or a half-open connection)
    connections.push(hung);
    await redis.set(consumerHeartbeatKey(stream, GROUP, 'pod-d'), `hung-token ${Number(await hung.client('ID'))} 3`, 'PX', 60_000);
    logged.length = 0;
    const started = Date.now();
    const taker = heartbeat(5000, 100);
    expect(await taker.acquire('pod-d')).toBe('pod-d');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600); // six beats watched
    expect(logged.map((l) => [l.message, l.object['consumer'], l.object['why']])).toEqual([['took over the consumer name of a process that stopped', 'pod-d', 'its heartbeat was not renewed']]);
    expect((await redis.get(consumerHeartbeatKey(stream, GROUP, 'pod-d')))?.startsWith('hung-token')).toBe(false);
  });

  it('stop() deletes its own heartbeat, never a successor\'s', async () => {
    const h = heartbeat();
    await h.acquire('pod-e');
    const key = consumerHeartbeatKey(stream, GROUP, 'pod-e');
    await redis.set(key, 'successor-token 1 1', 'PX', 60_000);
    await h.stop();
    expect(await redis.get(key)).toBe('successor-token 1 1');
    const own = heartbeat();
    await own.acquire('pod-f');
    await own.stop();
    expect(await redis.exists(consumerHeartbeatKey(stream, GROUP, 'pod-f'))).toBe(0);
  });

  describe('EventStreamConsumer with heartbeatTtlMs', () => {
    let db: MigratedDatabase;
    const consumers: EventStreamConsumer[] = [];
    beforeAll(async () => {
      db = await openMigratedDatabase();
    });
    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
    });
    afterAll(async () => {
      await db?.close();
    });

    async function consumerNames(): Promise<string[]> {
      const reply = (await redis.xinfo('CONSUMERS', stream, GROUP)) as unknown[][];
      return reply.map((fields) => String(fields[1])).sort();
    }

    it('takes every pending entry of a consumer without heartbeat (more than one batch), writes each once, then removes it from the group', async () => {
      const factories = Array.from({ length: 240 }, () => new ExecutionEventFactory());
      const events = factories.flatMap((f) => [f.started(), f.node('a'), f.node('b'), f.node('c'), f.finished()]);
      const pipeline = redis.pipeline();
      for (const e of events) pipeline.xadd(stream, '*', EVENT_FIELD, JSON.stringify(e));
      await pipeline.exec();
      await redis.xgroup('CREATE', stream, GROUP, '0');
      await redis.xreadgroup('GROUP', GROUP, 'vanished', 'COUNT', 5000, 'STREAMS', stream, '>'); // 1,200 entries pending at a consumer that never had a heartbeat
      await redis.xgroup('CREATECONSUMER', stream, GROUP, 'alive'); // an empty consumer with a heartbeat: alive, never removed
      const alive = heartbeat(60_000);
      await alive.acquire('alive');

      const messages: string[] = [];
      const me = heartbeat(1000);
      await me.acquire('me');
      me.start();
      const connection = new Redis(url);
      connections.push(connection);
      const ingestor = new ExecutionLogIngestor(db.dataSource);
      const consumer = new EventStreamConsumer(connection, {
        streamKey: stream,
        group: GROUP,
        consumer: 'me',
        batchSize: 500,
        blockMs: 100,
        claimIdleMs: 600_000,
        maxDeliveries: 3,
        maxLength: 1_000_000,
        heartbeatTtlMs: 1000,
        reapEveryMs: 200,
        ingest: (batch) => ingestor.ingest(batch),
        logger: { info: (_o, m) => messages.push(m), warn: (_o, m) => messages.push(m), error: (_o, m) => messages.push(m) },
      });
      consumers.push(consumer);
      consumer.start();
      await until(async () => (await consumerNames()).join() === 'alive,me');
      const ids = factories.map((f) => f.executionId);
      const [counts] = (await db.dataSource.query(
        `SELECT (SELECT COUNT(*) FROM execution_logs WHERE execution_id = ANY($1) AND status = 'completed')::int AS completed,
                (SELECT COUNT(*) FROM node_execution_logs WHERE execution_id = ANY($1))::int AS nodes`,
        [ids],
      )) as { completed: number; nodes: number }[];
      expect(counts).toEqual({ completed: 240, nodes: 720 });
      expect(Number(((await redis.xpending(stream, GROUP)) as [number])[0])).toBe(0);
      expect(await redis.xlen(`${stream}:dead-letters`)).toBe(0);
      // Taken in batches (at most batchSize at a time), removed only once it held nothing.
      expect(messages.filter((m) => m.startsWith('took the pending entries')).length).toBeGreaterThanOrEqual(3);
      expect(messages.at(-1)).toBe('removed a dead consumer from the group (no heartbeat, nothing pending)');
      expect(messages.filter((m) => m.startsWith('removed'))).toHaveLength(1);
    });
  });
});
