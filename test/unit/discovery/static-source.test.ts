import { describe, expect, it } from 'vitest';
import { StaticSource } from '../../../shared/discovery/static-source.js';

describe('StaticSource', () => {
  it("answers the service's configured address", async () => {
    expect(await new StaticSource().resolve({ name: 'contact-service', address: { host: '127.0.0.1', port: 50051 } })).toEqual([
      { host: '127.0.0.1', port: 50051 },
    ]);
  });

  it('is not configured for a service without an address', async () => {
    await expect(new StaticSource().resolve({ name: 'contact-service' })).rejects.toMatchObject({
      code: 'DISCOVERY_NOT_CONFIGURED',
      message: 'service contact-service has no static address configured',
    });
  });
});
