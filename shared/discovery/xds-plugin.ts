import { createRequire } from 'node:module';
import { experimental } from '@grpc/grpc-js';
import { DiscoveryError } from './discovery-error.js';

/** The part of `@grpc/grpc-js-xds` used here. */
interface XdsPlugin {
  register(): void;
}

let registered = false;

/**
 * Loads `@grpc/grpc-js-xds` and registers its `xds:` resolver and load-balancing policies with
 * grpc-js, once per process; later calls do nothing.
 *
 * Loaded on first need, not imported: the plugin parses the Envoy protos when it loads (~1.5 s
 * on a small machine), which functions that do not use xDS must not pay at cold start. It is
 * CommonJS and registers into the `@grpc/grpc-js` that *it* requires; this ES module imports the
 * same CommonJS `@grpc/grpc-js` (Node hands ESM importers of a CommonJS package its one
 * `module.exports`), so both see one registry as long as a single copy is installed. That is
 * checked, not assumed: with two copies (a bundle inlining grpc-js while the plugin is external),
 * channels would parse `xds:` targets as DNS names.
 *
 * @throws {DiscoveryError} `DISCOVERY_NOT_CONFIGURED` (naming `service`) when the plugin cannot
 *   be loaded, or registered into another copy of grpc-js than this layer's.
 */
export function registerXdsPlugin(service: string): void {
  if (registered) return;
  let plugin: XdsPlugin;
  try {
    plugin = createRequire(import.meta.url)('@grpc/grpc-js-xds') as XdsPlugin;
    plugin.register();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DiscoveryError('DISCOVERY_NOT_CONFIGURED', `xds discovery of ${service} needs @grpc/grpc-js-xds, which failed to load: ${reason}`, { service }, { cause });
  }
  if (!experimental.isLoadBalancerNameRegistered('xds_cluster_manager')) {
    throw new DiscoveryError(
      'DISCOVERY_NOT_CONFIGURED',
      `xds discovery of ${service} needs @grpc/grpc-js-xds and this layer to share one @grpc/grpc-js, but the plugin registered with another copy`,
      { service },
    );
  }
  registered = true;
}
