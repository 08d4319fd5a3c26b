import { ESLint, type Linter } from 'eslint';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';

/**
 * Proves that lint rejects forbidden imports: the module-boundary rule and its
 * dependency constraints are taken from the real eslint.config.js and run on probe
 * sources placed (virtually) inside real projects.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const RULE = '@nx/enforce-module-boundaries';

async function boundaryLinter(): Promise<ESLint> {
  const { default: config } = (await import(`${root}/eslint.config.js`)) as { default: Linter.Config[] };
  const ruleConfig = config.find((entry) => entry.rules?.[RULE])?.rules?.[RULE];
  if (!ruleConfig) throw new Error(`${RULE} is not configured in eslint.config.js`);
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@nx': nx as unknown as ESLint.Plugin }, rules: { [RULE]: ruleConfig } },
    ],
  });
}

async function violations(file: string, source: string): Promise<string[]> {
  const eslint = await boundaryLinter();
  const [result] = await eslint.lintText(source, { filePath: `${root}/${file}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it('rejects a domain library importing data-access code', async () => {
    const messages = await violations('libs/session/domain/src/probe.ts', `import { MIGRATIONS } from '@ussd/platform-database';\nexport const m = MIGRATIONS;\n`);
    expect(messages.join('\n')).toMatch(/enforce-module-boundaries: A project tagged with "type:domain" can only depend on libs tagged with "type:domain", "type:util"/);
  });

  it('rejects one domain importing another domain', async () => {
    const messages = await violations('libs/session/domain/src/probe.ts', `import { isUuid } from '@ussd/workflow-domain';\nexport const f = isUuid;\n`);
    expect(messages.join('\n')).toMatch(/A project tagged with "scope:session" can only depend on libs tagged with "scope:session", "scope:platform", "scope:shared"/);
  });

  it('rejects a library importing an app', async () => {
    const messages = await violations('libs/session/domain/src/probe.ts', `import { AppModule } from '@ussd/api';\nexport const m = AppModule;\n`);
    // Which message comes first depends on the graph: the api depends on session-domain, so the probe is also a cycle.
    expect(messages.join('\n')).toMatch(/enforce-module-boundaries: (Imports of apps are forbidden|A project tagged with "scope:session"|Circular dependency between "session-domain" and "api")/);
  });

  it('rejects deep imports past a library index', async () => {
    const messages = await violations('apps/api/src/probe.ts', `import { parseConfig } from '../../../libs/platform/config/src/config.schema.js';\nexport const p = parseConfig;\n`);
    expect(messages.join('\n')).toMatch(/enforce-module-boundaries/);
  });

  it('accepts allowed imports', async () => {
    expect(await violations('libs/platform/http/src/probe.ts', `import { parseConfig } from '@ussd/platform-config';\nexport const p = parseConfig;\n`)).toEqual([]);
    expect(await violations('apps/api/src/probe.ts', `import { bootstrap } from '@ussd/platform-http';\nexport const b = bootstrap;\n`)).toEqual([]);
  });
});
