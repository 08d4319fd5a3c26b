#!/usr/bin/env node
// Benchmark (not a test): the log-ingester writing execution events from the Redis Stream into
// the seed's indexed tables, against a raw COPY of the same rows into the same tables in the
// same run (the floor). Targets (docs/targets.md): >= 60% of raw COPY; event-to-row lag
// p99 < 1 s under a steady load (measure a steady window of 20 s or more).
//
//   npx nx run log-ingester:build && node tools/bench/ingester.mjs [executions=10000] [steadyExecutionsPerSecond=1000] [steadySeconds=10]
//
// Needs PostgreSQL (DATABASE_URL, default the local server; a fresh database is created and
// dropped) and Redis (REDIS_URL, default 127.0.0.1:6379; a private key prefix is used).
// Each execution is 7 events (start, 5 node attempts, finish) -> 1 execution row + 5 node rows.
//
// 1. floor: COPY of all execution rows, then all node rows, into the empty tables;
// 2. statement strategies for one ingestion batch (500 events), in-process: the UNNEST
//    statements of ExecutionLogIngestor, multi-row INSERT ... VALUES, and COPY into a temporary
//    table + INSERT ... SELECT (COPY alone cannot skip duplicates);
// 3. the log-ingester process draining a backlog of all events from the stream (rows/s);
// 4. the log-ingester under a steady load: event-to-row lag p50/p99 (row created_at, the
//    transaction's start, minus the event's time; measured on the same clock).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ExecutionLogIngestor } from '@ussd/execution-data-access';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createLogger } from '@ussd/platform-logging';

const total = Number(process.argv[2] ?? 10_000);
const steadyRate = Number(process.argv[3] ?? 1000);
const steadySeconds = Number(process.argv[4] ?? 10);
const NODES = 5;
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const entry = fileURLToPath(new URL('../../apps/log-ingester/dist/main.js', import.meta.url));
const logger = createLogger({ name: 'bench', level: 'warn', format: 'json' });

// ---------------------------------------------------------------- data
const workflowId = randomUUID();
function executionEvents(at = Date.now()) {
  const executionId = randomUUID();
  const iso = (ms) => new Date(ms).toISOString();
  const env = (type, payload, ms) => ({ eventId: randomUUID(), type, executionId, workflowId, workflowVersion: 1, occurredAt: iso(ms), payload });
  const events = [env('execution.started', { triggerPayload: { msisdn: '+254700000000', amount: 60 }, sessionId: null, startedAt: iso(at), deadlineAt: null }, at)];
  for (let i = 0; i < NODES; i += 1) {
    events.push(
      env('node.finished', { nodeExecutionId: randomUUID(), nodeId: `n${i}`, nodeType: 'transform', status: 'completed', output: { amount: 120, fee: 12, step: i }, error: null, durationMs: 1, executedAt: iso(at), attempt: 0 }, at),
    );
  }
  events.push(env('execution.finished', { status: 'completed', output: { amount: 120, fee: 12, size: 'big' }, error: null, completedAt: iso(at), durationMs: 2 }, at));
  return events;
}

