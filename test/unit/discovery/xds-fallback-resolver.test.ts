import { experimental, status, type ServiceConfig } from '@grpc/grpc-js';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerMeshResolver } from '../../../shared/discovery/mesh-resolver.js';
import {
  XDS_FALLBACK_DEFAULTS,
  XDS_RESOLUTION_BUDGET_OPTION,
  XdsFallbackResolver,
  clearXdsFallbackMemory,
} from '../../../shared/discovery/xds-fallback-resolver.js';
import { XDS_HANDOFF_DEFAULTS } from '../../../shared/discovery/xds-resolver-handoff.js';

/**
 * The resolver state machine against scripted stand-ins for grpc-js-xds's `xds:` resolver and the
 * `mesh:` resolver, registered under their schemes in this process (grpc-js-xds is never loaded).
 */
type Listener = experimental.ResolverListener;

function scriptedResolverClass() {
  return class ScriptedResolver implements experimental.Resolver {
    static readonly instances: ScriptedResolver[] = [];
    updates = 0;
    destroyed = false;
    constructor(
      readonly target: experimental.GrpcUri,
      readonly listener: Listener,
      readonly options: Record<string, unknown>,
    ) {
      ScriptedResolver.instances.push(this);
    }
    static getDefaultAuthority(target: experimental.GrpcUri): string {
      return target.path;
    }
    updateResolution(): void {
      this.updates++;
    }
    destroy(): void {
      this.destroyed = true;
    }
  };
}
const FakeXds = scriptedResolverClass();
const FakeMesh = scriptedResolverClass();

const XDS_SERVICE_CONFIG: ServiceConfig = { loadBalancingConfig: [{ xds_cluster_manager: { children: {} } }], methodConfig: [] };
const MESH_SERVICE_CONFIG: ServiceConfig = { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };

/** What grpc-js-xds reports once it has the whole Listener → … → ClusterLoadAssignment chain. */
function xdsResolves(resolver: InstanceType<typeof FakeXds>): void {
  resolver.listener(experimental.statusOrFromValue([]), { 'grpc.internal.config_selector': {} }, experimental.statusOrFromValue(XDS_SERVICE_CONFIG), '');
}
/** What grpc-js-xds reports on an error before any resolution: an empty result and a note. */
function xdsFails(resolver: InstanceType<typeof FakeXds>, why = 'Listener contact-service: No connection established to xDS server'): void {
  resolver.listener(experimental.statusOrFromValue([]), {}, null, `Resolution error for target xds:///contact-service: ${why}`);
}
function meshResolves(resolver: InstanceType<typeof FakeMesh>): void {
  const endpoints = [{ addresses: [{ host: '127.0.0.1', port: 50051 }] }];
  resolver.listener(experimental.statusOrFromValue(endpoints), {}, experimental.statusOrFromValue(MESH_SERVICE_CONFIG), 'result of static discovery');
}

const target = { scheme: 'xds-fallback', authority: '', path: 'contact-service' };
const calls: Parameters<Listener>[] = [];
const listener: Listener = (...args) => {
  calls.push(args);
  return true;
};
const resolvers: XdsFallbackResolver[] = [];

function start(budgetMs?: number): XdsFallbackResolver {
  const resolver = new XdsFallbackResolver(target, listener, budgetMs === undefined ? {} : { [XDS_RESOLUTION_BUDGET_OPTION]: budgetMs });
  resolvers.push(resolver);
  resolver.updateResolution();
  return resolver;
}
const lastXds = () => FakeXds.instances.at(-1)!;
const lastMesh = () => FakeMesh.instances.at(-1)!;

beforeAll(() => {
  registerMeshResolver(); // so the resolver's own registration is a no-op and the stand-in stays
  experimental.registerResolver('mesh', FakeMesh);
  experimental.registerResolver('xds', FakeXds);
});

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  for (const resolver of resolvers.splice(0)) resolver.destroy();
  vi.runOnlyPendingTimers();
  vi.useRealTimers();
  calls.length = 0;
  FakeXds.instances.length = 0;
  FakeMesh.instances.length = 0;
  clearXdsFallbackMemory();
});

