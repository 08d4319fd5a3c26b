/**
 * @ussd/platform-http: how every app starts, answers errors and stops.
 *
 * - `bootstrap({ defaults, rootModule })`: config, logger, database, Nest on Fastify, listen, SIGTERM handling.
 * - `PlatformModule.forRoot(context)`: config, logging, PostgreSQL, Redis, health probes.
 * - `ProblemDetailsFilter` / `ProblemException` / `ValidationProblem`: RFC 9457 error bodies.
 * - `ZodValidationPipe` / `KnownQueryGuard`: request validation, `{ in, pointer, code, message }` per problem.
 * - `RateLimits` / `@RateLimit(name)` / `MetricsModule`: per-key and named rate limits (429 + Retry-After), the app's Prometheus registry.
 * - `answerAfterBody(discardLimitsFor(limit))` / `@RenderFrameworkErrors(render)`: bodies refused before they are read are drained, not reset; a route's own format for Fastify's errors.
 * - `installGracefulShutdown`: drain, close, exit 0 within SHUTDOWN_GRACE_MS (or exit 1 and say so).
 */
export * from './body-drain.js';
export * from './bootstrap.js';
export * from './fastify.js';
export * from './graceful-shutdown.js';
export * from './platform.module.js';
export * from './problem-details.filter.js';
export * from './zod-validation.js';
export * from './json-only.guard.js';
export * from './known-query.guard.js';
export * from './metrics.js';
export * from './rate-limits.js';
export * from './dependency-errors.js';
