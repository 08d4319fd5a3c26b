import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const workspaceRoot = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = 5;

interface Run {
  readonly messages: string[];
  /** npm's: it ends itself with the signal it was sent, as shells expect of Ctrl-C. */
  readonly exit: number | string | null;
  readonly pgPort: number;
}

/**
 * `npm start` as a person runs it in a terminal, then Ctrl-C: the terminal sends SIGINT to the
 * whole foreground process group (npm, the start script, the app), and npm forwards it too.
 */
async function startThenCtrlC(dataDir: string): Promise<Run> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: workspaceRoot,
    detached: true, // a process group of its own, as a terminal's foreground job is
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'development', LOG_FORMAT: 'json', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', EMBEDDED_PG_DIR: dataDir, NX_DAEMON: 'false', NX_TUI: 'false' },
  });
  const messages: string[] = [];
  let pgPort = 0;
  let output = '';
  const listening = new Promise<void>((resolve) => {
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) {
        output += `${text}\n`;
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text) as { msg: string; port?: number };
        messages.push(line.msg);
        if (line.msg === 'embedded PostgreSQL ready') pgPort = Number(line.port);
        if (line.msg.includes(' listening on ')) resolve();
      }
    });
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  await Promise.race([listening, exited.then(() => Promise.reject(new Error(`npm start exited before listening:\n${output}`)))]);

  process.kill(-child.pid!, 'SIGINT');
  const exit = await exited;
  // The group's last member (the app) may outlive npm by a moment.
  for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 100));
  expect(groupAlive(child.pid!)).toBe(false);
  return { messages, exit, pgPort };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start, then Ctrl-C', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ussd-start-'));
    await chmod(dir, 0o755); // reachable by the server user, so the data stays here (and goes with rm)
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it(`shuts down gracefully exactly once, every time (${RUNS} runs), and stops the embedded PostgreSQL`, async () => {
    for (let run = 1; run <= RUNS; run++) {
      const { messages, exit, pgPort } = await startThenCtrlC(join(dir, 'pg'));
      // "shutdown complete" is the app's last line before it exits 0.
      expect({ run, exit, shuttingDown: messages.filter((m) => m === 'shutting down').length, complete: messages.filter((m) => m === 'shutdown complete').length }).toEqual({
        run,
        exit: 'SIGINT',
        shuttingDown: 1,
        complete: 1,
      });
      expect(pgPort).toBeGreaterThan(0);
      await expect(fetch(`http://127.0.0.1:${pgPort}/`)).rejects.toThrow(); // the embedded server is gone
    }
  }, 180_000);
});
