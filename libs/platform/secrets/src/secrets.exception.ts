import { ProblemException } from '@ussd/platform-http';

/** Problem types of team secrets (RFC 9457 `type`). */
export const SecretsProblem = {
  notFound: 'urn:problem:secrets:not-found',
  teamNotFound: 'urn:problem:secrets:team-not-found',
  unavailable: 'urn:problem:secrets:unavailable',
} as const;

export class SecretNotFoundException extends ProblemException {
  constructor(name: string) {
    super({ type: SecretsProblem.notFound, title: 'Secret not found', status: 404, detail: `No secret ${name}.` });
  }
}

/** Another team (for a non-admin), or no such team: answered alike. */
export class SecretsTeamNotFoundException extends ProblemException {
  constructor(team: string) {
    super({ type: SecretsProblem.teamNotFound, title: 'Team not found', status: 404, detail: `No team ${team}.` });
  }
}

export class SecretsUnavailableException extends ProblemException {
  constructor() {
    super({
      type: SecretsProblem.unavailable,
      title: 'Secrets unavailable',
      status: 503,
      detail: 'No secrets key is configured, so secrets cannot be written: set SECRETS_KEYS (docs/security.md, "Secrets").',
    });
  }
}