describe('XdsFallbackResolver', () => {
  it('asks xds:///<service> with the channel options and passes its first resolution through', () => {
    start(100);
    xdsResolves(lastXds());
    vi.advanceTimersByTime(1_000);

    expect(lastXds().target).toEqual({ scheme: 'xds', authority: '', path: 'contact-service' });
    expect(lastXds().options).toEqual({ [XDS_RESOLUTION_BUDGET_OPTION]: 100 });
    expect(calls).toHaveLength(1);
    expect(calls[0]![2]).toEqual(experimental.statusOrFromValue(XDS_SERVICE_CONFIG));
    expect(FakeMesh.instances).toHaveLength(0);
  });

  it('reports nothing until the budget runs out, then resolves through the mesh resolver', () => {
    start(100);
    vi.advanceTimersByTime(99);
    expect(calls).toHaveLength(0);
    expect(FakeMesh.instances).toHaveLength(0);

    vi.advanceTimersByTime(1);
    meshResolves(lastMesh());

    expect(lastMesh().target).toEqual({ scheme: 'mesh', authority: '', path: 'contact-service' });
    expect(lastMesh().updates).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toEqual(experimental.statusOrFromValue([{ addresses: [{ host: '127.0.0.1', port: 50051 }] }]));
    expect(calls[0]![3]).toBe(
      'result of static discovery; xds:///contact-service has no resolution (no xds resolution within 100 ms), falling back to mesh discovery',
    );
  });

  it(`waits ${XDS_FALLBACK_DEFAULTS.resolutionBudgetMs} ms by default`, () => {
    start();
    vi.advanceTimersByTime(XDS_FALLBACK_DEFAULTS.resolutionBudgetMs - 1);
    expect(FakeMesh.instances).toHaveLength(0);

    vi.advanceTimersByTime(1);

    expect(FakeMesh.instances).toHaveLength(1);
  });

  it('falls back at once when xDS reports an error before its first resolution', () => {
    start(10_000);

    xdsFails(lastXds());

    expect(FakeMesh.instances).toHaveLength(1);
    expect(calls).toHaveLength(0); // xDS's error is not reported: the fallback answers instead
    meshResolves(lastMesh());
    expect(calls[0]![3]).toContain('(xds failed: Resolution error for target xds:///contact-service: Listener contact-service: No connection');
  });

  it('fails UNAVAILABLE naming both xDS and the fallback when the fallback fails too', () => {
    start(100);
    vi.advanceTimersByTime(100);

    lastMesh().listener(
      experimental.statusOrFromError({ code: status.UNAVAILABLE, details: 'mesh discovery of contact-service failed: static: none' }),
      {},
      null,
      '',
    );

    const [endpoints] = calls[0]!;
    expect(endpoints.ok).toBe(false);
    expect(!endpoints.ok && endpoints.error.code).toBe(status.UNAVAILABLE);
    expect(!endpoints.ok && endpoints.error.details).toBe(
      'xds:///contact-service has no resolution (no xds resolution within 100 ms), falling back to mesh discovery, which failed too: ' +
        'mesh discovery of contact-service failed: static: none',
    );
  });

  it('keeps asking xDS during the fallback and hands the channel back to it for good', () => {
    const resolver = start(100);
    const xds = lastXds();
    vi.advanceTimersByTime(100);
    const mesh = lastMesh();
    meshResolves(mesh);

    xdsResolves(xds);
    meshResolves(mesh); // a late answer of the fallback
    xdsFails(xds, 'Listener contact-service: a later error');
    resolver.updateResolution();

    expect(calls.map(([, , serviceConfig]) => serviceConfig)).toEqual([
      experimental.statusOrFromValue(MESH_SERVICE_CONFIG),
      experimental.statusOrFromValue(XDS_SERVICE_CONFIG),
      null, // xDS owns the channel: its errors pass through, grpc-js-xds keeps cached resources
    ]);
    expect(mesh.destroyed).toBe(true);
    expect(xds.updates).toBe(2);
    expect(FakeMesh.instances).toHaveLength(1);
  });

  it('starts the next channel of a service whose xDS stayed silent on the fallback, still asking xDS', () => {
    const first = start(100);
    vi.advanceTimersByTime(100);
    first.destroy();

    start(100);

    expect(FakeMesh.instances).toHaveLength(2);
    expect(FakeXds.instances).toHaveLength(2);
    expect(lastXds().updates).toBe(1);

    xdsResolves(lastXds()); // xDS is back: the memory is cleared
    start(100);
    expect(FakeMesh.instances).toHaveLength(2);
  });

  it('parks its xDS resolver when destroyed, destroys it after the hand-off time, and reports nothing more', () => {
    const resolver = start(100);
    const xds = lastXds();
    xdsResolves(xds);

    resolver.destroy();
    xdsResolves(xds);
    vi.advanceTimersByTime(XDS_HANDOFF_DEFAULTS.holdMs - 1);
    expect(xds.destroyed).toBe(false);
    vi.advanceTimersByTime(1);

    expect(xds.destroyed).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('starts over after being destroyed: a channel leaving idle asks again', () => {
    const resolver = start(100);
    resolver.destroy();

    resolver.updateResolution();

    expect(FakeXds.instances).toHaveLength(2);
  });

  it('names the service as the default authority and rejects targets that are not xds-fallback:///<service>', () => {
    expect(XdsFallbackResolver.getDefaultAuthority(target)).toBe('contact-service');
    expect(() => new XdsFallbackResolver({ scheme: 'xds-fallback', authority: 'cp.example', path: 'contact-service' }, listener, {})).toThrow(
      expect.objectContaining({ code: 'DISCOVERY_BAD_ADDRESS' }),
    );
  });
});
