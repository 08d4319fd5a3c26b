import type { DataSource } from 'typeorm';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, silentLogger, TcpProxy, type TestDatabase } from '@ussd/platform-testing';
import { BufferedEventWriter, EventBufferFullError } from './buffered-event-writer.js';
import { ExecutionEventFactory } from './execution-event.factory.js';
import { ExecutionLogIngestor } from './execution-log.ingestor.js';

describe('BufferedEventWriter against real PostgreSQL', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  const errors: unknown[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    proxy = await TcpProxy.forUrl(database.url).start();
    const config = parseConfig({ DATABASE_CONNECT_TIMEOUT_MS: '500' }, { appName: 'test', port: 0 }).database;
    dataSource = await createDataSource(proxy.rewrite(database.url), config, 'test').initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await proxy?.stop();
    await database?.drop();
  });

  const writer = (maxBuffered = 10_000) =>
    new BufferedEventWriter(new ExecutionLogIngestor(dataSource), { batchSize: 100, flushIntervalMs: 20, maxBuffered, onError: (e) => errors.push(e) });
  const rows = async (ids: string[]) =>
    Number(((await dataSource.query(`SELECT COUNT(*) AS n FROM node_execution_logs WHERE execution_id = ANY($1)`, [ids])) as { n: string }[])[0]?.n);

  it('writes emitted events in the background, within the flush interval, without the emitter waiting', async () => {
    const w = writer();
    const factories = Array.from({ length: 30 }, () => new ExecutionEventFactory());
    const started = performance.now();
    for (const f of factories) for (const event of [f.started(), f.node('a'), f.node('b'), f.finished()]) w.emit(event);
    expect(performance.now() - started).toBeLessThan(50); // emit only appends
    const deadline = Date.now() + 2000;
    while ((await rows(factories.map((f) => f.executionId))) < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await rows(factories.map((f) => f.executionId))).toBe(60);
    expect(w.pending).toBe(0);
    await w.close();
  });

  it('keeps events through a database outage, retries, and writes them all once it is back', async () => {
    const w = writer();
    const f = new ExecutionEventFactory();
    await proxy.cut();
    try {
      for (const event of [f.started(), f.node('a'), f.node('b'), f.finished()]) w.emit(event);
      await new Promise((r) => setTimeout(r, 700));
      expect(w.pending).toBe(4);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await proxy.restore();
    }
    await w.flush(10_000);
    expect(await rows([f.executionId])).toBe(2);
    await w.close();
  });

  it('refuses new events past its bound instead of growing without limit', async () => {
    const w = writer(3);
    const f = new ExecutionEventFactory();
    await proxy.cut();
    try {
      w.emit(f.started());
      w.emit(f.node('a'));
      w.emit(f.node('b'));
      expect(() => w.emit(f.finished())).toThrow(EventBufferFullError);
    } finally {
      await proxy.restore();
    }
    await w.close();
    expect(() => w.emit(f.finished())).toThrow('closed');
  });
});
