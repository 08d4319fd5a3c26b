import 'reflect-metadata';
import { bootstrap } from '@ussd/platform-http';
import { AppModule, INGESTER_DEFAULTS } from './app.module.js';

await bootstrap({ defaults: INGESTER_DEFAULTS, rootModule: (context) => AppModule.forRoot(context) }).catch(() => process.exit(1));
