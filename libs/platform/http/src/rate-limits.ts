import { type ExecutionContext, Global, Inject, Injectable, Module, type OnModuleInit, SetMetadata } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { IDENTITY_ADMISSION, type Identity, type IdentityAdmission } from '@ussd/platform-auth';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { InjectRedis } from '@ussd/platform-redis';
import { InjectMetrics } from './metrics.js';
import { ProblemException } from './problem-details.filter.js';

/** The limits read from config (RATE_LIMIT_*): per API key, per key on /workflows/validate, per phone number, failed authentications per address. */
export type RateLimitName = 'key' | 'validate' | 'msisdn' | 'auth_failures';

export type RateVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number; readonly limit: number };

/** `points` per window; `consume(id)` takes one; `peek(id)` tells whether they are used up, taking none. */
export interface Limiter {
  readonly points: number;
  /** `count: false`: a refusal is not counted in rate_limited_total (recording failures, not refusing). */
  consume(id: string, options?: { readonly count?: boolean }): Promise<RateVerdict>;
  peek(id: string): Promise<RateVerdict>;
}

const ALLOWED: RateVerdict = { allowed: true };
/** A Redis answer slower than this counts in memory instead, so a stalled Redis cannot hold a request (a hop) up. */
const REDIS_TIMEOUT_MS = 250;
/** A Redis outage is said once per this long while it lasts, not once per request. */
const OUTAGE_WARNING_EVERY_MS = 60_000;

/**
 * Counters that hold across replicas: `rate-limiter-flexible` on the app's Redis client (keys
 * `<REDIS_KEY_PREFIX>:rate:<name>:<sha256 of the id>`, so no phone number or key id is stored in
 * clear), or in this process's memory without REDIS_URL. While Redis is unreachable (or takes
 * more than 250 ms) each limiter counts in memory (its insurance limiter) and one warning a minute
 * says so: limits then hold per replica rather than refusing every request or holding it up
 * (docs/decisions/0022-rate-limits.md).
 */
@Injectable()
export class RateLimits {
  private readonly named: Record<RateLimitName, Limiter>;
  private readonly refused: Counter<'limit'>;
  private lastOutageWarning = 0;

  constructor(
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectRedis() private readonly redis: Redis | null,
    @InjectLogger() private readonly logger: Logger,
    @InjectMetrics() registry: Registry,
  ) {
    this.refused = new Counter({ name: 'rate_limited_total', help: 'Requests refused with 429 by a rate limit, by limit (key, validate, msisdn, ...).', labelNames: ['limit'], registers: [registry] });
    const limits = config.rateLimits;
    this.named = {
      key: this.create('key', limits.keyPerMinute, 60),
      validate: this.create('validate', limits.validatePerMinute, 60),
      msisdn: this.create('msisdn', limits.msisdnHopsPerMinute, 60),
      auth_failures: this.create('auth_failures', limits.authFailuresPerMinute, 60),
    };
  }

  /** Takes one point of a configured limit for `id` (an identity, a phone number; hashed before it is stored). */
  consume(name: RateLimitName, id: string, options?: { readonly count?: boolean }): Promise<RateVerdict> {
    return this.named[name].consume(id, options);
  }

  /** Whether `id` has used up a configured limit, taking no point. */
  peek(name: RateLimitName, id: string): Promise<RateVerdict> {
    return this.named[name].peek(id);
  }

