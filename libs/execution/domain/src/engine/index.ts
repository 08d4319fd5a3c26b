/**
 * The execution engine (docs/execution-engine.md): runs a pinned, published workflow version
 * node by node, pausing at prompts and long delays with a JSON continuation.
 * - `WorkflowEngine`: start / resume / cancel; never throws, every execution ends terminal or paused.
 * - Ports: `ExecutionEventSink` (events), `Clock` (`systemClock`, `FakeClock`), `HttpClient`
 *   (`createHttpClient`: connect/total timeouts, size cap, only public addresses unless
 *   allowlisted: `OutboundAddressPolicy`), `SubworkflowResolver`.
 * - `NodeHandlerRegistry`: one `NodeHandler` per node type, the ten built-ins by default.
 * - Limits: node `timeoutMs`, `settings.executionTimeoutMs` (across pauses), `settings.maxSteps`,
 *   retry/catch policies, outputs in events capped (`outputCapBytes`, default 16 KiB).
 */
export { WorkflowEngine, ENGINE_DEFAULTS } from './engine.js';
export type { EngineOptions, EngineResult, PinnedWorkflow, Prompt, ResumeInput, SecretSource, SessionInfo, StartRequest, SubworkflowResolver } from './engine.types.js';
export { SecretResolutionError } from './engine.types.js';
export { maskOf, SecretMask } from './secret-mask.js';
export type { Continuation } from './continuation.js';
export { continuationProblem } from './continuation.js';
export { systemClock, type Clock } from './clock.js';
export { FakeClock } from './fake-clock.js';
export { createHttpClient, createFetchHttpClient, HttpClientError, HTTP_MAX_REDIRECTS } from './http-client.js';
export type { ClosableHttpClient, HostResolver, HttpClient, HttpClientErrorCode, HttpClientOptions, HttpRequest, HttpResponse, ResolvedAddress } from './http-client.js';
export { classifyAddress, InvalidAllowlistEntryError, normalizeHost, OutboundAddressPolicy } from './outbound-address.js';
export type { AddressVerdict, OutboundRefusal } from './outbound-address.js';
export { NodeHandlerRegistry } from './node-handler-registry.js';
export type { NodeContext, NodeHandler, NodeResult, SubworkflowRunner, Wake } from './node-handler.js';
export { NodeError, ENGINE_ERROR_CODES } from './node-error.js';
export { BUILTIN_HANDLERS, HTTP_REQUEST_DEFAULT_TIMEOUT_MS } from './handlers/index.js';
export { DEFAULT_OUTPUT_CAP_BYTES, capValue } from './output-cap.js';
