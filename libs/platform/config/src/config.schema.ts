import { type z } from 'zod';
import { boolean, cidrList, hostList, integer, jwtAlgorithms, matches, nonEmpty, oneOf, originList, secretList, secretsKeys, type SecretsKey, url, type VariableDoc } from './variables.js';

/** Asymmetric JWS algorithms a JWT may be signed with; `none` and the HMAC family (HS*) never. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The USSD gateways whose callbacks can be authenticated (the adapters of @ussd/ussd-domain). */
export const USSD_GATEWAY_NAMES = ['africastalking', 'hubtel'] as const;
export type UssdGatewayName = (typeof USSD_GATEWAY_NAMES)[number];
const GATEWAY_TITLES: Readonly<Record<UssdGatewayName, string>> = { africastalking: "Africa's Talking", hubtel: 'Hubtel' };

const envName = (gateway: UssdGatewayName, suffix: string) => `USSD_GATEWAY_${gateway.toUpperCase()}_${suffix}`;

/** How one gateway's callbacks are authenticated (docs/security.md, Gateway authentication). */
export interface GatewayAuthConfig {
  /** `none`: explicitly open; `required`: refuse unless a credential below is configured; undefined: open outside production. */
  readonly auth: 'required' | 'none' | undefined;
  /** Shared secrets accepted in X-Gateway-Token or as the path token; several while rotating. */
  readonly tokens: readonly string[];
  /** HMAC-SHA256 keys of X-Gateway-Signature; several while rotating. */
  readonly hmacSecrets: readonly string[];
  /** Source addresses allowed (CIDRs or addresses); empty: any. */
  readonly allowedCidrs: readonly string[];
}

function gatewayVariables(gateway: UssdGatewayName): Variable[] {
  const title = GATEWAY_TITLES[gateway];
  return [
    variable(envName(gateway, 'AUTH'), undefined, `none opens ${title} callbacks to anyone on purpose; required refuses them until a token, HMAC secret or CIDR below is set. Unset: required when NODE_ENV=production, open (with a warning at start) otherwise.`, oneOf(envName(gateway, 'AUTH'), ['required', 'none'])),
    variable(envName(gateway, 'TOKEN'), undefined, `Comma-separated shared secrets (16 to 256 of A-Z a-z 0-9 . _ ~ -; two while rotating) ${title} must send in X-Gateway-Token or as the path token (POST /ussd/${gateway}/<token>).`, secretList(envName(gateway, 'TOKEN'))),
    variable(envName(gateway, 'HMAC_SECRET'), undefined, `Comma-separated keys of the HMAC-SHA256 signature (X-Gateway-Signature over X-Gateway-Timestamp and the body) a signing proxy in front of ${title} adds; ${title} itself does not sign callbacks.`, secretList(envName(gateway, 'HMAC_SECRET'))),
    variable(envName(gateway, 'ALLOWED_CIDRS'), undefined, `Comma-separated CIDRs or addresses ${title} callbacks may come from (the client address, read through TRUSTED_PROXIES). Unset: any address.`, cidrList(envName(gateway, 'ALLOWED_CIDRS'))),
  ];
}

/** Per-application defaults: the api and the log-ingester listen on different ports. */
export interface AppDefaults {
  readonly appName: string;
  readonly port: number;
}

interface Variable {
  readonly doc: VariableDoc;
  readonly schema: z.ZodType<unknown>;
}

function variable(name: string, defaultValue: string | undefined, description: string, schema: z.ZodType<unknown>): Variable {
  return { doc: { name, default: defaultValue, description }, schema };
}

