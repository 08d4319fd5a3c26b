import { type AppDefaults, ConfigValidationError, parseConfig, type PlatformConfig } from './config.schema.js';

/**
 * For entry points: parse the environment or stop the process with one line per
 * bad variable on stderr and exit code 78 (EX_CONFIG), before anything starts.
 */
export function loadConfigOrExit(defaults: AppDefaults, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  try {
    return parseConfig(env, defaults);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    for (const problem of error.problems) process.stderr.write(`Invalid configuration: ${problem}\n`);
    process.exit(78);
  }
}
