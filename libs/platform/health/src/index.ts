/**
 * @ussd/platform-health: Kubernetes probes with @nestjs/terminus.
 *
 * - `HealthModule`: GET /health/live (process only), /health/ready (PostgreSQL, Redis,
 *   each bounded by HEALTH_CHECK_TIMEOUT_MS; 503 names the failing one), /health/startup (migrations).
 * - `AppLifecycle`: set to draining on SIGTERM, which turns readiness to 503.
 */
export * from './app-lifecycle.js';
export * from './health.controller.js';
export * from './health.module.js';
