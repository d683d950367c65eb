import type { Discovery } from './discovery.js';

/**
 * Which {@link Discovery} answers for which service, per container. gRPC constructs the `mesh:`
 * resolver itself and hands it only the target, so the resolver finds its discovery here: the one
 * registered for the service, else the default (normally `discoveryFromConfig(loadMeshConfig())`,
 * set once at init by the wiring).
 */
const byService = new Map<string, Discovery>();
let fallback: Discovery | undefined;

/** Makes `discovery` answer for `service`; returns a function that undoes exactly this registration. */
export function registerDiscovery(service: string, discovery: Discovery): () => void {
  byService.set(service, discovery);
  return function unregisterDiscovery() {
    if (byService.get(service) === discovery) byService.delete(service);
  };
}

/** Makes `discovery` answer for every service without its own; returns a function that undoes it. */
export function setDefaultDiscovery(discovery: Discovery): () => void {
  fallback = discovery;
  return function unsetDefaultDiscovery() {
    if (fallback === discovery) fallback = undefined;
  };
}

/** The discovery that answers for `service`, or `undefined` when none was registered. */
export function discoveryFor(service: string): Discovery | undefined {
  return byService.get(service) ?? fallback;
}

/** Forgets every registration; for tests. */
export function clearDiscoveryRegistry(): void {
  byService.clear();
  fallback = undefined;
}