  /**
   * A limiter of `points` per `seconds`, counted under `name`; 0 points never limits. Its refusals
   * count in `rate_limited_total` unless `metric` is false (a check that is not a rate limit).
   */
  create(name: string, points: number, seconds: number, metric = true): Limiter {
    if (points <= 0) return { points, consume: () => Promise.resolve(ALLOWED), peek: () => Promise.resolve(ALLOWED) };
    const memory = new RateLimiterMemory({ keyPrefix: name, points, duration: seconds });
    const store =
      this.redis === null
        ? memory
        : new RLWrapperTimeouts({
            limiter: new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${this.config.redis.keyPrefix}:rate:${name}`, points, duration: seconds, rejectIfRedisNotReady: true }),
            insuranceLimiter: memory,
            timeoutMs: REDIS_TIMEOUT_MS,
          });
    const refuse = (res: RateLimiterRes, count: boolean): RateVerdict => {
      if (metric && count) this.refused.inc({ limit: name });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)), limit: points };
    };
    // Both stores failed (not expected: memory does not fail). Let the request through and say so.
    const unknown = (error: unknown): RateVerdict => {
      this.logger.warn({ limit: name, err: error }, `rate limit ${name} could not be counted; the request was let through`);
      return ALLOWED;
    };
    return {
      points,
      consume: async (id, options) => {
        if (this.redis !== null && this.redis.status !== 'ready') this.warnOutage();
        try {
          await store.consume(hashed(id));
          return ALLOWED;
        } catch (outcome) {
          return outcome instanceof RateLimiterRes ? refuse(outcome, options?.count ?? true) : unknown(outcome);
        }
      },
      peek: async (id) => {
        if (this.redis !== null && this.redis.status !== 'ready') this.warnOutage();
        try {
          const res = await store.get(hashed(id));
          return res !== null && res.consumedPoints >= points ? refuse(res, true) : ALLOWED;
        } catch (error) {
          return unknown(error);
        }
      },
    };
  }

  private warnOutage(): void {
    const now = Date.now();
    if (now - this.lastOutageWarning < OUTAGE_WARNING_EVERY_MS) return;
    this.lastOutageWarning = now;
    this.logger.warn('Redis is unreachable: rate limits are counted in each process until it is back (a client spread over N replicas gets up to N times its limit).');
  }
}

function hashed(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 32);
}

export const RATE_LIMIT_METADATA = 'ussd:rate-limit';

/** A route that costs one more point of a named limit on top of the per-key one (`@RateLimit('validate')`). */
export const RateLimit = (name: Exclude<RateLimitName, 'key' | 'msisdn'>): MethodDecorator => SetMetadata(RATE_LIMIT_METADATA, name);

/** Answers 429 problem+json with Retry-After (seconds). */
export function rateLimited(reply: FastifyReply, verdict: Extract<RateVerdict, { allowed: false }>, what: string): ProblemException {
  void reply.header('retry-after', String(verdict.retryAfterSeconds));
  return new ProblemException({
    type: 'urn:problem:rate-limited',
    title: 'Too many requests',
    status: 429,
    detail: `More than ${verdict.limit} ${what} a minute; retry after ${verdict.retryAfterSeconds} s (Retry-After).`,
  });
}

/**
 * The per-key limits, checked by the AuthGuard once it knows the caller (`IDENTITY_ADMISSION`):
 * every request with an identity takes a point of RATE_LIMIT_KEY_PER_MINUTE, and a route marked
 * `@RateLimit('validate')` one of RATE_LIMIT_VALIDATE_PER_MINUTE too. Public routes (no identity)
 * are limited by their own rules.
 */
@Injectable()
export class KeyRateLimits implements IdentityAdmission {
  constructor(
    private readonly reflector: Reflector,
    @Inject(RateLimits) private readonly limits: RateLimits,
  ) {}

  async admit(identity: Identity, context: ExecutionContext): Promise<void> {
    const subject = `${identity.kind}:${identity.id}`;
    const perKey = await this.limits.consume('key', subject);
    if (!perKey.allowed) throw rateLimited(context.switchToHttp().getResponse<FastifyReply>(), perKey, 'requests with this key');
    const extra = this.reflector.get<RateLimitName | undefined>(RATE_LIMIT_METADATA, context.getHandler());
    if (extra !== undefined) {
      const verdict = await this.limits.consume(extra, subject);
      if (!verdict.allowed) throw rateLimited(context.switchToHttp().getResponse<FastifyReply>(), verdict, `calls of this route with this key`);
    }
  }
}

/**
 * API-key guessing: a 401 answered to a request that sent an `Authorization` header is a failed
 * authentication of its client address (request.ip, through TRUSTED_PROXIES). Past
 * RATE_LIMIT_AUTH_FAILURES_PER_MINUTE, requests with an `Authorization` header from that address
 * get 429 before any key is looked up, until the minute is over. Requests without one (probes,
 * gateways, the index) are never refused by it. Fastify hooks, so the AuthGuard is not touched.
 */
@Injectable()
export class AuthFailureLimit implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(RateLimits) private readonly limits: RateLimits,
    @InjectConfig() private readonly config: PlatformConfig,
  ) {}

  onModuleInit(): void {
    const points = this.config.rateLimits.authFailuresPerMinute;
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (points === 0 || fastify === undefined) return;
    fastify.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization === undefined) return;
      const verdict = await this.limits.peek('auth_failures', request.ip);
      if (verdict.allowed) return;
      await reply
        .code(429)
        .header('content-type', 'application/problem+json; charset=utf-8')
        .header('retry-after', String(verdict.retryAfterSeconds))
        .send({
          type: 'urn:problem:rate-limited',
          title: 'Too many requests',
          status: 429,
          detail: `More than ${verdict.limit} failed authentications a minute from this address; retry after ${verdict.retryAfterSeconds} s (Retry-After).`,
          requestId: request.id,
        });
      return reply;
    });
    fastify.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && request.headers.authorization !== undefined) await this.limits.consume('auth_failures', request.ip, { count: false });
    });
  }
}

/** Rate limits for every app: `RateLimits` to inject, the per-key limits the AuthGuard applies, the failed-authentication limit. */
@Global()
@Module({ providers: [RateLimits, { provide: IDENTITY_ADMISSION, useClass: KeyRateLimits }, AuthFailureLimit], exports: [RateLimits, IDENTITY_ADMISSION] })
export class RateLimitModule {}
