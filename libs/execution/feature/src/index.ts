/**
 * @ussd/execution-feature: executions over HTTP (NestJS).
 *
 * - `ExecutionFeatureModule`: POST /workflows/{id}/executions (sync or async), retry, cancel,
 *   GET /executions/{id} (with node attempts), GET /executions and
 *   GET /workflows/{id}/executions (the seed's query, newest first, keyset pages).
 * - `ExecutionLogsModule`: the event sink (EXECUTION_EVENT_SINK: in-process, or the Redis Stream
 *   with REDIS_URL) and log queries.
 * - `EventStreamIngestionModule`: the Redis Stream consumer (the log-ingester's core).
 * - `OutboundHttpModule`: the process's one client for `http.request` nodes (OUTBOUND_HTTP_CLIENT,
 *   `@InjectOutboundHttp()`): public addresses only unless HTTP_ALLOWED_HOSTS admits them.
 * - `WorkflowSecretsModule`: the engines' `SecretSource` (a run's `secrets.NAME`, from its workflow's team).
 */
export * from './execution-feature.module.js';
export * from './execution-logs.module.js';
export * from './event-stream-ingestion.js';
export * from './execution-queries.service.js';
export * from './execution-runner.service.js';
export * from './outbound-http.module.js';
export * from './workflow-secrets.module.js';
