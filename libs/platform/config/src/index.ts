/**
 * @ussd/platform-config: the typed, validated configuration of every app.
 *
 * - `parseConfig(env, defaults)` validates the environment (zod) and returns PlatformConfig;
 *   every problem names the variable and what it expects.
 * - `loadConfigOrExit` is for entry points: one stderr line per bad variable, exit 78.
 * - `PlatformConfigModule.forRoot` wires it into @nestjs/config; inject with `@InjectConfig()`.
 * - `describeVariables` lists every variable with its default (the README table is tested against it).
 * - `StartupError`: a start-up failure whose message says what failed and what to do.
 */
export * from './config.schema.js';
export * from './config.module.js';
export * from './load-config.js';
export * from './startup-error.js';
export type { SecretsKey, VariableDoc } from './variables.js';
