import { describe, expect, it } from 'vitest';
import { MockDiscovery } from '../../../shared/discovery/mock-discovery.js';

describe('MockDiscovery', () => {
  it('resolves a registered name to its addresses', async () => {
    const mock = new MockDiscovery({ now: () => 1_000, ttlMs: 500 }).register('contact-service', '127.0.0.1:50051');

    expect(await mock.resolve('contact-service')).toEqual({
      service: 'contact-service',
      addresses: [{ host: '127.0.0.1', port: 50051 }],
      source: 'mock',
      resolvedAt: 1_000,
      expiresAt: 1_500,
      stale: false,
    });
    expect(mock.lookupCount('contact-service')).toBe(1);
  });

  it('replaces addresses on a new registration and forgets a deregistered name', async () => {
    const mock = new MockDiscovery().register('contact-service', '127.0.0.1:1', '127.0.0.1:2');
    mock.register('contact-service', '127.0.0.1:3');

    expect((await mock.resolve('contact-service')).addresses).toEqual([{ host: '127.0.0.1', port: 3 }]);
    mock.deregister('contact-service');
    await expect(mock.resolve('contact-service')).rejects.toMatchObject({ code: 'DISCOVERY_UNKNOWN_SERVICE' });
  });

  it('rejects an address that does not parse, and a registration without one', () => {
    expect(() => new MockDiscovery().register('contact-service', '127.0.0.1')).toThrow(/host:port/);
    expect(() => new MockDiscovery().register('contact-service')).toThrow(/at least one address/);
  });
});
