/** Roles, weakest first: each may do what the ones before it may. */
export const ROLES = ['viewer', 'editor', 'publisher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who is calling: an API key or (later) a verified token, acting for one team with one role. */
export interface Identity {
  readonly kind: 'api-key' | 'jwt';
  /** The key's id, or the token's subject. */
  readonly id: string;
  /** The key's name, or the token's subject. */
  readonly name: string;
  readonly team: string;
  readonly role: Role;
}

/** What `created_by` and other actor fields record: stable, readable, never a secret. */
export function actorOf(identity: Identity): string {
  return `${identity.team}/${identity.name}`;
}

/**
 * May this caller see what `owner` owns? An admin sees everything (what does not exist then
 * answers 404 further on); anyone else only its own team's things: an unknown owner (the thing
 * does not exist) is not theirs, so "not yours" and "not there" answer alike (404), which tells
 * a stranger nothing.
 */
export function sees(caller: Identity, owner: string | undefined): boolean {
  return caller.role === 'admin' || (owner !== undefined && owner === caller.team);
}

/** The team whose things a list shows: the caller's, or every team's (undefined) for an admin. */
export function listedTeam(caller: Identity): string | undefined {
  return caller.role === 'admin' ? undefined : caller.team;
}

/** Team names: lower-case letters, digits and dashes, as in DNS labels. */
export const TEAM_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
