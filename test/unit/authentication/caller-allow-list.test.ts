import { describe, expect, it } from 'vitest';
import { callerAllowList } from '../../../shared/authentication/caller-allow-list.js';
import { parseSpiffeId } from '../../../shared/spiffe/spiffe-id.js';

const admits = (entries: string[], id: string) => {
  try {
    callerAllowList(entries)(parseSpiffeId(id));
    return true;
  } catch (error) {
    expect(error).toMatchObject({ code: 'SPIFFE_ID_NOT_ALLOWED' });
    return false;
  }
};

describe('callerAllowList', () => {
  const mesh = ['spiffe://jia.app/contact-service', 'spiffe://jia.app/family-service', 'spiffe://jia.app/document-service'];

  it('admits exactly the listed workloads, as the mesh servers\' allow-list does', () => {
    expect(admits(mesh, 'spiffe://jia.app/family-service')).toBe(true);
    expect(admits(mesh, 'spiffe://jia.app/family-service/admin')).toBe(false);
    expect(admits(mesh, 'spiffe://other.app/family-service')).toBe(false);
  });

  it('admits every member of a listed trust domain, mixed with single IDs', () => {
    const entries = ['spiffe://jia.app/family-service', 'spiffe://partner.example'];

    expect(admits(entries, 'spiffe://partner.example/any/workload')).toBe(true);
    expect(admits(entries, 'spiffe://jia.app/family-service')).toBe(true);
    expect(admits(entries, 'spiffe://jia.app/other')).toBe(false);
  });

  it('never admits a trust domain\'s own ID, even when its whole trust domain is allowed', () => {
    expect(admits(['spiffe://jia.app'], 'spiffe://jia.app')).toBe(false);
  });

  it.each([[[]], [['*']], [['spiffe://jia.app/x/']]])('refuses to build from %j', (entries) => {
    expect(() => callerAllowList(entries)).toThrow();
  });
});
