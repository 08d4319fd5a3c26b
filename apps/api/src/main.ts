import 'reflect-metadata';
import { runApp } from '@ussd/platform-http';
import { API_DEFAULTS, AppModule } from './app.module.js';
import { serveOpenApi } from './openapi.js';

await runApp({ defaults: API_DEFAULTS, rootModule: (context) => AppModule.forRoot(context), configure: serveOpenApi });