function variables(defaults: AppDefaults): Variable[] {
  return [
    variable('NODE_ENV', 'development', 'development, production or test. Production switches logs to JSON.', oneOf('NODE_ENV', ['development', 'production', 'test'])),
    variable('HOST', '0.0.0.0', 'Interface the HTTP server binds to.', nonEmpty('HOST', 'a host name or IP address')),
    variable('PORT', `${defaults.port}`, 'HTTP port (api 3000, log-ingester 3001).', integer('PORT', 0, 65535)),
    variable('LOG_LEVEL', 'info', `One of ${LOG_LEVELS.join(', ')}.`, oneOf('LOG_LEVEL', LOG_LEVELS)),
    variable('LOG_FORMAT', undefined, 'json or pretty. Unset: pretty in development, JSON otherwise.', oneOf('LOG_FORMAT', ['json', 'pretty'])),
    variable('DATABASE_URL', undefined, 'postgres:// URL. Unset: an embedded PostgreSQL is started (see EMBEDDED_PG_*).', url('DATABASE_URL', ['postgres', 'postgresql'])),
    variable('DATABASE_POOL_MAX', '10', 'Maximum connections in the pool.', integer('DATABASE_POOL_MAX', 1, 1000)),
    variable('DATABASE_IDLE_TIMEOUT_MS', '10000', 'Idle connections are closed after this long.', integer('DATABASE_IDLE_TIMEOUT_MS', 0, 3_600_000)),
    variable('DATABASE_STATEMENT_TIMEOUT_MS', '15000', 'Server-side statement_timeout for every connection; 0 disables it.', integer('DATABASE_STATEMENT_TIMEOUT_MS', 0, 3_600_000)),
    variable('DATABASE_CONNECT_TIMEOUT_MS', '5000', 'Time allowed to open one connection.', integer('DATABASE_CONNECT_TIMEOUT_MS', 100, 600_000)),
    variable('DATABASE_MIGRATE_ON_BOOT', undefined, 'Run pending migrations at start. Unset: true with the embedded database, false with DATABASE_URL (run `npm run db:migrate` or the migration job instead).', boolean('DATABASE_MIGRATE_ON_BOOT')),
    variable('EMBEDDED_PG_DIR', `.data/${defaults.appName}/postgres`, 'Data directory of the embedded PostgreSQL, relative to the working directory.', nonEmpty('EMBEDDED_PG_DIR', 'a directory path')),
    variable('EMBEDDED_PG_PORT', '0', 'Port of the embedded PostgreSQL on 127.0.0.1; 0 picks a free one.', integer('EMBEDDED_PG_PORT', 0, 65535)),
    variable('REDIS_URL', undefined, 'redis:// or rediss:// URL. Unset: in-memory providers (single process only).', url('REDIS_URL', ['redis', 'rediss'])),
    variable('REDIS_KEY_PREFIX', 'ussd', 'Prefix of every Redis key and queue this deployment uses, so several can share one Redis.', nonEmpty('REDIS_KEY_PREFIX', 'a key prefix')),
    variable('HEALTH_CHECK_TIMEOUT_MS', '1000', 'Upper bound of each readiness check (PostgreSQL, Redis).', integer('HEALTH_CHECK_TIMEOUT_MS', 50, 60_000)),
    variable('AUTH_JWT_JWKS_URL', undefined, 'https:// URL of your identity provider\'s JSON Web Key Set; JWT bearer tokens are accepted beside API keys. http:// only for a loopback host. Unset: JWTs are off (API keys only).', url('AUTH_JWT_JWKS_URL', ['https', 'http'])),
    variable('AUTH_JWT_ISSUER', undefined, 'The iss a token must carry, exactly. Required with AUTH_JWT_JWKS_URL.', nonEmpty('AUTH_JWT_ISSUER', 'the issuer your identity provider writes in iss')),
    variable('AUTH_JWT_AUDIENCE', undefined, 'The aud a token must carry (one of its audiences). Required with AUTH_JWT_JWKS_URL.', nonEmpty('AUTH_JWT_AUDIENCE', 'the audience your identity provider writes in aud')),
    variable('AUTH_JWT_CLOCK_SKEW_SECONDS', '60', 'Leeway for exp and nbf between the identity provider\'s clock and ours.', integer('AUTH_JWT_CLOCK_SKEW_SECONDS', 0, 300)),
    variable('AUTH_JWT_TEAM_CLAIM', 'team', 'Top-level claim naming the caller\'s team; it must be an existing team.', matches('AUTH_JWT_TEAM_CLAIM', /^[\x21-\x7e]{1,200}$/, 'a claim name')),
    variable('AUTH_JWT_ROLE_CLAIM', 'role', 'Top-level claim holding the caller\'s role: viewer, editor, publisher or admin.', matches('AUTH_JWT_ROLE_CLAIM', /^[\x21-\x7e]{1,200}$/, 'a claim name')),
    variable('AUTH_JWT_ALGORITHMS', 'RS256,ES256,EdDSA', `Comma-separated signature algorithms accepted, among ${JWT_ALGORITHMS.join(', ')}; none and HS* never.`, jwtAlgorithms('AUTH_JWT_ALGORITHMS', JWT_ALGORITHMS)),
    variable('CORS_ORIGINS', undefined, 'Comma-separated origins (scheme://host[:port]) whose browsers may call the api; only they get CORS headers. Unset: no CORS headers for anyone.', originList('CORS_ORIGINS')),
    variable('HTTP_BODY_LIMIT_BYTES', '1048576', 'Largest accepted request body; larger ones get 413.', integer('HTTP_BODY_LIMIT_BYTES', 1024, 104_857_600)),
    variable('HTTP_ALLOWED_HOSTS', undefined, 'Comma-separated host names, IP addresses and CIDRs that http.request nodes may call although they are not public addresses (loopback, private, link-local, ...; docs/security.md). A name admits exactly that name; a CIDR every address in it. Unset: public addresses only.', hostList('HTTP_ALLOWED_HOSTS')),
    variable('HTTP_RESPONSE_MAX_BYTES', '1048576', 'Largest response body an http.request node reads (after decompression); a larger one fails the node with http.response_too_large.', integer('HTTP_RESPONSE_MAX_BYTES', 1024, 104_857_600)),
    variable('WORKFLOW_SPEC_MAX_BYTES', '262144', 'Largest workflow spec accepted (serialised JSON); larger ones get 413.', integer('WORKFLOW_SPEC_MAX_BYTES', 1024, 10_485_760)),
    variable('SECRETS_KEYS', undefined, 'Keys that encrypt team secrets at rest (AES-256-GCM): comma-separated version:key entries, each key 32 random bytes in base64 (openssl rand -base64 32), the current key first; older entries only decrypt until `secrets rotate-key` has moved every secret to the current one (docs/security.md). Unset: a development key is generated into .data/ with the embedded database in development; otherwise writing a secret answers 503 and executions that use one fail with secrets.unavailable.', secretsKeys('SECRETS_KEYS')),
    variable('EXECUTION_SYNC_TIMEOUT_MS', '30000', 'Longest a sync execution request waits before answering 202 and letting the execution finish in the background.', integer('EXECUTION_SYNC_TIMEOUT_MS', 100, 600_000)),
    variable('EXECUTION_OUTPUT_CAP_BYTES', '16384', 'Node outputs larger than this are cut in the logs (the cap is recorded).', integer('EXECUTION_OUTPUT_CAP_BYTES', 256, 10_485_760)),
    variable('EXECUTION_EVENT_BATCH_SIZE', '500', 'Execution events written per transaction.', integer('EXECUTION_EVENT_BATCH_SIZE', 1, 10_000)),
    variable('EXECUTION_EVENT_FLUSH_MS', '50', 'Longest an execution event waits before it is written (in-process mode).', integer('EXECUTION_EVENT_FLUSH_MS', 1, 10_000)),
    variable('EXECUTION_EVENT_BUFFER_MAX', '100000', 'Unwritten execution events kept in memory before executions fail fast (in-process mode).', integer('EXECUTION_EVENT_BUFFER_MAX', 100, 10_000_000)),
    variable('EXECUTION_CONCURRENCY_PER_WORKFLOW', '50', 'Async executions of one workflow running at once (across all replicas with REDIS_URL, per process without); more wait in the queue.', integer('EXECUTION_CONCURRENCY_PER_WORKFLOW', 1, 10_000)),
    variable('EXECUTION_QUEUE_MAX', '10000', 'Async executions waiting in a process before new ones get 429 (in-memory queue).', integer('EXECUTION_QUEUE_MAX', 1, 1_000_000)),
    variable('EXECUTION_WORKER_CONCURRENCY', '20', 'With REDIS_URL: async executions this process takes from the shared Redis queue at once; 0 makes it enqueue only.', integer('EXECUTION_WORKER_CONCURRENCY', 0, 10_000)),
    variable('EXECUTION_JOB_LOCK_MS', '30000', 'With REDIS_URL: a worker that stops renewing its lock this long (it crashed) loses its job to another worker, which runs it again.', integer('EXECUTION_JOB_LOCK_MS', 1000, 600_000)),
    variable('EXECUTION_REAPER_INTERVAL_MS', '30000', 'How often executions stuck past their deadline are ended as timeout; 0 turns the reaper off.', integer('EXECUTION_REAPER_INTERVAL_MS', 0, 3_600_000)),
    variable('EXECUTION_REAPER_GRACE_MS', '30000', 'Time past an execution deadline before the reaper ends it (lets in-flight events land).', integer('EXECUTION_REAPER_GRACE_MS', 0, 3_600_000)),
    variable('SESSION_TTL_SECONDS', '3600', 'Idle time after which a USSD session expires (sliding: every hop renews it); its paused execution then ends as timeout.', integer('SESSION_TTL_SECONDS', 1, 604_800)),
    variable('SESSION_EXPIRY_SWEEP_MS', '5000', 'How often expired sessions are looked for, so their paused executions end as timeout; 0 turns the sweep off.', integer('SESSION_EXPIRY_SWEEP_MS', 0, 3_600_000)),
    variable('MASK_PHONE_NUMBERS_FOR_VIEWERS', 'true', 'Phone numbers in session and execution responses to viewer keys and tokens are masked (+2547****678); editors and above see them whole.', boolean('MASK_PHONE_NUMBERS_FOR_VIEWERS')),
    variable('USSD_ENVIRONMENT', 'production', 'Which environment of a workflow USSD trigger this deployment answers (service code + environment pick the workflow).', matches('USSD_ENVIRONMENT', /^[a-z][a-z0-9-]{0,31}$/, 'a lower-case environment name such as production')),
    variable('USSD_HOP_DEADLINE_MS', '5000', 'A USSD hop is answered within this time even when a node is slow (the execution then ends as timeout and the subscriber gets a polite END).', integer('USSD_HOP_DEADLINE_MS', 100, 60_000)),
    variable('USSD_DEFAULT_COUNTRY', 'KE', 'ISO 3166 country used to read phone numbers written without a country code (0712345678).', matches('USSD_DEFAULT_COUNTRY', /^[A-Z]{2}$/, 'a two-letter ISO 3166 country code such as KE')),
    ...USSD_GATEWAY_NAMES.flatMap(gatewayVariables),
    variable('TRUSTED_PROXIES', undefined, 'Comma-separated CIDRs or addresses of the reverse proxies / load balancers in front of the app: only their X-Forwarded-For is believed when telling the client address. Unset: X-Forwarded-For is ignored.', cidrList('TRUSTED_PROXIES')),
    variable('RATE_LIMIT_KEY_PER_MINUTE', '600', 'Requests per minute one API key may make (all authenticated routes; across replicas with REDIS_URL); more get 429 with Retry-After. 0 disables it.', integer('RATE_LIMIT_KEY_PER_MINUTE', 0, 1_000_000)),
    variable('RATE_LIMIT_VALIDATE_PER_MINUTE', '60', 'POST /workflows/validate calls per minute per API key (on top of the per-key limit). 0 disables it.', integer('RATE_LIMIT_VALIDATE_PER_MINUTE', 0, 1_000_000)),
    variable('RATE_LIMIT_MSISDN_HOPS_PER_MINUTE', '60', 'USSD hops per minute per phone number (all gateways together); more get an END in the gateway format with status 429. 0 disables it.', integer('RATE_LIMIT_MSISDN_HOPS_PER_MINUTE', 0, 1_000_000)),
    variable('RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', '0', 'Failed authentications (401 to a request that sent an Authorization header) per minute per client address; past it, requests with an Authorization header from that address get 429 until the minute is over. 0 (the default) disables it: turn it on only where the client address is right (TRUSTED_PROXIES behind a load balancer), or every client sharing the balancer\'s address is refused together.', integer('RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 0, 1_000_000)),
    variable('EVENT_STREAM_KEY', 'execution-events', 'With REDIS_URL: the Redis Stream execution events go through (prefixed with REDIS_KEY_PREFIX).', matches('EVENT_STREAM_KEY', /^[A-Za-z0-9:._-]{1,100}$/, 'a stream name of letters, digits and : . _ -')),
    variable('EVENT_STREAM_MAX_LENGTH', '1000000', 'With REDIS_URL: once the stream is longer than this, the log-ingester trims the entries every consumer group has acknowledged; unacknowledged entries are never trimmed.', integer('EVENT_STREAM_MAX_LENGTH', 1000, 100_000_000)),
    variable('EVENT_PRODUCER_BUFFER_MAX', '10000', 'With REDIS_URL: events the api holds in memory that Redis has not accepted yet (rides out a blip); new executions get 503 while Redis is unreachable, and when the buffer is full running ones fail (events.unavailable).', integer('EVENT_PRODUCER_BUFFER_MAX', 100, 1_000_000)),
    variable('EVENT_INGEST_IN_API', undefined, 'With REDIS_URL: the api also consumes the event stream (one more consumer in the group), so logs land without a separate log-ingester. Unset: true unless NODE_ENV=production.', boolean('EVENT_INGEST_IN_API')),
    variable('INGEST_CONSUMER_GROUP', 'log-ingester', 'Consumer group the log-ingester replicas share.', matches('INGEST_CONSUMER_GROUP', /^[A-Za-z0-9:._-]{1,100}$/, 'a group name of letters, digits and : . _ -')),
    variable('INGEST_CONSUMER_NAME', undefined, 'This replica\'s consumer name in the group; a restart under the same name takes back its pending entries at once. Unset: the host name (the pod name in Kubernetes), or the host name and a random suffix when another live process already uses it; a name set here that a live process uses is refused at start.', matches('INGEST_CONSUMER_NAME', /^[A-Za-z0-9:._-]{1,200}$/, 'a consumer name of letters, digits and : . _ -')),
    variable('INGEST_BATCH_SIZE', '2000', 'Stream entries read and written per transaction by the log-ingester (the next batch is read while one is written).', integer('INGEST_BATCH_SIZE', 1, 10_000)),
    variable('INGEST_BLOCK_MS', '1000', 'Longest the log-ingester waits for new entries per read.', integer('INGEST_BLOCK_MS', 1, 60_000)),
    variable('INGEST_CLAIM_IDLE_MS', '30000', 'Entries pending this long at a consumer are claimed by another replica (one alive but stuck; a dead consumer\'s entries are taken sooner, once its heartbeat expires: INGEST_HEARTBEAT_TTL_MS).', integer('INGEST_CLAIM_IDLE_MS', 1000, 3_600_000)),
    variable('INGEST_HEARTBEAT_TTL_MS', '3000', 'Each consumer renews a heartbeat in Redis every 250 ms; one not renewed this long is dead: another replica takes its pending entries at once and removes it from the group.', integer('INGEST_HEARTBEAT_TTL_MS', 1000, 600_000)),
    variable('INGEST_MAX_DELIVERIES', '5', 'An entry that fails this many times goes to the dead-letter stream.', integer('INGEST_MAX_DELIVERIES', 1, 1000)),
    variable('SHUTDOWN_GRACE_MS', '10000', 'On SIGTERM, in-flight work gets this long to finish before the process gives up and exits 1.', integer('SHUTDOWN_GRACE_MS', 0, 600_000)),
    variable('SHUTDOWN_DRAIN_DELAY_MS', '0', 'On SIGTERM, readiness reports 503 this long before the server stops accepting, so load balancers stop routing first.', integer('SHUTDOWN_DRAIN_DELAY_MS', 0, 600_000)),
  ];
}

/** Documentation of every variable, for the README and `--help` style listings. */
export function describeVariables(defaults: AppDefaults): VariableDoc[] {
  return variables(defaults).map((v) => v.doc);
}

export interface PlatformConfig {
  readonly appName: string;
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly log: { readonly level: LogLevel; readonly format: 'json' | 'pretty' };
  readonly database: {
    /** Undefined: use the embedded PostgreSQL. */
    readonly url: string | undefined;
    readonly poolMax: number;
    readonly idleTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly connectTimeoutMs: number;
    readonly migrateOnBoot: boolean;
    readonly embedded: { readonly dir: string; readonly port: number };
  };
  /** Undefined: in-memory providers. */
  readonly redis: { readonly url: string | undefined; readonly keyPrefix: string };
  readonly health: { readonly timeoutMs: number };
  /** JWT bearer tokens from the organisation's identity provider; undefined: off (API keys only). */
  readonly jwt: JwtConfig | undefined;
  /** Exact origins that get CORS headers; empty: none. */
  readonly cors: { readonly origins: readonly string[] };
  readonly http: { readonly bodyLimitBytes: number };
  /** What `http.request` nodes may call, and how much of an answer they read. */
  readonly outboundHttp: { readonly allowedHosts: readonly string[]; readonly responseMaxBytes: number };
  readonly workflow: { readonly specMaxBytes: number };
  /** Keys of team secrets, current first; undefined when SECRETS_KEYS is unset. Never logged. */
  readonly secrets: { readonly keys: readonly SecretsKey[] | undefined };
  readonly execution: {
    readonly syncTimeoutMs: number;
    readonly outputCapBytes: number;
    readonly eventBatchSize: number;
    readonly eventFlushMs: number;
    readonly eventBufferMax: number;
    readonly concurrencyPerWorkflow: number;
    readonly queueMax: number;
    readonly workerConcurrency: number;
    readonly jobLockMs: number;
    readonly reaperIntervalMs: number;
    readonly reaperGraceMs: number;
  };
  readonly session: { readonly ttlSeconds: number; readonly expirySweepMs: number };
  readonly privacy: { readonly maskPhoneNumbersForViewers: boolean };
  readonly ussd: {
    readonly environment: string;
    readonly hopDeadlineMs: number;
    readonly defaultCountry: string;
    /** Callback authentication per gateway. */
    readonly gateways: Readonly<Record<UssdGatewayName, GatewayAuthConfig>>;
  };
  /** CIDRs or addresses whose X-Forwarded-For is believed (Fastify trustProxy); empty: none. */
  readonly trustedProxies: readonly string[];
  /** Requests per minute; 0 disables a limit. */
  readonly rateLimits: { readonly keyPerMinute: number; readonly validatePerMinute: number; readonly msisdnHopsPerMinute: number; readonly authFailuresPerMinute: number };
  /** The Redis Stream of execution events (with REDIS_URL). */
  readonly events: {
    readonly streamKey: string;
    readonly streamMaxLength: number;
    readonly producerBufferMax: number;
    /** The api runs a consumer of the stream too (development and tests without a log-ingester). */
    readonly ingestInApi: boolean;
  };
  readonly ingest: {
    readonly consumerGroup: string;
    /** Undefined: the host name (or, when a live process uses it, the host name and a random suffix). */
    readonly consumerName: string | undefined;
    /** A consumer whose heartbeat is this old is dead (its entries are claimed, it is removed from the group). */
    readonly heartbeatTtlMs: number;
    readonly batchSize: number;
    readonly blockMs: number;
    readonly claimIdleMs: number;
    readonly maxDeliveries: number;
  };
  readonly shutdown: { readonly graceMs: number; readonly drainDelayMs: number };
}

export interface JwtConfig {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly clockSkewSeconds: number;
  readonly teamClaim: string;
  readonly roleClaim: string;
  readonly algorithms: readonly JwtAlgorithm[];
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Validates the environment and returns the typed configuration.
 * Empty strings count as unset, as they do in most deployment tools.
 * @throws ConfigValidationError naming every bad variable and what it expects.
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, defaults: AppDefaults): PlatformConfig {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const { doc, schema } of variables(defaults)) {
    const raw = env[doc.name];
    const input = raw === undefined || raw.trim() === '' ? doc.default : raw;
    if (input === undefined) continue;
    const result = schema.safeParse(input);
    if (result.success) values[doc.name] = result.data;
    else problems.push(...new Set(result.error.issues.map((issue) => issue.message)));
  }
  if (problems.length === 0) problems.push(...jwtProblems(values));
  for (const gateway of USSD_GATEWAY_NAMES) {
    const configured = ['TOKEN', 'HMAC_SECRET', 'ALLOWED_CIDRS'].filter((suffix) => values[envName(gateway, suffix)] !== undefined);
    if (values[envName(gateway, 'AUTH')] === 'none' && configured.length > 0) {
      problems.push(`${envName(gateway, 'AUTH')}: none opens the gateway, but ${configured.map((suffix) => envName(gateway, suffix)).join(' and ')} is set; remove one or the other`);
    }
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const v = values as Record<string, never>;
  const jwksUrl = v['AUTH_JWT_JWKS_URL'] as string | undefined;
  const databaseUrl = v['DATABASE_URL'] as string | undefined;
  const nodeEnv = v['NODE_ENV'] as PlatformConfig['nodeEnv'];
  return {
    appName: defaults.appName,
    nodeEnv,
    host: v['HOST'],
    port: v['PORT'],
    log: {
      level: v['LOG_LEVEL'],
      format: (v['LOG_FORMAT'] as 'json' | 'pretty' | undefined) ?? (nodeEnv === 'development' ? 'pretty' : 'json'),
    },
    database: {
      url: databaseUrl,
      poolMax: v['DATABASE_POOL_MAX'],
      idleTimeoutMs: v['DATABASE_IDLE_TIMEOUT_MS'],
      statementTimeoutMs: v['DATABASE_STATEMENT_TIMEOUT_MS'],
      connectTimeoutMs: v['DATABASE_CONNECT_TIMEOUT_MS'],
      migrateOnBoot: (v['DATABASE_MIGRATE_ON_BOOT'] as boolean | undefined) ?? databaseUrl === undefined,
      embedded: { dir: v['EMBEDDED_PG_DIR'], port: v['EMBEDDED_PG_PORT'] },
    },
    redis: { url: v['REDIS_URL'], keyPrefix: v['REDIS_KEY_PREFIX'] },
    health: { timeoutMs: v['HEALTH_CHECK_TIMEOUT_MS'] },
    jwt:
      jwksUrl === undefined
        ? undefined
        : {
            jwksUrl,
            issuer: v['AUTH_JWT_ISSUER'],
            audience: v['AUTH_JWT_AUDIENCE'],
            clockSkewSeconds: v['AUTH_JWT_CLOCK_SKEW_SECONDS'],
            teamClaim: v['AUTH_JWT_TEAM_CLAIM'],
            roleClaim: v['AUTH_JWT_ROLE_CLAIM'],
            algorithms: v['AUTH_JWT_ALGORITHMS'],
          },
    cors: { origins: (v['CORS_ORIGINS'] as string[] | undefined) ?? [] },
    http: { bodyLimitBytes: v['HTTP_BODY_LIMIT_BYTES'] },
    outboundHttp: { allowedHosts: (v['HTTP_ALLOWED_HOSTS'] as string[] | undefined) ?? [], responseMaxBytes: v['HTTP_RESPONSE_MAX_BYTES'] },
    workflow: { specMaxBytes: v['WORKFLOW_SPEC_MAX_BYTES'] },
    secrets: { keys: v['SECRETS_KEYS'] },
    execution: {
      syncTimeoutMs: v['EXECUTION_SYNC_TIMEOUT_MS'],
      outputCapBytes: v['EXECUTION_OUTPUT_CAP_BYTES'],
      eventBatchSize: v['EXECUTION_EVENT_BATCH_SIZE'],
      eventFlushMs: v['EXECUTION_EVENT_FLUSH_MS'],
      eventBufferMax: v['EXECUTION_EVENT_BUFFER_MAX'],
      concurrencyPerWorkflow: v['EXECUTION_CONCURRENCY_PER_WORKFLOW'],
      queueMax: v['EXECUTION_QUEUE_MAX'],
      workerConcurrency: v['EXECUTION_WORKER_CONCURRENCY'],
      jobLockMs: v['EXECUTION_JOB_LOCK_MS'],
      reaperIntervalMs: v['EXECUTION_REAPER_INTERVAL_MS'],
      reaperGraceMs: v['EXECUTION_REAPER_GRACE_MS'],
    },
    session: { ttlSeconds: v['SESSION_TTL_SECONDS'], expirySweepMs: v['SESSION_EXPIRY_SWEEP_MS'] },
    privacy: { maskPhoneNumbersForViewers: v['MASK_PHONE_NUMBERS_FOR_VIEWERS'] },
    ussd: {
      environment: v['USSD_ENVIRONMENT'],
      hopDeadlineMs: v['USSD_HOP_DEADLINE_MS'],
      defaultCountry: v['USSD_DEFAULT_COUNTRY'],
      gateways: Object.fromEntries(
        USSD_GATEWAY_NAMES.map((gateway) => [
          gateway,
          {
            auth: v[envName(gateway, 'AUTH')] as GatewayAuthConfig['auth'],
            tokens: (v[envName(gateway, 'TOKEN')] as string[] | undefined) ?? [],
            hmacSecrets: (v[envName(gateway, 'HMAC_SECRET')] as string[] | undefined) ?? [],
            allowedCidrs: (v[envName(gateway, 'ALLOWED_CIDRS')] as string[] | undefined) ?? [],
          } satisfies GatewayAuthConfig,
        ]),
      ) as unknown as Record<UssdGatewayName, GatewayAuthConfig>,
    },
    trustedProxies: (v['TRUSTED_PROXIES'] as string[] | undefined) ?? [],
    rateLimits: {
      keyPerMinute: v['RATE_LIMIT_KEY_PER_MINUTE'],
      validatePerMinute: v['RATE_LIMIT_VALIDATE_PER_MINUTE'],
      msisdnHopsPerMinute: v['RATE_LIMIT_MSISDN_HOPS_PER_MINUTE'],
      authFailuresPerMinute: v['RATE_LIMIT_AUTH_FAILURES_PER_MINUTE'],
    },
    events: {
      streamKey: `${v['REDIS_KEY_PREFIX'] as string}:${v['EVENT_STREAM_KEY'] as string}`,
      streamMaxLength: v['EVENT_STREAM_MAX_LENGTH'],
      producerBufferMax: v['EVENT_PRODUCER_BUFFER_MAX'],
      ingestInApi: (v['EVENT_INGEST_IN_API'] as boolean | undefined) ?? nodeEnv !== 'production',
    },
    ingest: {
      consumerGroup: v['INGEST_CONSUMER_GROUP'],
      consumerName: v['INGEST_CONSUMER_NAME'],
      batchSize: v['INGEST_BATCH_SIZE'],
      blockMs: v['INGEST_BLOCK_MS'],
      claimIdleMs: v['INGEST_CLAIM_IDLE_MS'],
      heartbeatTtlMs: v['INGEST_HEARTBEAT_TTL_MS'],
      maxDeliveries: v['INGEST_MAX_DELIVERIES'],
    },
    shutdown: { graceMs: v['SHUTDOWN_GRACE_MS'], drainDelayMs: v['SHUTDOWN_DRAIN_DELAY_MS'] },
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The AUTH_JWT_* variables that only make sense together: one line per problem, naming the variable. */
function jwtProblems(values: Record<string, unknown>): string[] {
  const jwksUrl = values['AUTH_JWT_JWKS_URL'] as string | undefined;
  if (jwksUrl === undefined) {
    return (['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const)
      .filter((name) => values[name] !== undefined)
      .map((name) => `${name}: set, but AUTH_JWT_JWKS_URL is not, so JWTs are off: set AUTH_JWT_JWKS_URL too, or unset ${name}`);
  }
  const problems: string[] = [];
  const url = new URL(jwksUrl);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) problems.push('AUTH_JWT_JWKS_URL: expected an https:// URL (http:// only for a loopback host: keys fetched in clear could be swapped)');
  if (url.username !== '' || url.password !== '') problems.push('AUTH_JWT_JWKS_URL: expected a URL without credentials (a JWKS is public)');
  if (values['AUTH_JWT_ISSUER'] === undefined) problems.push('AUTH_JWT_ISSUER: required when AUTH_JWT_JWKS_URL is set (the iss your identity provider writes)');
  if (values['AUTH_JWT_AUDIENCE'] === undefined) problems.push('AUTH_JWT_AUDIENCE: required when AUTH_JWT_JWKS_URL is set (the aud your identity provider writes for this api)');
  return problems;
}
