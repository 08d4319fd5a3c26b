#!/usr/bin/env node
// Benchmark (not a test): the USSD hop service alone, in-process, without HTTP: what one hop
// costs in CPU (sessions in real Redis; routes stubbed, no database). Pair it with
// tools/bench/ussd.mjs to see how much of a hop is HTTP and framework.
//
//   npx nx run ussd-feature:build && node tools/bench/hop-cpu.mjs [redis|nullsink] [hops=20000]
//
// `redis`: execution events go to a Redis Stream as in production; `nullsink`: they are dropped.
// 200 concurrent subscribers walk the same 4-hop menu as tools/bench/ussd.mjs.
import { Redis } from 'ioredis';
import { UssdHopService } from '@ussd/ussd-feature';
import { RedisSessionStore } from '@ussd/session-data-access';
import { RedisStreamEventSink } from '@ussd/execution-data-access';
import { createHttpClient } from '@ussd/execution-domain';
import { parseConfig } from '@ussd/platform-config';
const mode = process.argv[2] ?? 'redis';
const config = parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }, { appName: 'x', port: 0 });
const redis = new Redis('redis://127.0.0.1:6379', { enableAutoPipelining: true });
const store = new RedisSessionStore(redis, { ttlSeconds: 600, keyPrefix: `hopcpu${Date.now()}` });
const streamKey = `hopcpu-stream-${Date.now()}`;
const sink = mode === 'nullsink' ? { emit() {} } : new RedisStreamEventSink(redis, { streamKey, maxBuffered: 100000, onError: () => {} });
const code = '*1*2#';
const spec = { specVersion: 1, settings: { executionTimeoutMs: 600000, maxSteps: 20 }, triggers: [{ type: 'ussd', serviceCode: code, environments: ['production'], entry: 'menu' }],
  nodes: [
    { id: 'menu', type: 'ussd.menu', text: 'Welcome', options: [{ key: '1', label: 'Pay bill', next: 'pin' }, { key: '2', label: 'Exit', next: 'bye' }] },
    { id: 'pin', type: 'ussd.input', prompt: 'Enter PIN', variable: 'pin', validation: { pattern: '[0-9]{4}' }, next: 'fee' },
    { id: 'fee', type: 'transform', assign: { fee: '$length(vars.pin) * 10' }, next: 'route' },
    { id: 'route', type: 'switch', cases: [{ when: 'vars.fee > 100', next: 'bye' }], default: 'confirm' },
    { id: 'confirm', type: 'ussd.menu', text: 'Fee {{ vars.fee }}. Confirm?', options: [{ key: '1', label: 'Yes', next: 'done' }, { key: '2', label: 'No', next: 'bye' }] },
    { id: 'done', type: 'ussd.end', text: 'Paid. Thank you.' }, { id: 'bye', type: 'ussd.end', text: 'Goodbye' } ] };
const workflow = { workflowId: '00000000-0000-4000-8000-000000000001', version: 1, spec };
const routes = { route: async () => workflow, pinned: async () => workflow, resolvePublished: async () => workflow };
const logger = { info() {}, warn() {}, error(...a) { console.error(...a); }, debug() {} };
// The menu makes no HTTP calls; the client is the one the app's OutboundHttpModule would build.
const http = createHttpClient({ connectTimeoutMs: 5000, maxResponseBytes: config.outboundHttp.responseMaxBytes, allowedHosts: config.outboundHttp.allowedHosts });
const service = new UssdHopService(store, routes, sink, config, logger, { register() {} }, http);
const texts = ['', '1', '1*1234', '1*1234*1'];
const total = Number(process.argv[3] ?? 20000);
let next = 0; const run = Date.now();
const t = performance.now();
await Promise.all(Array.from({ length: 200 }, async () => {
  while (next < total) {
    const i = next++; const S = 4000; const s = i % S; const hop = Math.floor(i / S) % 4; const g = Math.floor(i / (4 * S));
    const text = texts[hop];
    const reply = await service.hop({ type: 'hop', sessionId: `c${run}-${g}-${s}`, serviceCode: code, phoneNumber: '+2547' + String(s).padStart(8, '0'), network: '63902', input: text === '' ? null : text.split('*').at(-1), hopKey: text, payload: { text } }, 'africastalking');
    if (reply.text.startsWith('Sorry') || reply.text.startsWith('Your session')) throw new Error(reply.text);
  }
}));
const secs = (performance.now() - t) / 1000;
console.log(mode, total, 'hops in', secs.toFixed(2), 's =', Math.round(total / secs), 'hops/s');
if (mode !== 'nullsink') await sink.flush();
await redis.del(streamKey); // nothing consumes it
redis.disconnect();
http.close();
process.exit(0);
