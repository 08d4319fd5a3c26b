/**
 * @ussd/execution-data-access: execution logs in PostgreSQL.
 *
 * - `ExecutionLogIngestor`: a batch of execution events -> rows, in one transaction,
 *   idempotent and order-independent (used in-process by the api and by the log-ingester).
 * - `ExecutionLogRepository`: the seed's execution-log queries with keyset pages.
 * - `ExecutionLogEntity`, `NodeExecutionLogEntity`: the seed's two tables.
 */
export * from './execution-log.entity.js';
export * from './execution-log.ingestor.js';
export * from './execution-log.repository.js';
export * from './buffered-event-writer.js';
export * from './execution-reaper.js';
/** Builds engine-shaped events: for tests, benchmarks and fault drills. */
export * from './execution-event.factory.js';
/** The Redis Stream path: wire format, the api's producer sink, the log-ingester's consumer, dead letters. */
export * from './event-stream.js';
export * from './redis-stream-event-sink.js';
export * from './event-stream-consumer.js';
export * from './consumer-heartbeat.js';
export * from './dead-letters.js';
