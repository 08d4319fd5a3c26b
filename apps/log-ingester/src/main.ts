import 'reflect-metadata';
import { runApp } from '@ussd/platform-http';
import { AppModule, INGESTER_DEFAULTS } from './app.module.js';

await runApp({ defaults: INGESTER_DEFAULTS, rootModule: (context) => AppModule.forRoot(context) });
