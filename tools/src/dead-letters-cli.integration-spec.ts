import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { requireRedis } from '@ussd/platform-testing';

/** The built CLI's dead-letter commands against real Redis (the test target depends on the build). */
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('ussd dead-letters (list, redrive, delete)', () => {
  let redis: Redis;
  let redisUrl: string;
  const prefix = `t-cli-${randomUUID().slice(0, 8)}`;
  const stream = `${prefix}:execution-events`;
  const dead = `${stream}:dead-letters`;

  beforeAll(async () => {
    redisUrl = await requireRedis();
    redis = new Redis(redisUrl);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const run = (args: string[], env: Record<string, string> = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }) => {
    const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', ...env }, timeout: 30_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const letter = (event: string, error: string) => redis.xadd(dead, '*', 'sourceId', '1-1', 'event', event, 'error', error, 'failures', '5', 'consumer', 'c1', 'group', 'log-ingester', 'deadAt', '2026-01-01T00:00:00.000Z');

  it('lists dead letters with their error, redrives some onto the stream, deletes others, and says which ids it did not find', async () => {
    const a = (await letter('{"eventId":"a"}', '22003: value out of range'))!;
    const b = (await letter('{"eventId":"b"}', 'event is not JSON'))!;
    const c = (await letter('{"eventId":"c"}', 'x'))!;

    const list = run(['dead-letters', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${a}  failures=5  source=1-1`);
    expect(list.stdout).toContain('error: 22003: value out of range');
    expect(list.stdout).toContain('event: {"eventId":"b"}');
    expect(list.stdout).toContain('3 dead letter(s)');
    const page = run(['dead-letters', 'list', '--limit', '1', '--after', a]);
    expect(page.stdout).toContain(b);
    expect(page.stdout).not.toContain(`${a}  `);
    expect(page.stdout).toContain(`more may follow: --after ${b}`);

    const redrive = run(['dead-letters', 'redrive', a, '9-9']);
    expect(redrive.code).toBe(1);
    expect(redrive.stdout).toContain(`Redriven: 1 (${a})`);
    expect(redrive.stderr).toContain('Not found: 9-9');
    const onStream = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
    expect(onStream.map(([, f]) => f)).toEqual([['event', '{"eventId":"a"}']]);

    expect(run(['dead-letters', 'delete', b])).toMatchObject({ code: 0 });
    expect(run(['dead-letters', 'redrive', '--all'])).toMatchObject({ code: 0, stdout: `Redriven: 1 (${c})\n` });
    expect(await redis.xlen(dead)).toBe(0);
    expect(await redis.xlen(stream)).toBe(2);
    expect(run(['dead-letters', 'list']).stdout).toBe('0 dead letter(s)\n');
  });

  it.each([
    [['dead-letters'], 'dead-letters: say list, redrive or delete.'],
    [['dead-letters', 'purge'], 'Unknown dead-letters action: "purge"'],
    [['dead-letters', 'redrive'], 'dead-letters redrive: give the ids (or --all).'],
    [['dead-letters', 'redrive', 'abc'], 'Not a dead-letter id: "abc"'],
    [['dead-letters', 'redrive', `1-${'9'.repeat(5000)}`], 'Not a dead-letter id'],
    [['dead-letters', 'redrive', '1-1', '--all'], 'Give ids or --all, not both.'],
    [['dead-letters', 'delete', '--all'], 'dead-letters delete takes ids, not --all.'],
    [['dead-letters', 'list', '--limit', 'ten'], '--limit: expected an integer from 1 to 10000, got "ten"'],
    [['dead-letters', 'list', '--limit', '0'], '--limit: expected an integer from 1 to 10000, got 0'],
    [['dead-letters', 'list', '--after', 'yesterday'], '--after: not a dead-letter id: "yesterday"'],
    [['dead-letters', 'list', '--force'], "Unknown option '--force'"],
    [['status', '--all'], '--limit, --after and --all belong to dead-letters.'],
  ])('refuses %j with usage and exit 2', (args, message) => {
    const result = run(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run cli -- <command>');
    expect(result.stderr.length).toBeLessThan(3000);
  });

  it('says where dead letters live when REDIS_URL is unset, and fails clearly when Redis is unreachable', () => {
    expect(run(['dead-letters', 'list'], {})).toMatchObject({ code: 1, stderr: expect.stringContaining('Dead letters are kept in Redis: set REDIS_URL') });
    const down = run(['dead-letters', 'list'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^dead-letters list failed: .*ECONNREFUSED/m);
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});
