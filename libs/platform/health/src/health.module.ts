import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppLifecycle } from './app-lifecycle.js';
import { HealthController } from './health.controller.js';

/** `/health/live`, `/health/ready`, `/health/startup` for any app that has the database and redis modules. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [AppLifecycle],
  exports: [AppLifecycle],
})
export class HealthModule {}
