import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  type Continuation,
  type EngineResult,
  type ExecutionEventSink,
  type HttpClient,
  type PinnedWorkflow,
  type SessionInfo,
  sinkBackPressure,
  WorkflowEngine,
} from '@ussd/execution-domain';
import { EXECUTION_EVENT_SINK, EventProducers, InjectOutboundHttp, WorkflowSecrets } from '@ussd/execution-feature';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { InjectSessionStore } from '@ussd/session-data-access';
import type { AcquireResult, ExpiryNote, SessionState, SessionStore } from '@ussd/session-domain';
import { normalizeMsisdn, pageNavigation, paginateReply, type UssdHop, type UssdReply, type UssdSessionEnded } from '@ussd/ussd-domain';
import { type Conversation, readConversation } from './conversation.js';
import { UssdRoutes } from './ussd-routes.service.js';

/** What subscribers read when something other than the workflow ends their session. */
export const USSD_MESSAGES = {
  unavailable: 'This service is not available right now. Please try again later.',
  error: 'Sorry, something went wrong. Please try again later.',
  slow: 'Sorry, the service is taking too long. Please try again later.',
  busy: 'The service is busy. Please try again in a moment.',
  invalidPhone: 'Sorry, your phone number could not be read.',
  wrongPhone: 'Sorry, this session belongs to another phone number.',
  ended: 'Your session has ended. Please dial again.',
  thanks: 'Thank you.',
  malformed: 'Sorry, this request could not be understood.',
  refused: 'Sorry, this request was refused.',
  tooManyHops: 'Too many requests from this phone. Please try again in a minute.',
} as const;

/** The engine stops this long before the hop deadline, so the reply (and its commit) still make it in time. */
const MAX_DEADLINE_MARGIN_MS = 250;
/** Longest wait between attempts to take a session's hop lease held by a concurrent hop. */
const MAX_LEASE_POLL_MS = 50;
const EXPIRY_BATCH = 100;

const end = (text: string): UssdReply => ({ kind: 'end', text });

type Outcome = { readonly reply: UssdReply; readonly committed: boolean };

/**
 * One USSD hop, from a parsed gateway request to the reply, with the session in the
 * SessionStore between hops (docs/ussd.md):
 * - the first hop routes service code + USSD_ENVIRONMENT to a published workflow, pins that
 *   version in the session and starts one execution; later hops resume it with the newest input;
 * - hops of one session are serialised by the store's hop lease (taken with the read, released
 *   with the write: two round trips); a repeated hop (same hop key) gets the stored reply again;
 * - every reply arrives within USSD_HOP_DEADLINE_MS: the engine runs under a deadline signal
 *   and the execution ends as `timeout` if it passes;
 * - whatever goes wrong, the subscriber gets a polite END, never an error page.
 */
