import { Controller, Delete, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { ProblemException, ValidationProblem, ZodValidationPipe } from '@ussd/platform-http';
import { InjectSessionStore } from '@ussd/session-data-access';
import type { SessionState, SessionStore } from '@ussd/session-domain';
import { MAX_SESSION_ID_LENGTH, normalizeMsisdn } from '@ussd/ussd-domain';
import { UssdHopService } from './ussd-hop.service.js';
import { AuditLog, auditActor, CurrentIdentity, type Identity, maskPhoneNumbersIn, masksPhoneNumbers, RequireRole, sees } from '@ussd/platform-auth';
import { WorkflowRepository } from '@ussd/workflow-data-access';
import { readConversation } from './conversation.js';

const MAX_LIST = 100;

/** A gateway's session id as the adapters accept it: 1 to 255 printable ASCII characters. */
const sessionIdParam = new ZodValidationPipe(
  z.string().regex(new RegExp(`^[\\x21-\\x7e]{1,${MAX_SESSION_ID_LENGTH}}$`), `1 to ${MAX_SESSION_ID_LENGTH} printable ASCII characters`),
);
const ListSessionsQuery = z.strictObject({ msisdn: z.string({ error: 'give one phone number' }) });
type ListSessionsQuery = z.output<typeof ListSessionsQuery>;

/** Sessions as operators see them: read one, end one, list a subscriber's active sessions. */
@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(
    @InjectSessionStore() private readonly store: SessionStore,
    private readonly hops: UssdHopService,
    @InjectConfig() private readonly config: PlatformConfig,
    private readonly workflows: WorkflowRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: "A subscriber's active sessions, newest activity first" })
  @ApiQuery({ name: 'msisdn', required: true, description: 'E.164, or a national number of USSD_DEFAULT_COUNTRY' })
  @ApiResponse({ status: 200, description: '{ items: SessionState[] }' })
  @ApiResponse({ status: 400, description: 'Missing or unreadable phone number' })
  async list(@Query(new ZodValidationPipe(ListSessionsQuery)) query: ListSessionsQuery, @CurrentIdentity() caller: Identity): Promise<{ msisdn: string; items: SessionState[] }> {
    const phone = normalizeMsisdn(query.msisdn, this.config.ussd.defaultCountry);
    if (!phone.ok) throw new ValidationProblem([{ in: 'query', pointer: '/msisdn', code: `msisdn-${phone.code}`, message: phone.reason }], 'The request query is not valid.');
    const sessions = await this.store.listByMsisdn(phone.e164, MAX_LIST);
    const owners = new Map<string, Promise<string | undefined>>();
    const visible = await Promise.all(sessions.filter((session) => session.isActive).map(async (session) => ((await this.visible(session, caller, owners)) ? session : undefined)));
    // The number asked about is the caller's own input, so it is echoed as given; the sessions are masked for a viewer.
    return { msisdn: phone.e164, items: visible.filter((session): session is SessionState => session !== undefined).map((session) => this.shown(session, caller)) };
  }

  @Get(':sessionId')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'One session (the seed’s SessionState)' })
  @ApiResponse({ status: 200, description: 'SessionState' })
  @ApiResponse({ status: 404, description: 'No such session (never existed, ended or expired)' })
  async get(@Param('sessionId', sessionIdParam) sessionId: string, @CurrentIdentity() caller: Identity): Promise<SessionState> {
    const stored = await this.store.get(sessionId);
    if (stored === null || !(await this.visible(stored.state, caller))) throw notFound(sessionId);
    return this.shown(stored.state, caller);
  }

  @Delete(':sessionId')
  @RequireRole('publisher')
  @ApiOperation({ summary: 'End a session: its paused execution ends as canceled, the session is removed' })
  @ApiResponse({ status: 200, description: 'The session as it was when it ended' })
  @ApiResponse({ status: 404, description: 'No such session' })
  @ApiResponse({ status: 409, description: 'A hop of the session is still running (Retry-After)' })
  async end(@Param('sessionId', sessionIdParam) sessionId: string, @CurrentIdentity() caller: Identity): Promise<SessionState> {
    const stored = await this.store.get(sessionId);
    if (stored === null || !(await this.visible(stored.state, caller))) throw notFound(sessionId);
    const last = await this.hops.endSession(sessionId);
    if (last === null) throw notFound(sessionId);
    if (last === 'busy') {
      throw new ProblemException({ type: 'urn:problem:session:busy', title: 'Session busy', status: 409, detail: `A hop of session ${sessionId} is still running; try again.`, retryAfterSeconds: 1 });
    }
    // The session id only: never the phone number nor what was typed.
    const workflowId = readConversation(stored.state.data)?.workflowId;
    await this.audit.record({
      ...auditActor(caller),
      team: workflowId === undefined ? null : ((await this.workflows.ownerOf(workflowId)) ?? null),
      action: 'session.delete',
      targetType: 'session',
      targetId: sessionId,
      details: workflowId === undefined ? {} : { workflowId },
    });
    return last;
  }

  /** A viewer sees the subscriber's number masked, in `msisdn` and wherever the session's data repeats it (MASK_PHONE_NUMBERS_FOR_VIEWERS). */
  private shown(state: SessionState, caller: Identity): SessionState {
    if (!masksPhoneNumbers(caller, this.config.privacy.maskPhoneNumbersForViewers)) return state;
    return maskPhoneNumbersIn(state, [state.msisdn, state.msisdn.replace(/^\+/, '')]);
  }

  /**
   * A session belongs to the team of the workflow its conversation runs; another team's answers
   * as a missing one does (404). An admin sees every session, also ones no workflow can be read from.
   */
  private async visible(state: SessionState, caller: Identity, owners = new Map<string, Promise<string | undefined>>()): Promise<boolean> {
    if (caller.role === 'admin') return true;
    const conversation = readConversation(state.data);
    if (conversation === undefined) return false;
    let owner = owners.get(conversation.workflowId);
    if (owner === undefined) owners.set(conversation.workflowId, (owner = this.workflows.ownerOf(conversation.workflowId)));
    return sees(caller, await owner);
  }
}

function notFound(sessionId: string): ProblemException {
  return new ProblemException({ type: 'urn:problem:session:not-found', title: 'Session not found', status: 404, detail: `No session ${sessionId}; it ended, expired or never existed.` });
}
