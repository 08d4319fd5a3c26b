import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * One lint configuration for every project. Module boundaries: a domain depends only on
 * itself and the platform/shared scopes; `domain` libraries stay pure; apps are leaves.
 */
export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/coverage/**', '**/.data/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          banTransitiveDependencies: false,
          // tools/scripts/test.mjs imports these after building them, to start an embedded PostgreSQL.
          checkDynamicDependenciesExceptions: ['platform-database', 'platform-logging'],
          depConstraints: [
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:workflow', onlyDependOnLibsWithTags: ['scope:workflow', 'scope:platform', 'scope:shared'] },
            // The engine runs workflow specs: execution may use workflow's public API (decision 0008).
            { sourceTag: 'scope:execution', onlyDependOnLibsWithTags: ['scope:execution', 'scope:workflow', 'scope:platform', 'scope:shared'] },
            { sourceTag: 'scope:session', onlyDependOnLibsWithTags: ['scope:session', 'scope:platform', 'scope:shared'] },
            // The USSD channel holds conversations: sessions, running executions of workflows (decision 0008).
            { sourceTag: 'scope:ussd', onlyDependOnLibsWithTags: ['scope:ussd', 'scope:session', 'scope:execution', 'scope:workflow', 'scope:platform', 'scope:shared'] },
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared', 'scope:workflow', 'scope:execution', 'scope:session', 'scope:ussd'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:platform', 'scope:shared', 'scope:workflow', 'scope:execution', 'scope:session', 'scope:ussd'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util', 'type:testing'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util', 'type:testing'] },
          ],
        },
      ],
    },
  },
  {
    // Tests may use non-null assertions on results they have just checked.
    files: ['**/*.spec.ts', '**/*.integration-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