@Injectable()
export class UssdHopService {
  private readonly engine: WorkflowEngine;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly environment: string;
  private readonly hopDeadlineMs: number;
  private readonly leaseMs: number;

  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly routes: UssdRoutes,
    @Inject(EXECUTION_EVENT_SINK) private readonly sink: ExecutionEventSink,
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    producers: EventProducers,
    /** The process's one outbound client (OutboundHttpModule in execution-feature), shared with the execution runner. */
    @InjectOutboundHttp() http: HttpClient,
    /** The secrets a run names, from its workflow's team (execution-feature). */
    secrets: WorkflowSecrets,
  ) {
    this.environment = config.ussd.environment;
    this.hopDeadlineMs = config.ussd.hopDeadlineMs;
    this.leaseMs = config.ussd.hopDeadlineMs + 1000;
    this.engine = new WorkflowEngine({
      sink,
      http,
      secrets,
      outputCapBytes: config.execution.outputCapBytes,
      subworkflows: { resolvePublished: (workflowId, version) => this.routes.resolvePublished(workflowId, version) },
    });
    producers.register(() => this.drain());
  }

  /** Answers one hop. Never throws: errors become a polite END (and an error log line with the session). */
  hop(hop: UssdHop, gateway: string): Promise<UssdReply> {
    return this.track(this.answer(hop, gateway));
  }

  /** The gateway says the session is over: its paused execution ends (canceled, or timeout) and the session closes. */
  ended(notice: UssdSessionEnded): Promise<void> {
    return this.track(
      this.withLease(notice.sessionId, async (lease, owner) => {
        const stored = lease.session;
        if (stored === null || !stored.state.isActive) return false;
        const conversation = readConversation(stored.state.data);
        if (conversation?.continuation) {
          await this.engine.cancel(conversation.continuation, `the gateway ended the session: ${notice.detail}`, {
            status: notice.reason,
            code: notice.reason === 'timeout' ? 'session.timeout' : 'session.ended',
          });
        }
        const closed: SessionState = { ...stored.state, isActive: false, lastActivityAt: new Date().toISOString(), data: { ...stored.state.data, continuation: null, screen: null } };
        return (await this.store.commit(closed, { expectedRevision: stored.revision, leaseOwner: owner, expiryNote: null })) !== null;
      }).then((held) => {
        if (!held) this.logger.warn({ sessionId: notice.sessionId }, 'gateway end notice not applied: a hop held the session past the deadline (the session will expire instead)');
      }),
    );
  }

  /** DELETE /sessions/{id}: ends the paused execution as canceled and removes the session. Null if there is none; 'busy' if a hop held it past the hop deadline. */
  endSession(sessionId: string): Promise<SessionState | null | 'busy'> {
    return this.track(
      (async () => {
        let last: SessionState | null = null;
        const held = await this.withLease(sessionId, async (lease) => {
          const conversation = lease.session === null ? undefined : readConversation(lease.session.state.data);
          if (lease.session?.state.isActive && conversation?.continuation) {
            await this.engine.cancel(conversation.continuation, 'the session was ended through the API', { status: 'canceled', code: 'session.ended' });
          }
          last = await this.store.end(sessionId);
          return false;
        });
        return held ? last : 'busy';
      })(),
    );
  }

  /** Ends the executions of sessions that expired (no hop for SESSION_TTL_SECONDS) as timeout. Returns how many. */
  async sweepExpired(now = new Date()): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.store.takeExpired(now, EXPIRY_BATCH);
      for (const { sessionId, note } of expired) {
        const continuation = note['continuation'] as Continuation | undefined;
        if (continuation === undefined) continue;
        const result = await this.engine.cancel(continuation, `the session expired after ${this.store.ttlSeconds} s without a hop`, { status: 'timeout', code: 'session.expired' });
        if (result.status === 'failed') this.logger.warn({ sessionId, error: result.error }, 'could not end the execution of an expired session');
      }
      total += expired.length;
      if (expired.length < EXPIRY_BATCH) return total;
    }
  }

  private async answer(hop: UssdHop, gateway: string): Promise<UssdReply> {
    const deadlineAt = Date.now() + this.hopDeadlineMs;
    const phone = normalizeMsisdn(hop.phoneNumber, this.config.ussd.defaultCountry);
    if (!phone.ok) {
      this.logger.info({ sessionId: hop.sessionId, reason: phone.reason }, 'USSD hop refused: unreadable phone number');
      return end(USSD_MESSAGES.invalidPhone);
    }
    try {
      let reply: UssdReply = end(USSD_MESSAGES.busy);
      const work = this.withLease(
        hop.sessionId,
        async (lease, owner) => {
          const outcome = await this.answerHolding(hop, gateway, phone.e164, lease, owner, deadlineAt);
          reply = outcome.reply;
          return outcome.committed;
        },
        deadlineAt,
      );
      // The engine stops before the deadline by itself; this also bounds a store that hangs
      // (Redis reconnecting): the subscriber gets an answer in time, the work finishes behind it.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, deadlineAt - Date.now()))));
      const held = await Promise.race([work, late]).finally(() => clearTimeout(timer));
      if (held === 'late') {
        work.catch((error: unknown) => this.logger.error({ err: error, sessionId: hop.sessionId }, 'USSD hop failed after its deadline'));
        this.logger.warn({ sessionId: hop.sessionId, deadlineMs: this.hopDeadlineMs }, 'USSD hop missed its deadline (the session store or the database is slow); answered END');
        return end(USSD_MESSAGES.slow);
      }
      if (!held) this.logger.warn({ sessionId: hop.sessionId }, 'USSD hop answered busy: another hop of the session held it until the deadline');
      return reply;
    } catch (error) {
      const errorId = randomUUID();
      this.logger.error({ err: error, errorId, sessionId: hop.sessionId, gateway }, 'USSD hop failed');
      return end(USSD_MESSAGES.error);
    }
  }

  private async answerHolding(hop: UssdHop, gateway: string, msisdn: string, lease: AcquireResult, owner: string, deadlineAt: number): Promise<Outcome> {
    const stored = lease.session;
    if (stored === null) {
      if (hop.input !== null) return { reply: end(USSD_MESSAGES.ended), committed: false }; // a later hop of a session we do not know
      return this.begin(hop, gateway, msisdn, owner, deadlineAt);
    }
    const { state } = stored;
    if (state.msisdn !== msisdn) {
      this.logger.warn({ sessionId: hop.sessionId }, 'USSD hop refused: the session belongs to another phone number');
      return { reply: end(USSD_MESSAGES.wrongPhone), committed: false };
    }
    const conversation = readConversation(state.data);
    if (conversation === undefined) {
      this.logger.error({ sessionId: hop.sessionId }, 'USSD session data is not a conversation; ending the hop');
      return { reply: end(USSD_MESSAGES.error), committed: false };
    }
    if (conversation.lastHop.key === hop.hopKey) return { reply: conversation.lastHop.reply, committed: false }; // a retry
    if (!state.isActive) return { reply: end(USSD_MESSAGES.ended), committed: false };
    if (hop.input === null) return { reply: conversation.lastHop.reply, committed: false }; // dialled again mid-session: same screen

    const save = (next: Conversation, reply: UssdReply, isActive: boolean, expiryNote: ExpiryNote | null | undefined) =>
      this.save(stored.state, stored.revision, owner, next, reply, isActive, expiryNote);

    const turned = turnPage(conversation, hop.input);
    if (turned !== undefined) {
      const reply = pageReply(turned);
      return save({ ...conversation, screen: turned, lastHop: { key: hop.hopKey, reply }, hops: conversation.hops + 1 }, reply, reply.kind === 'continue', reply.kind === 'end' ? null : undefined);
    }
    // The workflow has ended; only its long final screen was still being read.
    if (conversation.continuation === null) return { reply: end(USSD_MESSAGES.ended), committed: false };

    const workflow = await this.routes.pinned(conversation.workflowId, conversation.version);
    if (workflow === null) {
      this.logger.error({ sessionId: hop.sessionId, workflowId: conversation.workflowId, version: conversation.version }, 'the pinned workflow version is gone');
      return { reply: end(USSD_MESSAGES.error), committed: false };
    }
    const { continuation } = conversation;
    const input = hop.input;
    const session: SessionInfo = { sessionId: hop.sessionId, msisdn, serviceCode: conversation.serviceCode, input };
    const result = await this.runUntilInput(workflow, deadlineAt, (signal) => this.engine.resume(workflow, continuation, { kind: 'input', text: input, session }, signal));
    return this.settle(result, conversation, hop, (next, reply, isActive, note) => save(next, reply, isActive, note));
  }

  /** First hop: route, start the execution, create the session. */
  private async begin(hop: UssdHop, gateway: string, msisdn: string, owner: string, deadlineAt: number): Promise<Outcome> {
    const workflow = await this.routes.route(hop.serviceCode, this.environment);
    if (workflow === null) {
      this.logger.info({ serviceCode: hop.serviceCode, environment: this.environment }, 'USSD dial to a code no published workflow answers');
      return { reply: end(USSD_MESSAGES.unavailable), committed: false };
    }
    if (sinkBackPressure(this.sink)?.saturated === true) {
      this.logger.warn({ sessionId: hop.sessionId }, 'USSD session refused: execution logs are backed up');
      return { reply: end(USSD_MESSAGES.busy), committed: false };
    }
    const executionId = randomUUID();
    const session: SessionInfo = { sessionId: hop.sessionId, msisdn, serviceCode: hop.serviceCode, input: '' };
    const result = await this.runUntilInput(workflow, deadlineAt, (signal) =>
      this.engine.start({ executionId, workflow, trigger: { type: 'ussd', payload: { ...hop.payload, msisdn } }, session, environment: this.environment, signal }),
    );
    const now = new Date().toISOString();
    const initial: SessionState = { sessionId: hop.sessionId, type: 'ussd', msisdn, data: {}, createdAt: now, lastActivityAt: now, isActive: true };
    const conversation: Conversation = {
      v: 1,
      gateway,
      serviceCode: hop.serviceCode,
      workflowId: workflow.workflowId,
      version: workflow.version,
      environment: this.environment,
      executionId,
      continuation: null,
      screen: null,
      lastHop: { key: hop.hopKey, reply: end('') },
      hops: 0,
    };
    return this.settle(result, conversation, hop, (next, reply, isActive, note) => this.save(initial, null, owner, next, reply, isActive, note));
  }

  /** Turns the engine's result into the reply and the session's next state, and writes it. */
  private async settle(
    result: EngineResult,
    conversation: Conversation,
    hop: UssdHop,
    save: (next: Conversation, reply: UssdReply, isActive: boolean, note: ExpiryNote | null) => Promise<Outcome>,
  ): Promise<Outcome> {
    const hops = conversation.hops + 1;
    if (result.status === 'paused' && result.waitingFor === 'input') {
      const screen = { ...screenOf({ kind: 'continue', text: result.prompt?.text ?? '' }), page: 0 };
      const reply = pageReply(screen);
      const next: Conversation = { ...conversation, continuation: result.continuation, screen, lastHop: { key: hop.hopKey, reply }, hops };
      const outcome = await save(next, reply, true, { continuation: result.continuation as unknown as Record<string, unknown> });
      if (!outcome.committed) {
        // The session was ended meanwhile (the gateway's notice, the API): end what we just advanced.
        await this.engine.cancel(result.continuation, 'the session ended while the hop ran', { status: 'canceled', code: 'session.ended' });
        return { reply: end(USSD_MESSAGES.ended), committed: false };
      }
      return outcome;
    }
    let text: string;
    switch (result.status) {
      case 'completed':
        text = result.message === '' ? USSD_MESSAGES.thanks : result.message;
        break;
      case 'timeout':
        text = USSD_MESSAGES.slow;
        break;
      default:
        if (result.status === 'failed') this.logger.warn({ sessionId: hop.sessionId, executionId: conversation.executionId, error: result.error }, 'USSD execution failed');
        text = USSD_MESSAGES.error;
    }
    // A final message longer than a screen is read page by page; the session ends with its last page.
    const screen = { ...screenOf(end(text)), page: 0 };
    const reply = pageReply(screen);
    const next: Conversation = { ...conversation, continuation: null, screen: screen.pages.length > 1 ? screen : null, lastHop: { key: hop.hopKey, reply }, hops };
    const outcome = await save(next, reply, reply.kind === 'continue', null);
    return { reply, committed: outcome.committed };
  }

  private async save(
    previous: SessionState,
    revision: string | null,
    owner: string,
    conversation: Conversation,
    reply: UssdReply,
    isActive: boolean,
    expiryNote: ExpiryNote | null | undefined,
  ): Promise<Outcome> {
    const state: SessionState = { ...previous, data: conversation as unknown as Record<string, unknown>, lastActivityAt: new Date().toISOString(), isActive };
    const written = await this.store.commit(state, { expectedRevision: revision, leaseOwner: owner, ...(expiryNote === undefined ? {} : { expiryNote }) });
    return { reply, committed: written !== null };
  }

  /**
   * Runs the engine under the hop deadline until it waits for the subscriber. A short
   * `delay` node that paused (waitingFor 'time') is waited out inline when it ends in time.
   */
  private async runUntilInput(workflow: PinnedWorkflow, deadlineAt: number, run: (signal: AbortSignal) => Promise<EngineResult>): Promise<EngineResult> {
    const stopAt = deadlineAt - Math.min(MAX_DEADLINE_MARGIN_MS, Math.floor(this.hopDeadlineMs / 10));
    // One controller per hop, its timer cleared when the hop is done: AbortSignal.timeout would
    // leave a timer per hop pending for the whole deadline (thousands at load).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException(`the USSD hop deadline (${this.hopDeadlineMs} ms) passed`, 'TimeoutError')), Math.max(1, stopAt - Date.now()));
    try {
      let result = await run(controller.signal);
      while (result.status === 'paused' && result.waitingFor === 'time') {
        const wakeAt = result.resumeAt === undefined ? Date.now() : Date.parse(result.resumeAt);
        const continuation = result.continuation;
        if (wakeAt >= stopAt) {
          return await this.engine.cancel(continuation, `a delay outlasts the USSD hop deadline (${this.hopDeadlineMs} ms)`, { status: 'timeout' });
        }
        await sleep(wakeAt - Date.now());
        result = await this.engine.resume(workflow, continuation, { kind: 'timer' }, controller.signal);
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Takes the session's hop lease (waiting while a concurrent hop holds it, until `deadlineAt`),
   * runs `work`, and gives the lease back unless `work` committed (which releases it). False when
   * the lease could not be had in time.
   */
  private async withLease(sessionId: string, work: (lease: AcquireResult, owner: string) => Promise<boolean>, deadlineAt = Date.now() + this.hopDeadlineMs): Promise<boolean> {
    const owner = randomUUID();
    let wait = 5;
    let lease = await this.store.acquire(sessionId, owner, this.leaseMs);
    while (!lease.acquired) {
      if (Date.now() + wait >= deadlineAt - MAX_DEADLINE_MARGIN_MS) return false;
      await sleep(wait);
      wait = Math.min(wait * 2, MAX_LEASE_POLL_MS);
      lease = await this.store.acquire(sessionId, owner, this.leaseMs);
    }
    let committed = false;
    try {
      committed = await work(lease, owner);
    } finally {
      if (!committed) await this.store.release(sessionId, owner).catch((error: unknown) => this.logger.warn({ err: error, sessionId }, 'could not release a session lease (it expires by itself)'));
    }
    return true;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** At shutdown: hops in flight finish (they emit events) before the event sink closes. */
  private async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}

/** The subscriber asked for the next or previous page of a long screen: the new screen, or undefined. */
function turnPage(conversation: Conversation, input: string): Conversation['screen'] & object | undefined {
  const screen = conversation.screen;
  if (screen === null || screen.pages.length < 2) return undefined;
  const page = pageNavigation(input, screen.page, screen.pages.length);
  return page === null ? undefined : { ...screen, page };
}

/** A screen as pages: all but the last continue the session; the last keeps the reply's kind. */
function screenOf(reply: UssdReply): { readonly pages: string[]; readonly final: boolean } {
  return { pages: paginateReply(reply).map((page) => page.text), final: reply.kind === 'end' };
}

/** The page of `screen` to show, as a reply: the last page of a final screen ends the session. */
function pageReply(screen: { readonly pages: readonly string[]; readonly page: number; readonly final: boolean }): UssdReply {
  const last = screen.page === screen.pages.length - 1;
  return { kind: last && screen.final ? 'end' : 'continue', text: screen.pages[screen.page] ?? '' };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
