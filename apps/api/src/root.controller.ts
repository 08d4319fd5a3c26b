import { Controller, Get } from '@nestjs/common';
import { Public } from '@ussd/platform-auth';

/** `GET /`: what this service is and where to look next. */
@Public('the index names the endpoints; it holds no data')
@Controller()
export class RootController {
  @Get()
  index() {
    return {
      service: 'ussd-flow api',
      docs: '/docs',
      openapi: '/docs/openapi.json',
      workflows: '/workflows',
      executions: '/executions',
      sessions: '/sessions?msisdn=',
      serviceCodeGrants: '/teams/{team}/service-codes',
      audit: '/audit',
      secrets: '/secrets',
      ussd: { africastalking: '/ussd/africastalking', hubtel: '/ussd/hubtel' },
      metrics: '/metrics',
      health: { live: '/health/live', ready: '/health/ready', startup: '/health/startup' },
    };
  }
}
