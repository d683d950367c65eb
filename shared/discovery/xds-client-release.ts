import { createRequire } from 'node:module';
import type { experimental } from '@grpc/grpc-js';

/*
 * What grpc-js-xds 1.14 leaves behind when its last watcher goes (measured with the local control
 * plane, test/local/xds-control-plane.ts, and a child process that closes everything):
 *
 * - its ADS stream is only half-closed (`call.end()`). While the control plane is unreachable the
 *   stream is still queued on the xDS client's own channel (`waitForReady`), whose call-ref
 *   interval then holds the event loop until the control plane comes back: the process never ends;
 * - the 15 s "resource does not exist" timers of resources it never received (a control plane that
 *   accepts the stream but does not answer) are dropped from its maps but not cleared: the process
 *   lingers 15 s;
 * - an LRS stream, when a cluster asks for load reports, is never ended at all.
 *
 * The client exposes no way to release these (no close, no unref), so this reaches into its
 * internals, guarded by shape checks: when the shapes do not match (another grpc-js-xds version),
 * it does nothing more than destroy the resolver, and the exit test fails on the upgrade.
 */

interface ResourceTimer {
  maybeCancelTimer(): void;
}
interface StreamState {
  call: { cancel(): void };
}
interface AdsCallState extends StreamState {
  typeStates: Map<unknown, { subscribedResources: Map<string, Map<string, ResourceTimer>> }>;
}
interface LrsCallState extends StreamState {
  destroy(): unknown;
}
interface ServerClient {
  refcount: number;
  adsCallState: AdsCallState | null;
  lrsCallState: LrsCallState | null;
}

/** grpc-js-xds's process-wide XdsClient, the one every `xds:` resolver without a test-only bootstrap uses. */
function singletonServerClients(): ServerClient[] {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@grpc/grpc-js-xds/build/src/xds-client');
    // Not loaded yet: no xDS client exists, and loading one (~1 s of protos) to find that out is waste.
    if (!(path in require.cache)) return [];
    const module = require(path) as { getSingletonXdsClient?: () => unknown };
    const clients = (module.getSingletonXdsClient?.() as { clients?: unknown } | undefined)?.clients;
    if (!Array.isArray(clients)) return [];
    return clients.map((entry: { client?: unknown }) => entry.client).filter(isServerClient);
  } catch {
    return [];
  }
}

function isServerClient(value: unknown): value is ServerClient {
  const client = value as Partial<ServerClient> | null;
  return typeof client === 'object' && client !== null && typeof client.refcount === 'number' && 'adsCallState' in client && 'lrsCallState' in client;
}

function resourceTimersOf(state: AdsCallState | null): ResourceTimer[] {
  if (!state || !(state.typeStates instanceof Map)) return [];
  return [...state.typeStates.values()].flatMap((typeState) => [...typeState.subscribedResources.values()].flatMap((timers) => [...timers.values()]));
}

/**
 * Destroys a grpc-js-xds resolver and, when that leaves a control plane with no watcher at all,
 * releases what grpc-js-xds would leave holding the process (see above): cancels the ADS (and
 * LRS) stream instead of leaving it half-closed, and clears its pending resource timers. A later
 * watch starts a fresh stream on the same xDS channel, as after any stream end.
 *
 * Cancelling rather than waiting for the control plane to finish the half-closed stream also
 * closes a race in grpc-js-xds: the end of an old stream resets the client's *current* stream
 * state, so a watch started before the old stream's status arrives gets a stream that is never
 * ended (one leaked stream per such restart). The cancelled stream's status is delivered locally,
 * before any later watch can start.
 */
export function destroyReleasingXdsClient(resolver: experimental.Resolver): void {
  const before = singletonServerClients().map((client) => ({
    client,
    ads: client.adsCallState,
    timers: resourceTimersOf(client.adsCallState),
    lrs: client.lrsCallState,
  }));
  resolver.destroy();
  for (const { client, ads, timers, lrs } of before) {
    if (client.refcount > 0) continue; // other watchers still use this control plane's streams
    for (const timer of timers) timer.maybeCancelTimer();
    ads?.call.cancel();
    if (lrs) {
      lrs.call.cancel();
      lrs.destroy();
    }
  }
}
