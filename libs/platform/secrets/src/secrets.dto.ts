import { z } from 'zod';
import { TEAM_NAME } from '@ussd/platform-auth';
import { SECRET_NAME, SECRET_VALUE_MAX_LENGTH } from './team-secrets.js';

// Messages never repeat the input: it may be the secret.
export const SecretNameParam = z.string().regex(SECRET_NAME, { error: 'must be 1-64 upper-case letters, digits and underscores, starting with a letter (PAYMENTS_TOKEN)' });

export const SecretTeamQuery = z.strictObject({
  team: z.string().regex(TEAM_NAME, { error: 'must be a team name (lower-case letters, digits, dashes)' }).optional(),
});
export type SecretTeamQuery = z.infer<typeof SecretTeamQuery>;

export const PutSecretBody = z.strictObject({
  value: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(SECRET_VALUE_MAX_LENGTH, { error: `must be at most ${SECRET_VALUE_MAX_LENGTH} characters` }),
});
export type PutSecretBody = z.infer<typeof PutSecretBody>;

export const SecretView = z.object({
  team: z.string(),
  name: z.string(),
  keyVersion: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type SecretView = z.infer<typeof SecretView>;

export const SecretList = z.object({ items: z.array(SecretView) });
