import { Injectable } from '@nestjs/common';

/**
 * Whether this process still wants traffic. On SIGTERM it starts draining: readiness
 * answers 503 so Kubernetes and load balancers stop routing here, while liveness
 * stays 200 so nothing restarts a process that is shutting down on purpose.
 */
@Injectable()
export class AppLifecycle {
  private drainingSince: Date | undefined;

  startDraining(): void {
    this.drainingSince ??= new Date();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  get since(): Date | undefined {
    return this.drainingSince;
  }
}
