import { Redis } from 'ioredis';
import { requireRedis } from './services.js';
import { TcpProxy } from './tcp-proxy.js';

describe('TcpProxy', () => {
  it('forwards traffic, refuses it while cut, and forwards again on the same port after restore', async () => {
    const url = await requireRedis();
    const proxy = await TcpProxy.forUrl(url).start();
    const proxied = proxy.rewrite(url);
    const ping = async () => {
      const client = new Redis(proxied, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await client.ping();
      } catch {
        return 'refused';
      } finally {
        client.disconnect();
      }
    };
    try {
      expect(await ping()).toBe('PONG');
      await proxy.cut();
      expect(await ping()).toBe('refused');
      await proxy.restore();
      expect(await ping()).toBe('PONG');
      expect(proxy.rewrite(url)).toBe(proxied);
    } finally {
      await proxy.stop();
    }
  });
});
