import { Module } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ExecutionFeatureModule } from '@ussd/execution-feature';
import { AuthModule } from '@ussd/platform-auth';
import { SecretsModule } from '@ussd/platform-secrets';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { createTestDatabase, createTestKey, grantServiceCodes, silentLogger, type TestDatabase, ussdServiceCodes } from '@ussd/platform-testing';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { UssdFeatureModule } from './ussd-feature.module.js';

@Module({})
class TestRoot {}

export interface UssdTestApp {
  readonly running: RunningApp;
  readonly database: TestDatabase;
  readonly url: string;
  /** An admin key of team `default`, as request headers. */
  readonly auth: { readonly authorization: string };
  close(): Promise<void>;
  /** JSON API call with the admin key. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Grants team `default` the spec's service codes, creates and publishes the workflow; returns its id. */
  publish(spec: unknown): Promise<string>;
  /** Waits until GET /executions/{id} satisfies `until` (the log is written asynchronously). */
  logged(executionId: string, until?: (body: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** The api's workflow, execution and USSD modules on a fresh migrated database. */
export async function startUssdApp(env: Record<string, string> = {}, options: { readonly logDestination?: NodeJS.WritableStream } = {}): Promise<UssdTestApp> {
  const database = await createTestDatabase();
  await migrateDatabase(database.url, silentLogger());
  const running = await bootstrap({
    defaults: { appName: 'test', port: 0 },
    // Conversation tests dial from the same few numbers many times a minute: the per-phone limit
    // is set far above them here (gateway-limits.integration-spec.ts tests it).
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, EXECUTION_EVENT_FLUSH_MS: '10', RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: '100000', ...env },
    rootModule: (context) => ({ module: TestRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), SecretsModule.forRoot(), WorkflowFeatureModule, ExecutionFeatureModule, UssdFeatureModule] }),
    handleSignals: false,
    exit: () => undefined,
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
  });
  const url = running.url;
  const { headers: auth } = await createTestKey(database.url, 'admin');
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  return {
    running,
    database,
    url,
    auth,
    call,
    close: async () => {
      await running.app.close();
      await database.drop();
    },
    publish: async (spec) => {
      await grantServiceCodes(database.url, 'default', ussdServiceCodes(spec));
      const created = await call('POST', '/workflows', { name: 'ussd', spec });
      if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
      const id = created.body['workflowId'] as string;
      const published = await call('POST', `/workflows/${id}/versions/1/publish`);
      if (published.status !== 200) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
      return id;
    },
    logged: async (executionId, until = () => true) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const response = await call('GET', `/executions/${executionId}`);
        if (response.status === 200 && until(response.body)) return response.body;
        if (Date.now() > deadline) throw new Error(`execution ${executionId} not logged as expected: ${JSON.stringify(response.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

/** A unique service code per test, so tests in one database never share a route. */
export function uniqueServiceCode(): string {
  return `*${Math.floor(Math.random() * 900_000) + 100_000}*${Math.floor(Math.random() * 900) + 100}#`;
}

/** An Africa's Talking subscriber: remembers every input and posts the accumulated `text`. */
export class AfricasTalkingPhone {
  readonly sessionId = `ATUid_${randomUUID()}`;
  private readonly inputs: string[] = [];

  constructor(
    private readonly baseUrl: string,
    readonly serviceCode: string,
    readonly phoneNumber = '+254712345678',
  ) {}

  /** The form a hop posts (the first hop has an empty text). */
  form(overrides: Record<string, string> = {}): Record<string, string> {
    return { sessionId: this.sessionId, serviceCode: this.serviceCode, phoneNumber: this.phoneNumber, networkCode: '63902', text: this.inputs.join('*'), ...overrides };
  }

  async dial(): Promise<GatewayReply> {
    return this.post(this.form());
  }

  async send(input: string): Promise<GatewayReply> {
    this.inputs.push(input);
    return this.post(this.form());
  }

  /** The same hop again, as a gateway retries it. */
  async repeat(): Promise<GatewayReply> {
    return this.post(this.form());
  }

  async post(form: Record<string, string>): Promise<GatewayReply> {
    return postForm(this.baseUrl, '/ussd/africastalking', form);
  }
}

export interface GatewayReply {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
  readonly ms: number;
}

export async function postForm(baseUrl: string, path: string, form: Record<string, string>): Promise<GatewayReply> {
  return post(baseUrl, path, 'application/x-www-form-urlencoded', new URLSearchParams(form).toString());
}

export async function post(baseUrl: string, path: string, contentType: string, body: string, headers: Record<string, string> = {}): Promise<GatewayReply> {
  const started = Date.now();
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text(), ms: Date.now() - started };
}

/** A local HTTP service for `http.request` nodes: balance lookups, with a switchable delay. */
export class TestService {
  calls = 0;
  delayMs = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.calls += 1;
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        setTimeout(() => {
          const account = (JSON.parse(body || '{}') as { account?: string }).account ?? '';
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ balance: account === '1234' ? 1500 : 20 }));
        }, this.delayMs).unref();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/**
 * Menu -> input -> HTTP call -> branch -> end: "1" asks for an account number, looks the balance
 * up at the test service and answers "rich" or "poor"; "2" ends at once.
 */
export function balanceSpec(serviceCode: string, serviceUrl: string, environments = ['production']) {
  return {
    specVersion: 1,
    settings: { executionTimeoutMs: 60_000, maxSteps: 50 },
    triggers: [{ type: 'ussd', serviceCode, environments, entry: 'menu' }],
    nodes: [
      {
        id: 'menu',
        type: 'ussd.menu',
        text: 'Welcome',
        options: [
          { key: '1', label: 'Check balance', next: 'account' },
          { key: '2', label: 'Exit', next: 'bye' },
        ],
        invalidText: 'Invalid choice.',
      },
      { id: 'account', type: 'ussd.input', prompt: 'Enter account number', variable: 'account', validation: { pattern: '[0-9]{4}' }, next: 'lookup' },
      {
        id: 'lookup',
        type: 'http.request',
        method: 'POST',
        url: `${serviceUrl}/balance`,
        headers: { 'Content-Type': 'application/json' },
        body: "{ 'account': vars.account, 'msisdn': session.msisdn }",
        timeoutMs: 30_000,
        next: 'branch',
      },
      { id: 'branch', type: 'switch', cases: [{ when: 'nodes.lookup.body.balance > 1000', next: 'rich' }], default: 'poor' },
      { id: 'rich', type: 'ussd.end', text: 'Balance: {{ nodes.lookup.body.balance }}. Well done!' },
      { id: 'poor', type: 'ussd.end', text: 'Balance: {{ nodes.lookup.body.balance }}.' },
      { id: 'bye', type: 'ussd.end', text: 'Goodbye' },
    ],
  };
}
