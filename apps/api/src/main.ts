import 'reflect-metadata';
import { bootstrap } from '@ussd/platform-http';
import { API_DEFAULTS, AppModule } from './app.module.js';
import { serveOpenApi } from './openapi.js';

await bootstrap({ defaults: API_DEFAULTS, rootModule: (context) => AppModule.forRoot(context), configure: serveOpenApi }).catch(() => process.exit(1));
