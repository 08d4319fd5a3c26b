import 'reflect-metadata';
import { bootstrap } from '@ussd/platform-http';
import { API_DEFAULTS, AppModule } from './app.module.js';

await bootstrap({ defaults: API_DEFAULTS, rootModule: (context) => AppModule.forRoot(context) }).catch(() => process.exit(1));
