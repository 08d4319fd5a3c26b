import { Module } from '@nestjs/common';
import { ExecutionLogsModule, OutboundHttpModule, WorkflowSecretsModule } from '@ussd/execution-feature';
import { SessionStoreModule } from '@ussd/session-data-access';
import { WorkflowDataAccessModule } from '@ussd/workflow-data-access';
import { GatewayAuth } from './gateway-auth.js';
import { SessionExpiryScheduler } from './session-expiry.scheduler.js';
import { SessionsController } from './sessions.controller.js';
import { UssdController } from './ussd.controller.js';
import { UssdHopService } from './ussd-hop.service.js';
import { UssdRoutes } from './ussd-routes.service.js';

/** The USSD channel: gateway callbacks (POST /ussd/{gateway}), the sessions API, session expiry. */
@Module({
  imports: [ExecutionLogsModule, OutboundHttpModule, WorkflowDataAccessModule, SessionStoreModule, WorkflowSecretsModule],
  controllers: [UssdController, SessionsController],
  providers: [UssdRoutes, UssdHopService, SessionExpiryScheduler, GatewayAuth],
  exports: [UssdHopService],
})
export class UssdFeatureModule {}
