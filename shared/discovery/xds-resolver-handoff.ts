import type { experimental } from '@grpc/grpc-js';
import { destroyReleasingXdsClient } from './xds-client-release.js';

/**
 * 1 s: a `MeshChannel` replaces its channel (SVID rotation, idle recycling) by closing the old one
 * and opening the new one for the call about to run, so the next resolver of the service follows
 * within milliseconds. Held no longer than that, a closed runtime still lets the process end a
 * second later.
 */
export const XDS_HANDOFF_DEFAULTS = { holdMs: 1_000 };

/**
 * Keeps the `xds:` resolver of a closed channel watching its resources for `holdMs` before
 * destroying it (from a timer, see below), so that the service's next channel finds grpc-js-xds's
 * watches in place.
 *
 * Destroying it at once would drop grpc-js-xds's last watchers on every channel replacement: its
 * cache goes with them (the new channel waits for four round trips to the control plane instead of
 * resolving at once), and its ADS stream is ended and restarted, which in grpc-js-xds 1.14 leaks
 * a stream each time (see `xds-client-release.ts`). Held, the watches overlap: the new channel
 * resolves from the cache and the stream stays up.
 *
 * Destroyed from its own timer, never from inside another resolver's callback: grpc-js-xds's
 * resolver handles an update in an async function that dereferences its state after an `await`,
 * so destroying it while another resolver handles the same update (they share the watch) throws
 * an unhandled rejection out of grpc-js-xds, which ends a Lambda's process.
 */
export function parkXdsResolver(resolver: experimental.Resolver, holdMs = XDS_HANDOFF_DEFAULTS.holdMs): void {
  // Unref'd: while the ADS stream is open it holds the process anyway; once it is not, nothing should.
  setTimeout(() => destroyReleasingXdsClient(resolver), holdMs).unref();
}
