/**
 * @ussd/platform-secrets: per-team secrets, sealed at rest (docs/security.md, "Secrets").
 *
 * - `SecretsCipher`: AES-256-GCM with versioned keys (SECRETS_KEYS), team and name as AAD.
 * - `TeamSecrets`: the store (set, list, delete, resolve for a run, rotate keys); every change
 *   is reported as a `SecretChange` (the audit hook). Also used by the operator CLI.
 * - `SecretsModule.forRoot()`: the store and the `/secrets` routes (never a value in an answer).
 */
export * from './development-key.js';
export * from './secrets-cipher.js';
export * from './secrets.exception.js';
export * from './secrets.module.js';
export * from './team-secrets.js';