// ---------------------------------------------------------------- COPY FROM STDIN (minimal pg submittable)
class CopyIn {
  constructor(text, data) {
    this.text = text;
    this.data = data;
  }
  submit(connection) {
    connection.query(this.text);
  }
  handleCopyInResponse(connection) {
    for (let i = 0; i < this.data.length; i += 65_536) connection.sendCopyFromChunk(Buffer.from(this.data.slice(i, i + 65_536)));
    connection.endCopyFrom();
  }
  handleCommandComplete() {}
  handleError(error) {
    this.error = error;
  }
  handleReadyForQuery() {
    this.callback(this.error);
  }
  handleRowDescription() {}
  handleDataRow() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyData() {}
}
const copy = (client, text, data) => new Promise((resolve, reject) => client.query(Object.assign(new CopyIn(text, data), { callback: (e) => (e ? reject(e) : resolve()) })));
const field = (v) => (v === null || v === undefined ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r'));
const tsv = (rows) => rows.map((r) => r.map(field).join('\t')).join('\n') + '\n';
const EXEC_COLUMNS = 'execution_id, workflow_id, workflow_version, status, started_at, completed_at, duration_ms, trigger_payload, output, error, session_id';
const NODE_COLUMNS = 'id, execution_id, node_id, node_type, status, output, error, duration_ms, executed_at, attempt';
function rowsOf(events) {
  const executions = [];
  const nodes = [];
  const finishes = new Map(events.filter((e) => e.type === 'execution.finished').map((e) => [e.executionId, e]));
  for (const e of events) {
    const fin = finishes.get(e.executionId);
    if (e.type === 'execution.started' && fin) {
      executions.push([e.executionId, e.workflowId, e.workflowVersion, 'completed', e.payload.startedAt, fin.payload.completedAt, fin.payload.durationMs, JSON.stringify(e.payload.triggerPayload), JSON.stringify(fin.payload.output), null, null]);
    } else if (e.type === 'node.finished') {
      const p = e.payload;
      nodes.push([p.nodeExecutionId, e.executionId, p.nodeId, p.nodeType, p.status, JSON.stringify(p.output), null, p.durationMs, p.executedAt, p.attempt]);
    }
  }
  return { executions, nodes };
}

// ---------------------------------------------------------------- helpers
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const name = `ussd_bench_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
const redis = new Redis(redisUrl);
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const stream = `${prefix}:execution-events`;
const db = new pg.Client({ connectionString: dbUrl });
/** BENCH_INGESTERS: log-ingester replicas sharing the consumer group (default 1). */
const replicas = Math.max(1, Number(process.env.BENCH_INGESTERS ?? 1));
const ingesters = [];
try {
  await migrateDatabase(dbUrl, logger);
  await db.connect();
  const truncate = () => db.query('TRUNCATE node_execution_logs, execution_logs');
  const count = async () => (await db.query('SELECT (SELECT COUNT(*) FROM execution_logs)::int + (SELECT COUNT(*) FROM node_execution_logs)::int AS n')).rows[0].n;

  // Every event of the backlog, grouped per execution then interleaved as concurrent executions would be.
  const perExecution = Array.from({ length: total }, () => executionEvents());
  const backlog = [];
  for (let i = 0; i < perExecution.length; i += 50) {
    const group = perExecution.slice(i, i + 50);
    for (let k = 0; k < NODES + 2; k += 1) for (const events of group) backlog.push(events[k]);
  }
  const allRows = rowsOf(perExecution.flat());
  const rowCount = allRows.executions.length + allRows.nodes.length;

  // 1. floor: raw COPY of the same rows into the same (empty, indexed) tables.
  await truncate();
  let t = performance.now();
  await copy(db, `COPY execution_logs (${EXEC_COLUMNS}) FROM STDIN`, tsv(allRows.executions));
  await copy(db, `COPY node_execution_logs (${NODE_COLUMNS}) FROM STDIN`, tsv(allRows.nodes));
  const copySeconds = (performance.now() - t) / 1000;
  const copyRate = rowCount / copySeconds;

  // 2. statement strategies, one ingestion batch at a time (500 events), in-process.
  const config = parseConfig({ DATABASE_URL: dbUrl }, { appName: 'bench', port: 0 });
  const dataSource = await createDataSource(dbUrl, config.database, 'bench').initialize();
  const ingestor = new ExecutionLogIngestor(dataSource);
  const batches = [];
  for (let i = 0; i < backlog.length; i += 500) batches.push(backlog.slice(i, i + 500));
  const strategies = {};
  await truncate();
  t = performance.now();
  for (const batch of batches) await ingestor.ingest(batch);
  strategies['UNNEST (ExecutionLogIngestor, full semantics)'] = rowCount / ((performance.now() - t) / 1000);
  // Node rows alone (the bulk), execution rows already there: UNNEST vs VALUES vs COPY + INSERT SELECT.
  const nodeBatches = batches.map((b) => rowsOf(b).nodes);
  const nodeStrategies = {
    'node rows: INSERT ... SELECT FROM UNNEST': async (client, rows) => {
      const col = (i) => rows.map((r) => r[i]);
      await client.query(
        `INSERT INTO node_execution_logs (${NODE_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::jsonb[], $7::jsonb[], $8::int[], $9::timestamptz[], $10::int[]) ON CONFLICT (id) DO NOTHING`,
        [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), col(8), col(9)],
      );
    },
    'node rows: multi-row INSERT ... VALUES': async (client, rows) => {
      const values = rows.map((_, r) => `(${Array.from({ length: 10 }, (_, c) => `$${r * 10 + c + 1}`).join(', ')})`).join(', ');
      await client.query(`INSERT INTO node_execution_logs (${NODE_COLUMNS}) VALUES ${values} ON CONFLICT (id) DO NOTHING`, rows.flat());
    },
    'node rows: COPY to temp table + INSERT SELECT': async (client, rows) => {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE IF NOT EXISTS node_in (LIKE node_execution_logs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
      await copy(client, `COPY node_in (${NODE_COLUMNS}) FROM STDIN`, tsv(rows));
      await client.query(`INSERT INTO node_execution_logs (${NODE_COLUMNS}) SELECT ${NODE_COLUMNS} FROM node_in ON CONFLICT (id) DO NOTHING`);
      await client.query('COMMIT');
    },
  };
  for (const [label, write] of Object.entries(nodeStrategies)) {
    await db.query('TRUNCATE node_execution_logs');
    t = performance.now();
    for (const rows of nodeBatches) await write(db, rows);
    strategies[label] = allRows.nodes.length / ((performance.now() - t) / 1000);
  }
  await db.query('TRUNCATE node_execution_logs');
  t = performance.now();
  await copy(db, `COPY node_execution_logs (${NODE_COLUMNS}) FROM STDIN`, tsv(allRows.nodes));
  strategies['node rows: raw COPY (no duplicate check)'] = allRows.nodes.length / ((performance.now() - t) / 1000);
  await dataSource.destroy();

  // 3. the log-ingester process draining the whole backlog from the stream.
  await truncate();
  const pipeline = redis.pipeline();
  for (const e of backlog) pipeline.xadd(stream, '*', 'event', JSON.stringify(e));
  await pipeline.exec();
  for (let r = 0; r < replicas; r += 1) {
    ingesters.push(
      spawn(process.execPath, [entry], {
        env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: dbUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, INGEST_CONSUMER_NAME: `bench-${r}`, ...(process.env.INGEST_BATCH_SIZE ? { INGEST_BATCH_SIZE: process.env.INGEST_BATCH_SIZE } : {}) },
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    );
  }
  // The clock starts with the first committed batch (not the process start). Polled every 50 ms:
  // COUNT(*) itself costs PostgreSQL CPU, which the ingester needs on this 2-core machine.
  while ((await count()) === 0) await sleep(10);
  t = performance.now();
  const first = await count();
  let n = first;
  const giveUp = Date.now() + 120_000;
  while (n < rowCount) {
    if (Date.now() > giveUp) throw new Error(`only ${n} of ${rowCount} rows after 120 s`);
    await sleep(50);
    n = await count();
  }
  const ingestRate = (rowCount - first) / ((performance.now() - t) / 1000);

  // 4. steady load: steadyRate executions/s for steadySeconds, events appended as the api would.
  await truncate();
  const tick = 20;
  const perTick = Math.max(1, Math.round((steadyRate * tick) / 1000));
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < steadySeconds * 1000) {
    const p = redis.pipeline();
    for (let i = 0; i < perTick; i += 1) for (const e of executionEvents(Date.now())) p.xadd(stream, '*', 'event', JSON.stringify(e));
    await p.exec();
    sent += perTick;
    const next = started + (sent / perTick) * tick;
    await sleep(Math.max(0, next - Date.now()));
  }
  const expected = sent * (NODES + 1);
  while ((await count()) < expected) await sleep(50);
  const lags = (await db.query(`SELECT EXTRACT(EPOCH FROM (created_at - executed_at)) * 1000 AS ms FROM node_execution_logs ORDER BY 1`)).rows.map((r) => Number(r.ms));
  const achieved = sent / ((Date.now() - started) / 1000);

  console.log(`log-ingester benchmark: ${fmt(total)} executions (${fmt(backlog.length)} events -> ${fmt(rowCount)} rows: ${fmt(allRows.executions.length)} execution + ${fmt(allRows.nodes.length)} node rows), PostgreSQL ${new URL(serverUrl).host}, Redis ${new URL(redisUrl).host}, INGEST_BATCH_SIZE ${process.env.INGEST_BATCH_SIZE ?? '2000 (default)'}, ${replicas} log-ingester replica(s)`);
  console.table({
    'raw COPY (floor)': { 'rows/s': fmt(copyRate), 'vs floor': '100%' },
    ...Object.fromEntries(Object.entries(strategies).map(([k, v]) => [k, { 'rows/s': fmt(v), 'vs floor': k.startsWith('node rows') ? '' : `${((v / copyRate) * 100).toFixed(0)}%` }])),
    [`log-ingester x${replicas}, Redis Stream -> PostgreSQL`]: { 'rows/s': fmt(ingestRate), 'vs floor': `${((ingestRate / copyRate) * 100).toFixed(0)}%` },
  });
  console.log(
    `steady load: ${fmt(achieved)} executions/s (${fmt(achieved * (NODES + 2))} events/s) for ${steadySeconds} s; event-to-row lag p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms, max ${lags.at(-1).toFixed(1)} ms (${fmt(lags.length)} node rows)`,
  );
  console.log(`targets: ingester >= 60% of raw COPY: ${ingestRate / copyRate >= 0.6 ? 'met' : 'NOT met'} (${((ingestRate / copyRate) * 100).toFixed(0)}%); lag p99 < 1 s: ${percentile(lags, 99) < 1000 ? 'met' : 'NOT met'}`);
} finally {
  for (const ingester of ingesters) {
    ingester.kill('SIGTERM');
    await new Promise((r) => ingester.once('exit', r));
  }
  await db.end().catch(() => undefined);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
