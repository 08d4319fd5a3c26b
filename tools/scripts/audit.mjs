#!/usr/bin/env node
// The dependency audit of CI (`npm run audit`; first-run.mjs runs it after `npm ci`): runs
// `npm audit --omit=dev --json` and fails when a production dependency has a high or critical
// advisory that tools/audit-allowlist.json does not admit. Policy (docs/security.md "Headers,
// CORS and dependency audit"):
//
// - high and critical advisories fail the run; moderate and low are counted, not failed;
// - an allowlist entry admits one advisory (its GHSA id) with a reason and a review-by date;
//   an entry past its date fails the run, so an exception is looked at again;
// - when the registry cannot be reached, one line says so and the run does not fail (an
//   offline build must still build); the next online run audits.
//
// Usage: node tools/scripts/audit.mjs [--report FILE] [--allowlist FILE] [--today YYYY-MM-DD]
// --report reads a saved `npm audit --json` answer instead of asking the registry (tests).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FAILING = new Set(['high', 'critical']);
const NETWORK = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)\b|audit endpoint returned an error|request to .* failed/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ADVISORY_ID = /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/;

function say(message) {
  process.stdout.write(`[audit] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[audit] ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { allowlist: join(root, 'tools', 'audit-allowlist.json'), report: undefined, today: new Date().toISOString().slice(0, 10) };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!['--report', '--allowlist', '--today'].includes(flag) || value === undefined) {
      fail(`unknown argument ${JSON.stringify(String(flag).slice(0, 40))}; usage: node tools/scripts/audit.mjs [--report FILE] [--allowlist FILE] [--today YYYY-MM-DD]`);
    }
    options[flag.slice(2)] = value;
  }
  if (!DATE.test(options.today)) fail(`--today: expected YYYY-MM-DD, got ${JSON.stringify(options.today.slice(0, 20))}`);
  return options;
}

/** The allowlist, checked: every entry names an advisory, says why, and has a review-by date. */
function readAllowlist(path, today) {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`cannot read the allowlist ${relative(root, path) || path}: ${error.message}; fix the file (it is JSON: { "advisories": [ … ] })`);
  }
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.advisories)) fail(`${relative(root, path)}: expected { "advisories": [ { "id", "package", "reason", "reviewBy" } ] }`);
  const problems = [];
  const entries = new Map();
  for (const [index, entry] of parsed.advisories.entries()) {
    const where = `${relative(root, path)} advisories[${index}]`;
    if (entry === null || typeof entry !== 'object') {
      problems.push(`${where}: expected an object`);
      continue;
    }
    const { id, reason, reviewBy } = entry;
    if (typeof id !== 'string' || !ADVISORY_ID.test(id)) problems.push(`${where}: "id" must be a GHSA id such as GHSA-xxxx-xxxx-xxxx`);
    if (typeof reason !== 'string' || reason.trim().length < 10) problems.push(`${where}: "reason" must say why the advisory does not apply or cannot be fixed yet`);
    if (typeof reviewBy !== 'string' || !DATE.test(reviewBy) || Number.isNaN(Date.parse(reviewBy))) problems.push(`${where}: "reviewBy" must be a date, YYYY-MM-DD`);
    else if (reviewBy < today) problems.push(`${where}: ${id} was to be reviewed by ${reviewBy}: check whether a fix exists now, then update or remove the entry`);
    if (typeof id === 'string') entries.set(id, entry);
  }
  if (problems.length > 0) fail(problems.join('\n[audit] '));
  return entries;
}

/** `npm audit --omit=dev --json`, or a saved answer; undefined when the registry cannot be reached. */
function readReport(reportFile) {
  let stdout;
  let stderr = '';
  if (reportFile !== undefined) stdout = readFileSync(reportFile, 'utf8');
  else {
    const result = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    if (result.error?.code === 'ETIMEDOUT') return { unreachable: 'no answer within 120 s' };
    if (result.error) fail(`could not run npm audit: ${result.error.message}`);
    ({ stdout, stderr } = result);
  }
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    const text = `${stdout}\n${stderr}`;
    if (NETWORK.test(text)) return { unreachable: NETWORK.exec(text)?.[0] ?? 'network error' };
    fail(`npm audit answered something that is not JSON: ${text.trim().split('\n')[0]?.slice(0, 200) ?? ''}`);
  }
  if (report?.error) {
    const text = `${report.error.code ?? ''} ${report.error.summary ?? ''} ${report.error.detail ?? ''} ${report.message ?? ''} ${stderr}`;
    // The registry answered with an HTTP error (a mirror or proxy without the audit endpoint) or not at all.
    if (typeof report.statusCode === 'number') return { unreachable: `the audit endpoint answered HTTP ${report.statusCode}` };
    if (NETWORK.test(text)) return { unreachable: NETWORK.exec(text)?.[0] ?? 'network error' };
    fail(`npm audit failed: ${text.trim().replace(/\s+/g, ' ').slice(0, 300)}`);
  }
  if (report === null || typeof report !== 'object' || typeof report.vulnerabilities !== 'object') fail('npm audit answered JSON without "vulnerabilities" (an npm older than 7?): run it with the npm of Node 20 or newer');
  return { report };
}

/** Every advisory in the report: GHSA id, package, severity, title. */
function advisoriesOf(report) {
  const found = new Map();
  for (const vulnerability of Object.values(report.vulnerabilities)) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object' || via === null) continue; // a string names another vulnerable package; its own entry lists the advisory
      const id = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/.exec(String(via.url ?? ''))?.[0] ?? `npm-${via.source}`;
      found.set(id, { id, package: via.name ?? vulnerability.name, severity: via.severity, title: String(via.title ?? '').slice(0, 120), range: via.range });
    }
  }
  return [...found.values()];
}

const options = parseArgs(process.argv.slice(2));
const allowlist = readAllowlist(options.allowlist, options.today);
const answer = readReport(options.report);
if (answer.unreachable !== undefined) {
  say(`the npm registry's audit could not be reached (${answer.unreachable}): dependency audit skipped, the build goes on; run \`npm run audit\` once online.`);
  process.exit(0);
}
const advisories = advisoriesOf(answer.report);
const blocking = advisories.filter((a) => FAILING.has(a.severity) && !allowlist.has(a.id));
const admitted = advisories.filter((a) => allowlist.has(a.id));
const minor = advisories.filter((a) => !FAILING.has(a.severity) && !allowlist.has(a.id));
const present = new Set(advisories.map((a) => a.id));
for (const a of admitted) say(`admitted by the allowlist until ${allowlist.get(a.id).reviewBy}: ${a.id} (${a.severity}) in ${a.package}: ${a.title}`);
for (const id of allowlist.keys()) if (!present.has(id)) say(`${id} is in the allowlist but no longer reported: remove its entry.`);
if (minor.length > 0) say(`${minor.length} moderate or low advisories in production dependencies (not failing): ${minor.map((a) => `${a.id} in ${a.package}`).join(', ')}`);
if (blocking.length > 0) {
  for (const a of blocking) process.stderr.write(`[audit] ${a.severity} ${a.id} in ${a.package} ${a.range ?? ''}: ${a.title}\n`);
  fail(`${blocking.length} high or critical advisories in production dependencies: upgrade (npm update <package>, or an override), or admit each in tools/audit-allowlist.json with a reason and a review-by date.`);
}
say(`production dependencies: no high or critical advisory${admitted.length > 0 ? ' beyond the allowlisted ones' : ''}.`);
