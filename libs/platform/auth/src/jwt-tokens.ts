import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '@ussd/platform-config';
import type { Logger } from '@ussd/platform-logging';
import type { Queryable } from './api-keys.js';
import { type Identity, isRole, TEAM_NAME } from './identity.js';

/** A token refused: `detail` says what is wrong with it, for the 401, without internals. */
export class JwtRefused extends Error {
  override readonly name = 'JwtRefused';
}

/** The identity provider's keys could not be fetched: the token may be fine, we cannot tell (503). */
export class IdentityProviderUnavailable extends Error {
  override readonly name = 'IdentityProviderUnavailable';
}

/** Three base64url parts, the last one possibly empty (alg "none"): cheap, says nothing about validity. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Does this bearer value look like a JWT? (API keys start with `usk_` and have no dots.) */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/** Subjects and names end up in `created_by` as `team/name` (255 characters): printable and bounded. */
const SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;
const TEAM_CACHE_TTL_MS = 10_000;
const TEAM_CACHE_MAX = 1_000;
const JWKS_TIMEOUT_MS = 3_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 600_000;
const UNAVAILABLE_LOG_EVERY_MS = 30_000;

/** What a jose error means for the caller, in one sentence. */
function refusal(error: unknown): JwtRefused | undefined {
  if (error instanceof errors.JWTExpired) return new JwtRefused('The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new JwtRefused('The token was issued by an issuer this api does not trust (iss).');
    if (error.claim === 'aud') return new JwtRefused('The token is not meant for this api (aud).');
    if (error.claim === 'nbf') return new JwtRefused('The token is not valid yet (nbf).');
    if (error.claim === 'iat') return new JwtRefused('The token was issued in the future (iat).');
    if (error.reason === 'missing') return new JwtRefused(`The token has no ${JSON.stringify(error.claim)} claim.`);
    return new JwtRefused(`The token's ${JSON.stringify(error.claim)} claim is not valid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return new JwtRefused('The token is signed with an algorithm this api does not accept.');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return new JwtRefused('The token is signed with a key the identity provider does not publish (kid).');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new JwtRefused('The token’s signature does not verify.');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JWKInvalid) return new JwtRefused('The token is not a well-formed signed JWT.');
  return undefined;
}

/**
 * JWT bearer tokens from the organisation's identity provider (decision 0019): verified with
 * `jose` against the JWKS at AUTH_JWT_JWKS_URL (fetched when needed, cached 10 minutes, refetched
 * at most every 30 s for an unknown `kid`), with the configured issuer, audience, clock skew and
 * asymmetric algorithms only; team and role come from the configured claims. A team must exist
 * (it is checked against `teams`, cached 10 s like keys): tokens never create teams.
 */
export class JwtTokens {
  private readonly keys: JWTVerifyGetKey;
  private readonly teams = new Map<string, { exists: boolean; until: number }>();
  private lastUnavailableLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: JwtConfig,
    private readonly db: Queryable,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const remote = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS, cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS });
    this.keys = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        // An unknown kid is the token's fault; anything else (unreachable, timeout, not 200, not a JWKS) is the provider's.
        if (refusal(error) !== undefined) throw error;
        throw new IdentityProviderUnavailable(this.describeUnavailable(error), { cause: error });
      }
    };
  }

  /**
   * The identity a token stands for.
   * @throws JwtRefused (401) or IdentityProviderUnavailable (503)
   */
  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockSkewSeconds,
        algorithms: [...this.config.algorithms],
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      if (error instanceof IdentityProviderUnavailable) throw error;
      throw refusal(error) ?? new JwtRefused('The token could not be verified.');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw new JwtRefused('The token’s "sub" claim must be 1 to 128 printable characters.');
    const role = payload[this.config.roleClaim];
    if (!isRole(role)) throw new JwtRefused(`The token’s ${JSON.stringify(this.config.roleClaim)} claim must be one of viewer, editor, publisher, admin.`);
    const team = payload[this.config.teamClaim];
    if (typeof team !== 'string' || !TEAM_NAME.test(team)) throw new JwtRefused(`The token’s ${JSON.stringify(this.config.teamClaim)} claim must name a team (lower-case letters, digits and dashes).`);
    if (!(await this.teamExists(team))) throw new JwtRefused(`The token’s ${JSON.stringify(this.config.teamClaim)} claim names a team this api does not have; an admin creates it with \`npm run cli -- teams create\`.`);
    const username = payload['preferred_username'];
    const name = typeof username === 'string' && SUBJECT.test(username) ? username : sub;
    return { kind: 'jwt', id: sub, name, team, role };
  }

  private async teamExists(team: string): Promise<boolean> {
    const now = this.now();
    const cached = this.teams.get(team);
    if (cached !== undefined && cached.until > now) return cached.exists;
    const rows = await this.db.query<unknown[]>(`SELECT 1 FROM teams WHERE name = $1`, [team]);
    if (this.teams.size >= TEAM_CACHE_MAX) this.teams.clear();
    this.teams.set(team, { exists: rows.length === 1, until: now + TEAM_CACHE_TTL_MS });
    return rows.length === 1;
  }

  /** One warning line at most every 30 s while the provider is unreachable, naming the cause, never a token. */
  private describeUnavailable(error: unknown): string {
    const reason =
      error instanceof errors.JWKSTimeout
        ? `no answer within ${JWKS_TIMEOUT_MS} ms`
        : error instanceof errors.JWKSInvalid
          ? 'the answer is not a JSON Web Key Set'
          : error instanceof Error
            ? ((error.cause as Error | undefined)?.message ?? error.message).slice(0, 200)
            : String(error).slice(0, 200);
    const now = this.now();
    if (now - this.lastUnavailableLog >= UNAVAILABLE_LOG_EVERY_MS) {
      this.lastUnavailableLog = now;
      this.logger.warn({ reason }, 'JWTs cannot be verified: the identity provider’s keys (AUTH_JWT_JWKS_URL) could not be fetched; answering 503 until they can');
    }
    return reason;
  }
}
