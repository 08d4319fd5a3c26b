import { type InvalidParam, ProblemException } from '@ussd/platform-http';

/** Problem types of the workflow registry (RFC 9457 `type`). */
export const WorkflowProblem = {
  notFound: 'urn:problem:workflow:not-found',
  versionNotFound: 'urn:problem:workflow:version-not-found',
  versionConflict: 'urn:problem:workflow:version-conflict',
  ussdClaimConflict: 'urn:problem:workflow:ussd-claim-conflict',
  serviceCodeNotGranted: 'urn:problem:workflow:service-code-not-granted',
  immutable: 'urn:problem:workflow:published-version-immutable',
  invalidSpec: 'urn:problem:workflow:invalid-spec',
  specTooLarge: 'urn:problem:workflow:spec-too-large',
  preconditionFailed: 'urn:problem:workflow:precondition-failed',
  preconditionRequired: 'urn:problem:workflow:precondition-required',
} as const;

export class WorkflowNotFoundException extends ProblemException {
  constructor(workflowId: string) {
    super({ type: WorkflowProblem.notFound, title: 'Workflow not found', status: 404, detail: `No workflow ${workflowId}.`, workflowId });
  }
}

export class WorkflowVersionNotFoundException extends ProblemException {
  constructor(workflowId: string, version: number | 'published') {
    super({
      type: WorkflowProblem.versionNotFound,
      title: 'Workflow version not found',
      status: 404,
      detail: version === 'published' ? `Workflow ${workflowId} has no published version.` : `Workflow ${workflowId} has no version ${version}.`,
      workflowId,
    });
  }
}

export class WorkflowVersionConflictException extends ProblemException {
  constructor(workflowId: string, detail: string) {
    super({ type: WorkflowProblem.versionConflict, title: 'Version conflict', status: 409, detail, workflowId });
  }
}

/** Another active workflow answers one of the version's USSD service codes in that environment. */
export class UssdClaimConflictException extends ProblemException {
  constructor(workflowId: string, conflicts: readonly { serviceCode: string; environment: string; heldBy: string }[]) {
    super({
      type: WorkflowProblem.ussdClaimConflict,
      title: 'USSD service code already claimed',
      status: 409,
      detail: `${conflicts.map((c) => `${c.serviceCode} in ${c.environment} is answered by workflow ${c.heldBy}`).join('; ')}. Deactivate that workflow or publish a version without the claim first.`,
      workflowId,
      conflicts,
    });
  }
}

/**
 * A USSD trigger claims a service code no grant of the workflow's team covers; `errors` point at
 * the triggers' `serviceCode` in the spec. An admin grants codes (docs/security.md, "Service-code grants").
 */
export class ServiceCodeNotGrantedException extends ProblemException {
  constructor(workflowId: string, team: string, serviceCodes: readonly string[], errors: readonly InvalidParam[]) {
    super({
      type: WorkflowProblem.serviceCodeNotGranted,
      title: 'USSD service code not granted',
      status: 409,
      detail: `Team ${team} holds no grant for ${serviceCodes.join(', ')}. Ask an admin to grant it (POST /teams/${team}/service-codes or \`npm run cli -- grants add\`), or claim a granted code.`,
      workflowId,
      team,
      serviceCodes,
      errors,
    });
  }
}

export class PublishedVersionImmutableException extends ProblemException {
  constructor(workflowId: string, version: number) {
    super({
      type: WorkflowProblem.immutable,
      title: 'Published version is immutable',
      status: 409,
      detail: `Version ${version} of workflow ${workflowId} is published; add a new version instead.`,
      workflowId,
      version,
    });
  }
}

/** 400 from publish and roll back: `errors` are the spec validator's, pointing into the spec. */
export class InvalidWorkflowSpecException extends ProblemException {
  constructor(errors: readonly InvalidParam[], detail: string) {
    super({ type: WorkflowProblem.invalidSpec, title: 'Invalid workflow spec', status: 400, detail, errors });
  }
}

export class WorkflowSpecTooLargeException extends ProblemException {
  constructor(bytes: number, limit: number) {
    super({
      type: WorkflowProblem.specTooLarge,
      title: 'Workflow spec too large',
      status: 413,
      detail: `The spec is ${bytes} bytes; the limit is ${limit} (WORKFLOW_SPEC_MAX_BYTES).`,
      limit,
    });
  }
}

export class PreconditionFailedException extends ProblemException {
  constructor(detail: string) {
    super({ type: WorkflowProblem.preconditionFailed, title: 'Precondition failed', status: 412, detail });
  }
}

export class PreconditionRequiredException extends ProblemException {
  constructor(detail: string) {
    super({ type: WorkflowProblem.preconditionRequired, title: 'Precondition required', status: 428, detail });
  }
}
