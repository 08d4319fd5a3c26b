// Shared Jest settings. NestJS 12 is ESM-only, so Jest runs in native ESM mode
// (node --experimental-vm-modules) and SWC compiles TypeScript to ES modules with
// the decorator metadata Nest's dependency injection reads.
import { fileURLToPath } from 'node:url';

const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

/** @returns {import('jest').Config} */
export function projectJestConfig(projectDirUrl, displayName) {
  return {
    displayName,
    rootDir: fileURLToPath(new URL('.', projectDirUrl)),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.integration-spec.ts', '<rootDir>/test/**/*.spec.ts'],
    extensionsToTreatAsEsm: ['.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', swc] },
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    // Workspace libraries export their TypeScript source under this condition.
    testEnvironmentOptions: { customExportConditions: ['@ussd/source', 'node', 'node-addons'] },
    // Inside the checkout, not the system temp folder: a run is never helped (or misled) by
    // another clone's transforms, and `npm ci` starts it cold.
    cacheDirectory: fileURLToPath(new URL('./node_modules/.cache/jest', import.meta.url)),
    testTimeout: 30_000,
    passWithNoTests: false,
  };
}
