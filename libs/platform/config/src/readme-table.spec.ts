import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeVariables } from './config.schema.js';

describe('README configuration table', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
  const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

  it('lists every variable the configuration reads', () => {
    const read = describeVariables({ appName: 'api', port: 3000 }).map((v) => v.name);
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('lists no variable the configuration does not read', () => {
    const read = new Set(describeVariables({ appName: 'api', port: 3000 }).map((v) => v.name));
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });
});
