import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `npm run audit` (tools/scripts/audit.mjs) judged on saved `npm audit --json` answers, as CI runs it. */
describe('the dependency audit policy (tools/scripts/audit.mjs)', () => {
  const script = fileURLToPath(new URL('../scripts/audit.mjs', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'ussd-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const CRITICAL = 'GHSA-jf85-cpcp-j695';
  const MODERATE = 'GHSA-vh95-rmgr-6w4m';
  const advisory = (id: string, name: string, severity: string) => ({ source: 1, name, dependency: name, title: `${severity} issue in ${name}`, url: `https://github.com/advisories/${id}`, severity, range: '<9.9.9' });
  const report = (vulnerabilities: Record<string, unknown>) => ({ auditReportVersion: 2, vulnerabilities, metadata: {} });
  const critical = report({
    lodash: { name: 'lodash', severity: 'critical', via: [advisory(CRITICAL, 'lodash', 'critical')], effects: ['wrapper'], range: '<9.9.9', nodes: [], fixAvailable: true },
    wrapper: { name: 'wrapper', severity: 'critical', via: ['lodash'], effects: [], range: '*', nodes: [], fixAvailable: true },
  });
  const moderate = report({ minimist: { name: 'minimist', severity: 'moderate', via: [advisory(MODERATE, 'minimist', 'moderate')], effects: [], range: '<9.9.9', nodes: [], fixAvailable: true } });

  let n = 0;
  const file = (content: unknown) => {
    const path = join(dir, `f${(n += 1)}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const audit = (answer: unknown, advisories: unknown[] | undefined = [], today = '2026-11-30') => {
    const args = [script, '--report', file(answer), '--today', today, ...(advisories === undefined ? [] : ['--allowlist', file({ advisories })])];
    const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
    return { code: result.status, out: result.stdout, err: result.stderr };
  };

  it('passes a clean report, with the committed allowlist', () => {
    const result = audit(report({}), undefined);
    expect([result.code, result.out.trim()]).toEqual([0, '[audit] production dependencies: no high or critical advisory.']);
  });

  it('fails on a high or critical advisory nobody admitted, naming it and what to do', () => {
    const result = audit(critical);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`critical ${CRITICAL} in lodash`);
    expect(result.err).toContain('admit each in tools/audit-allowlist.json with a reason and a review-by date');
  });

  it('counts moderate and low advisories without failing', () => {
    const result = audit(moderate);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`1 moderate or low advisories in production dependencies (not failing): ${MODERATE} in minimist`);
  });

  it('admits an allowlisted advisory until its review-by date, then fails', () => {
    const entry = { id: CRITICAL, package: 'lodash', reason: 'only _.template is affected and we never call it', reviewBy: '2027-01-31' };
    const admitted = audit(critical, [entry]);
    expect([admitted.code, admitted.out]).toEqual([0, expect.stringContaining(`admitted by the allowlist until 2027-01-31: ${CRITICAL}`)]);
    const expired = audit(critical, [entry], '2027-02-01');
    expect(expired.code).toBe(1);
    expect(expired.err).toContain(`${CRITICAL} was to be reviewed by 2027-01-31`);
    // An expired entry fails even once the advisory is gone: it is to be removed.
    expect(audit(report({}), [entry], '2027-02-01').code).toBe(1);
  });

  it('says when an allowlist entry is no longer needed', () => {
    const result = audit(report({}), [{ id: CRITICAL, package: 'lodash', reason: 'fixed upstream, waiting for the release', reviewBy: '2027-01-31' }]);
    expect([result.code, result.out]).toEqual([0, expect.stringContaining(`${CRITICAL} is in the allowlist but no longer reported: remove its entry.`)]);
  });

  it.each([
    [{ id: 'CVE-2020-1234', package: 'x', reason: 'a reason long enough', reviewBy: '2027-01-01' }, '"id" must be a GHSA id'],
    [{ id: CRITICAL, package: 'x', reason: '', reviewBy: '2027-01-01' }, '"reason" must say why'],
    [{ id: CRITICAL, package: 'x', reason: 'a reason long enough' }, '"reviewBy" must be a date'],
    [{ id: CRITICAL, package: 'x', reason: 'a reason long enough', reviewBy: 'next year' }, '"reviewBy" must be a date'],
  ])('refuses a malformed allowlist entry %j', (entry, message) => {
    const result = audit(report({}), [entry]);
    expect([result.code, result.err]).toEqual([1, expect.stringContaining(message)]);
  });

  it('does not fail the build when the registry cannot be reached, and says so in one line', () => {
    for (const answer of [
      { message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405, error: { summary: '', detail: '' } },
      { error: { code: 'ENOTFOUND', summary: 'request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org', detail: '' } },
    ]) {
      const result = audit(answer);
      expect(result.code).toBe(0);
      expect(result.out.trim().split('\n')).toHaveLength(1);
      expect(result.out).toMatch(/^\[audit\] the npm registry's audit could not be reached \(.+\): dependency audit skipped, the build goes on; run `npm run audit` once online\.\n$/);
    }
  });

  it('fails on an answer it cannot read rather than passing it', () => {
    expect(audit('<html>oops</html>').code).toBe(1);
    expect(audit({ error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.', detail: '' } }).code).toBe(1);
  });
});
