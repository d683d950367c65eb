import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiscoveryError } from '../../../shared/discovery/discovery-error.js';
import { DnsSource } from '../../../shared/discovery/dns-source.js';
import { LocalDnsServer } from '../../local/dns-server.js';
import { failureOf } from '../../fixtures/failure-of.js';

let dns: LocalDnsServer;
let source: DnsSource;
const CONTACT = { name: 'contact-service' };
const never = () => new AbortController().signal;

beforeAll(async () => {
  dns = await LocalDnsServer.start();
  source = new DnsSource({ namespace: 'mesh.local', servers: [dns.address], queryTimeoutMs: 300 });
});
afterAll(async () => {
  await dns.close();
});
beforeEach(() => {
  dns.reset();
});


describe('DnsSource against a real DNS server', () => {
  // What Cloud Map writes for a service with an SRV record (API reference, DnsRecord > Type > SRV):
  // `<service>.<namespace>` SRV `1 1 <AWS_INSTANCE_PORT> <instance-id>.<service>.<namespace>`, and
  // A/AAAA records named like that target from the instance's AWS_INSTANCE_IPV4/_IPV6.
  it("reads Cloud Map's SRV records at <name>.<namespace> and their <instance-id>.<name>.<namespace> targets", async () => {
    dns
      .setSrv('contact-service.mesh.local', [
        { target: 'contact-1.contact-service.mesh.local', port: 7001, priority: 1, weight: 1 },
        { target: 'contact-2.contact-service.mesh.local', port: 7002, priority: 1, weight: 1 },
      ])
      .setA('contact-1.contact-service.mesh.local', '10.0.1.11')
      .setAaaa('contact-2.contact-service.mesh.local', '::1');

    const addresses = await source.resolve(CONTACT, never());

    expect(addresses).toEqual([
      { host: '10.0.1.11', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(dns.queries).toContain('SRV contact-service.mesh.local');
  });

  // A service whose DnsConfig has A (and AAAA) records: one record per instance at <service>.<namespace>.
  it("reads Cloud Map's A and AAAA records at <name>.<namespace>, every instance, on the default port", async () => {
    dns.setA('contact-service.mesh.local', '10.0.1.11', '10.0.1.12').setAaaa('contact-service.mesh.local', '2001:db8::11');

    expect(await source.resolve(CONTACT, never())).toEqual([
      { host: '10.0.1.11', port: 50051 },
      { host: '10.0.1.12', port: 50051 },
      { host: '2001:db8::11', port: 50051 },
    ]);
  });

  it('asks for both SRV names and the A/AAAA records at once, in one round', async () => {
    dns.setA('contact-service.mesh.local', '10.0.1.11');

    await source.resolve(CONTACT, never());

    expect([...dns.queries].sort()).toEqual([
      'A contact-service.mesh.local',
      'AAAA contact-service.mesh.local',
      'SRV _grpc._tcp.contact-service.mesh.local',
      'SRV contact-service.mesh.local',
    ]);
  });

  it("prefers Cloud Map's SRV name to the _grpc._tcp one when a zone has both", async () => {
    dns
      .setSrv('contact-service.mesh.local', [{ target: 'contact-1.contact-service.mesh.local', port: 7001, priority: 1, weight: 1 }])
      .setSrv('_grpc._tcp.contact-service.mesh.local', [{ target: 'old.mesh.local', port: 7009 }])
      .setA('contact-1.contact-service.mesh.local', '10.0.1.11')
      .setA('old.mesh.local', '10.0.1.99');

    expect(await source.resolve(CONTACT, never())).toEqual([{ host: '10.0.1.11', port: 7001 }]);
  });

  it('uses SRV _grpc._tcp.<name>.<namespace>, resolving each target with its port', async () => {
    dns
      .setSrv('_grpc._tcp.contact-service.mesh.local', [
        { target: 'a.contact-service.mesh.local', port: 7001 },
        { target: 'b.contact-service.mesh.local', port: 7002 },
      ])
      .setA('a.contact-service.mesh.local', '127.0.0.11')
      .setAaaa('b.contact-service.mesh.local', '::1');

    const addresses = await source.resolve(CONTACT, never());

    expect(addresses).toEqual([
      { host: '127.0.0.11', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(dns.queries).toContain('SRV _grpc._tcp.contact-service.mesh.local');
  });

  it('uses only the SRV records of the lowest priority', async () => {
    dns
      .setSrv('_grpc._tcp.contact-service.mesh.local', [
        { target: 'backup.mesh.local', port: 7009, priority: 20 },
        { target: 'main.mesh.local', port: 7001, priority: 10 },
      ])
      .setA('main.mesh.local', '127.0.0.11')
      .setA('backup.mesh.local', '127.0.0.19');

    expect(await source.resolve(CONTACT, never())).toEqual([{ host: '127.0.0.11', port: 7001 }]);
  });

  it('falls back to A and AAAA <name>.<namespace> on 50051 without SRV records', async () => {
    dns.setA('contact-service.mesh.local', '127.0.0.21', '127.0.0.22').setAaaa('contact-service.mesh.local', '::1');

    expect(await source.resolve(CONTACT, never())).toEqual([
      { host: '127.0.0.21', port: 50051 },
      { host: '127.0.0.22', port: 50051 },
      { host: '::1', port: 50051 },
    ]);
  });

  it("takes the A records' port from the static address", async () => {
    dns.setA('contact-service.mesh.local', '127.0.0.21');

    expect(await source.resolve({ name: 'contact-service', address: { host: 'static', port: 8443 } }, never())).toEqual([
      { host: '127.0.0.21', port: 8443 },
    ]);
  });

  it('answers empty for a name DNS does not know', async () => {
    expect(await source.resolve({ name: 'nobody' }, never())).toEqual([]);
  });

  it('looks names up bare without a namespace', async () => {
    dns.setA('contact-service', '127.0.0.31');
    const bare = new DnsSource({ namespace: undefined, servers: [dns.address] });

    expect(await bare.resolve(CONTACT, never())).toEqual([{ host: '127.0.0.31', port: 50051 }]);
  });

  it('reports a server failure as DISCOVERY_SOURCE_FAILED', async () => {
    dns.mode = 'servfail';

    const error = await failureOf(source.resolve(CONTACT, never()), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_SOURCE_FAILED');
    expect(error.message).toContain('contact-service.mesh.local');
  });

  it('reports a server that does not answer as DISCOVERY_TIMEOUT', async () => {
    dns.mode = 'silent';

    expect((await failureOf(source.resolve(CONTACT, never()), DiscoveryError)).code).toBe('DISCOVERY_TIMEOUT');
  });

  it('stops when its signal aborts', async () => {
    dns.mode = 'silent';
    const slow = new DnsSource({ namespace: 'mesh.local', servers: [dns.address], queryTimeoutMs: 10_000 });
    const started = Date.now();

    const error = await failureOf(slow.resolve(CONTACT, AbortSignal.timeout(100)), DiscoveryError);

    expect(error.code).toBe('DISCOVERY_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
