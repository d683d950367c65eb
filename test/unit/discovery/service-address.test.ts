import { describe, expect, it } from 'vitest';
import { isDiscoveryError } from '../../../shared/discovery/discovery-error.js';
import { formatServiceAddress, parseServiceAddress, portOf, sameAddresses, uniqueAddresses } from '../../../shared/discovery/service-address.js';

describe('parseServiceAddress', () => {
  it.each([
    ['127.0.0.1:50051', { host: '127.0.0.1', port: 50051 }],
    ['contact-service.mesh.local:443', { host: 'contact-service.mesh.local', port: 443 }],
    ['[::1]:7000', { host: '::1', port: 7000 }],
  ])('parses %s', (text, expected) => {
    expect(parseServiceAddress(text)).toEqual(expected);
  });

  it.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:7000', '[nope]:1', ':50051', ''])('rejects %j', (text) => {
    let error: unknown;
    try {
      parseServiceAddress(text, 'contact-service');
    } catch (e) {
      error = e;
    }
    expect(isDiscoveryError(error, 'DISCOVERY_BAD_ADDRESS')).toBe(true);
    expect((error as Error).message).toContain(JSON.stringify(text));
  });
});

describe('formatServiceAddress', () => {
  it('brackets IPv6 hosts so the port stays readable', () => {
    expect(formatServiceAddress({ host: '::1', port: 7000 })).toBe('[::1]:7000');
    expect(formatServiceAddress({ host: '10.0.0.1', port: 7000 })).toBe('10.0.0.1:7000');
  });
});

describe('address lists', () => {
  it('drops repeats and compares as sets', () => {
    const a = { host: '10.0.0.1', port: 1 };
    const b = { host: '10.0.0.2', port: 1 };
    expect(uniqueAddresses([a, b, { ...a }])).toEqual([a, b]);
    expect(sameAddresses([a, b], [b, a])).toBe(true);
    expect(sameAddresses([a], [a, b])).toBe(false);
  });

  it('reads ports only when they are 1..65535', () => {
    expect(portOf('50051')).toBe(50051);
    expect(portOf(' 80 ')).toBe(80);
    expect(portOf('0')).toBeUndefined();
    expect(portOf('70000')).toBeUndefined();
    expect(portOf('http')).toBeUndefined();
    expect(portOf(undefined)).toBeUndefined();
  });
});
