import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AppProcess {
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly lines: Record<string, unknown>[];
  /** Plain stderr, for configuration errors. */
  stderr(): string;
  /** Resolves with the URL from the boot line ("… listening on …"). */
  readonly listening: Promise<string>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** A fresh directory (mode 0755) for EMBEDDED_PG_DIR and the like, removed by cleanup(). */
  readonly workDir: string;
  cleanup(): Promise<void>;
}

/**
 * Starts a built app (`node <entry>`) as an operator would, with only the environment
 * given (plus PATH), JSON logs, and a private work directory.
 */
export async function spawnApp(entry: string, env: Record<string, string>): Promise<AppProcess> {
  const workDir = await mkdtemp(join(tmpdir(), 'ussd-app-'));
  await chmod(workDir, 0o755); // an embedded PostgreSQL runs as the postgres user when we are root
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', LOG_FORMAT: 'json', HOST: '127.0.0.1', PORT: '0', ...env },
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  let onListening: (url: string) => void = () => undefined;
  const listening = new Promise<string>((resolve) => (onListening = resolve));
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (!text.trim()) continue;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (typeof line['msg'] === 'string' && line['msg'].includes(' listening on ') && typeof line['url'] === 'string') onListening(line['url']);
      } catch {
        stderr += `[non-JSON stdout] ${text}\n`;
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const listeningOrExit = Promise.race([listening, exited.then((code) => Promise.reject(new Error(`app exited (${code}) before listening:\n${stderr}`)))]);
  listeningOrExit.catch(() => undefined); // a test that expects the exit never awaits this
  return {
    child,
    lines,
    stderr: () => stderr,
    listening: listeningOrExit,
    exited,
    workDir,
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
