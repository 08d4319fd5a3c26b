import { Redis } from 'ioredis';
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { createTestDatabase, requireRedis, TcpProxy, type TestDatabase } from '@ussd/platform-testing';
import { unreachableDependency } from './dependency-errors.js';

/** The errors the real drivers raise, not hand-made look-alikes: what unreachableDependency must recognise, and what it must not. */
describe('unreachableDependency', () => {
  let database: TestDatabase;
  let redisUrl: string;
  /** A port nothing listens on (bound then closed). */
  let closedPort: number;

  const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected a rejection');
  };

  beforeAll(async () => {
    redisUrl = await requireRedis();
    database = await createTestDatabase();
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(port));
      });
    });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('PostgreSQL refusing connections (pg, pg-pool, TypeORM) is postgres', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: closedPort, user: 'postgres', connectionTimeoutMillis: 2000 });
    expect(unreachableDependency(await rejection(client.connect()))).toBe('postgres');
    const pool = new pg.Pool({ host: '127.0.0.1', port: closedPort, user: 'postgres', connectionTimeoutMillis: 2000 });
    expect(unreachableDependency(await rejection(pool.query('SELECT 1')))).toBe('postgres');
    await pool.end();
    const url = new URL(database.url);
    url.port = String(closedPort);
    const dataSource = new DataSource({ type: 'postgres', url: url.toString(), extra: { connectionTimeoutMillis: 2000 } });
    expect(unreachableDependency(await rejection(dataSource.initialize()))).toBe('postgres');
    await (dataSource.driver as unknown as { master?: pg.Pool }).master?.end(); // initialize() failed, so destroy() would refuse
  });

  it('a PostgreSQL connection lost mid-query (TypeORM wraps it) is postgres, and the pool reconnects afterwards', async () => {
    const proxy = await TcpProxy.forUrl(database.url).start();
    const dataSource = await new DataSource({ type: 'postgres', url: proxy.rewrite(database.url), extra: { connectionTimeoutMillis: 2000 } }).initialize();
    try {
      const sleeping = rejection(dataSource.query('SELECT pg_sleep(30)'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.cut();
      const lost = await sleeping;
      expect(unreachableDependency(lost)).toBe('postgres');
      expect(unreachableDependency(await rejection(dataSource.query('SELECT 1')))).toBe('postgres');
      await proxy.restore();
      expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy().catch(() => undefined);
      await proxy.stop();
    }
  });

  it('what PostgreSQL refused (bad SQL, a constraint, a statement timeout) is not an outage: it stays a 500', async () => {
    const dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    try {
      const syntax = await rejection(dataSource.query('SELEC 1'));
      expect(syntax).toBeInstanceOf(QueryFailedError);
      expect(unreachableDependency(syntax)).toBeUndefined();
      await dataSource.query('CREATE TABLE t (id int PRIMARY KEY)');
      await dataSource.query('INSERT INTO t VALUES (1)');
      expect(unreachableDependency(await rejection(dataSource.query('INSERT INTO t VALUES (1)')))).toBeUndefined();
      const cancelled = await rejection(
        dataSource.transaction(async (manager) => {
          await manager.query('SET LOCAL statement_timeout = 1');
          await manager.query('SELECT pg_sleep(1)');
        }),
      );
      expect((cancelled as { driverError?: { code?: string } }).driverError?.code).toBe('57014');
      expect(unreachableDependency(cancelled)).toBeUndefined();
    } finally {
      await dataSource.destroy();
    }
  });

  it('Redis unreachable (offline queue off, retries exhausted, closed, timed out) is redis; a refused command is not', async () => {
    const failFast = new Redis({ host: '127.0.0.1', port: closedPort, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 200 });
    failFast.on('error', () => undefined);
    const closed = await rejection(failFast.connect());
    expect(String(closed)).toMatch(/Connection is closed/);
    expect(unreachableDependency(closed)).toBe('redis');
    expect(unreachableDependency(await rejection(failFast.get('k')))).toBe('redis');
    failFast.disconnect();

    const retrying = new Redis({ host: '127.0.0.1', port: closedPort, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    retrying.on('error', () => undefined);
    const exhausted = await rejection(retrying.get('k'));
    expect((exhausted as Error).name).toBe('MaxRetriesPerRequestError');
    expect(unreachableDependency(exhausted)).toBe('redis');
    retrying.disconnect();

    // A server that accepts the connection and never answers: only the command timeout ends the wait.
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const mute = new Redis({ host: '127.0.0.1', port: typeof address === 'object' && address ? address.port : 0, enableReadyCheck: false, commandTimeout: 100, maxRetriesPerRequest: 0 });
    mute.on('error', () => undefined);
    try {
      const timedOut = await rejection(mute.get('k'));
      expect(String(timedOut)).toMatch(/Command timed out/);
      expect(unreachableDependency(timedOut)).toBe('redis');
    } finally {
      mute.disconnect();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }

    const live = new Redis(redisUrl);
    try {
      const key = `dependency-errors-${Date.now()}`;
      await live.set(key, 'text', 'EX', 60);
      const wrongType = await rejection(live.lpush(key, 'x'));
      expect(String(wrongType)).toMatch(/WRONGTYPE/);
      expect(unreachableDependency(wrongType)).toBeUndefined();
    } finally {
      live.disconnect();
    }
  });

  it('plain errors, strings and cycles are not outages', () => {
    const cyclic = new Error('a', { cause: undefined }) as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    for (const value of [new Error('boom'), new TypeError('x is undefined'), 'ECONNREFUSED', null, undefined, 42, cyclic, { code: '23505' }]) expect(unreachableDependency(value)).toBeUndefined();
    expect(unreachableDependency(new Error('wrapped', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }))).toBe('postgres');
  });
});
