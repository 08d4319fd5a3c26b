import { Injectable, Module, Optional } from '@nestjs/common';
import { SecretResolutionError, type SecretSource } from '@ussd/execution-domain';
import { SecretDecryptError, SecretsUnavailableError, TeamSecrets, UnknownSecretsError } from '@ussd/platform-secrets';
import { WorkflowDataAccessModule, WorkflowRepository } from '@ussd/workflow-data-access';

/**
 * The engines' secret source: the secrets a run names, read from the team that owns the
 * workflow (workflow_teams) when the run starts or resumes, never cached. Without
 * SecretsModule in the app every run that names a secret fails with `secrets.unavailable`.
 */
@Injectable()
export class WorkflowSecrets implements SecretSource {
  constructor(
    private readonly workflows: WorkflowRepository,
    @Optional() private readonly secrets?: TeamSecrets,
  ) {}

  async resolve(workflowId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (this.secrets === undefined) throw new SecretResolutionError('secrets.unavailable', 'this process has no secret store (SecretsModule is not loaded)');
    const team = await this.workflows.ownerOf(workflowId);
    if (team === undefined) throw new SecretResolutionError('secrets.unavailable', `workflow ${workflowId} belongs to no team, so it has no secrets`);
    try {
      return await this.secrets.resolve(team, names);
    } catch (error) {
      if (error instanceof UnknownSecretsError) throw new SecretResolutionError('secrets.unknown', `${error.message}`);
      if (error instanceof SecretsUnavailableError || error instanceof SecretDecryptError) throw new SecretResolutionError('secrets.unavailable', error.message);
      throw error;
    }
  }
}

/** `WorkflowSecrets` for the execution runner and the USSD hops. */
@Module({
  imports: [WorkflowDataAccessModule],
  providers: [WorkflowSecrets],
  exports: [WorkflowSecrets],
})
export class WorkflowSecretsModule {}
