import { CreateWorkflows1795600000000 } from './1795600000000-create-workflows.js';
import { CreateExecutionLogs1795600001000 } from './1795600001000-create-execution-logs.js';
import { CreateExecutionRetries1795600002000 } from './1795600002000-create-execution-retries.js';
import { CreateUssdClaims1795600003000 } from './1795600003000-create-ussd-claims.js';
import { CreateIdentity1795600004000 } from './1795600004000-create-identity.js';
import { CreateWorkflowTeams1795600005000 } from './1795600005000-create-workflow-teams.js';
import { CreateServiceCodeGrants1795600006000 } from './1795600006000-create-service-code-grants.js';
import { CreateAuditLog1795600007000 } from './1795600007000-create-audit-log.js';
import { CreateTeamSecrets1795600008000 } from './1795600008000-create-team-secrets.js';

/**
 * Every migration, oldest first. ESM builds cannot glob for classes, so a new
 * migration is a file in this folder plus one line here (a test checks the order).
 */
export const MIGRATIONS = [CreateWorkflows1795600000000, CreateExecutionLogs1795600001000, CreateExecutionRetries1795600002000, CreateUssdClaims1795600003000, CreateIdentity1795600004000, CreateWorkflowTeams1795600005000, CreateServiceCodeGrants1795600006000, CreateAuditLog1795600007000, CreateTeamSecrets1795600008000];
