/**
 * @ussd/platform-testing: helpers for integration tests against real servers.
 *
 * - `createTestDatabase()`: a fresh, migrated database per test file on TEST_DATABASE_URL's server.
 * - `requireRedis()`: the test Redis URL, or an error that says how to get one.
 * - `TcpProxy`: cut and restore a dependency without touching the shared server.
 * - `createTestKey(url, role, team)`: an API key for calling the api as a client does.
 * - `uploadBody(url, options)`: a large body over a real socket, client-side resets counted.
 */
export * from './services.js';
export * from './tcp-proxy.js';
export * from './app-process.js';
export * from './api-keys.js';
export * from './http-upload.js';
