import { requireRedis, silentLogger, TcpProxy } from '@ussd/platform-testing';
import { createRedisClient } from './redis-client.js';

describe('createRedisClient against real Redis', () => {
  it('fails commands fast during an outage instead of hanging, and recovers by itself', async () => {
    const url = await requireRedis();
    const proxy = await TcpProxy.forUrl(url).start();
    const client = createRedisClient(proxy.rewrite(url), { connectionName: 'test', logger: silentLogger() });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.client('GETNAME')).toBe('test');

      await proxy.cut();
      const started = Date.now();
      await expect(client.ping()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(10_000);

      await proxy.restore();
      const deadline = Date.now() + 10_000;
      let answer: string | undefined;
      while (Date.now() < deadline && answer !== 'PONG') {
        answer = await client.ping().catch(() => undefined);
        if (answer !== 'PONG') await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toBe('PONG');
    } finally {
      client.disconnect();
      await proxy.stop();
    }
  });
});
