import { Metadata, status, experimental, type ChannelOptions } from '@grpc/grpc-js';
import { MESH_SCHEME, registerMeshResolver, serviceNameOf } from './mesh-resolver.js';
import { parkXdsResolver } from './xds-resolver-handoff.js';

/** The URI scheme of xDS targets with a fallback: `xds-fallback:///contact-service`. */
export const XDS_FALLBACK_SCHEME = 'xds-fallback';
/** grpc-js-xds's scheme. */
export const XDS_SCHEME = 'xds';

/**
 * Channel option: how long a fresh channel waits for a first xDS resolution before it uses the
 * fallback (milliseconds, positive).
 */
export const XDS_RESOLUTION_BUDGET_OPTION = 'mesh.xds_resolution_budget_ms';

/**
 * 2 s: a cold xDS resolution is a connection to the control plane and four dependent round trips
 * (Listener → RouteConfiguration → Cluster → ClusterLoadAssignment), plus a token fetch for
 * `google_default` credentials; tens to hundreds of milliseconds when the control plane is up.
 * It is what a call on a fresh channel can lose to a silent control plane, so it stays a small
 * part of the default 10 s deadline. A control plane that refuses connections or answers with an
 * error triggers the fallback at once, without waiting.
 */
export const XDS_FALLBACK_DEFAULTS = { resolutionBudgetMs: 2_000 };

type Listener = experimental.ResolverListener;
type Mode = 'idle' | 'waiting' | 'xds' | 'fallback';

/**
 * Services whose last resolver fell back while xDS stayed silent: the next channel of such a
 * service starts on the fallback at once (still asking xDS), so an xDS outage does not cost every
 * recycled channel the whole budget.
 */
const xdsSilent = new Set<string>();

/**
 * grpc-js's resolver for `xds-fallback:///<service>`: xDS first, the mesh's own discovery when
 * xDS has nothing.
 *
 * It runs grpc-js-xds's `xds:///<service>` resolver and passes its resolutions through. Until
 * xDS produced a first one, nothing is reported (calls wait, within their deadlines); if the
 * budget ({@link XDS_RESOLUTION_BUDGET_OPTION}) runs out first, or xDS reports an error first (no
 * connection to the control plane, a resource that does not exist, a bootstrap it rejects), the
 * channel falls back to the `mesh:///<service>` resolver: the discovery sources after `xds` in
 * `discovery.order` (Cloud Map, DNS, the static address). Its failure is reported with the xDS
 * reason, so a call failing `UNAVAILABLE` says both why xDS and why the fallback failed.
 *
 * The xDS resolver keeps running during the fallback: its first resolution takes over the
 * channel (gRPC swaps the balancer once the new one is ready; calls in flight finish), and from
 * then on xDS owns the channel for good, its later errors included (grpc-js-xds keeps serving
 * resources it already has). A fallen-back channel therefore returns to xDS without waiting for
 * the channel to be recycled.
 *
 * When the channel closes (or is replaced), its xDS resolver is not destroyed but parked for a
 * moment, so the service's next channel finds grpc-js-xds's watches and cache in place
 * (`xds-resolver-handoff.ts`).
 */
export class XdsFallbackResolver implements experimental.Resolver {
  readonly #service: string;
  readonly #listener: Listener;
  readonly #channelOptions: ChannelOptions;
  readonly #budgetMs: number;
  #mode: Mode = 'idle';
  #generation = 0;
  #xds: experimental.Resolver | undefined;
  #mesh: experimental.Resolver | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Why xDS has no resolution: the budget ran out, or its latest error. */
  #xdsReason = '';

  constructor(target: experimental.GrpcUri, listener: Listener, channelOptions: ChannelOptions) {
    this.#service = serviceNameOf(target);
    this.#listener = listener;
    this.#channelOptions = channelOptions;
    const budget = channelOptions[XDS_RESOLUTION_BUDGET_OPTION];
    this.#budgetMs = typeof budget === 'number' && budget > 0 ? budget : XDS_FALLBACK_DEFAULTS.resolutionBudgetMs;
  }

  /** The service name, as for `mesh:` targets (the transport sets it as `:authority` anyway). */
  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return serviceNameOf(target);
  }

  updateResolution(): void {
    if (this.#mode === 'idle') this.#start();
    else if (this.#mode === 'fallback') this.#mesh?.updateResolution();
    else this.#xds?.updateResolution();
  }

  destroy(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // Kept watching for a moment for the service's next channel, destroyed later (see parkXdsResolver).
    if (this.#xds) parkXdsResolver(this.#xds);
    this.#mesh?.destroy();
    this.#xds = undefined;
    this.#mesh = undefined;
    this.#mode = 'idle';
    this.#xdsReason = '';
  }

  #start(): void {
    const generation = this.#generation;
    this.#mode = 'waiting';
    this.#xds = experimental.createResolver(
      { scheme: XDS_SCHEME, authority: '', path: this.#service },
      (endpoints, attributes, serviceConfig, note) => generation !== this.#generation || this.#onXds(endpoints, attributes, serviceConfig, note),
      this.#channelOptions,
    );
    this.#xds.updateResolution();
    if (xdsSilent.has(this.#service)) {
      this.#fallBack('xds was silent for the previous channel, and is asked again in the background');
      return;
    }
    this.#timer = setTimeout(() => this.#fallBack(`no xds resolution within ${this.#budgetMs} ms`), this.#budgetMs).unref();
  }

  #onXds(...[endpoints, attributes, serviceConfig, note]: Parameters<Listener>): boolean {
    const resolved = endpoints.ok && serviceConfig !== null && serviceConfig.ok;
    if (resolved && this.#mode !== 'xds') {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#mesh?.destroy();
      this.#mesh = undefined;
      this.#mode = 'xds';
      xdsSilent.delete(this.#service);
    }
    if (this.#mode === 'xds') return this.#listener(endpoints, attributes, serviceConfig, note);
    // An error before the first resolution: grpc-js-xds reports it as an error status, or as an
    // empty result whose note says why.
    const reason = endpoints.ok ? note : endpoints.error.details;
    if (this.#mode === 'waiting') this.#fallBack(`xds failed: ${reason}`);
    else this.#xdsReason = `xds failed: ${reason}`;
    return true;
  }

  #fallBack(reason: string): void {
    if (this.#mode !== 'waiting') return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#mode = 'fallback';
    this.#xdsReason = reason;
    xdsSilent.add(this.#service);
    registerMeshResolver();
    const generation = this.#generation;
    this.#mesh = experimental.createResolver(
      { scheme: MESH_SCHEME, authority: '', path: this.#service },
      (endpoints, attributes, serviceConfig, note) => generation !== this.#generation || this.#onMesh(endpoints, attributes, serviceConfig, note),
      this.#channelOptions,
    );
    this.#mesh.updateResolution();
  }

  #onMesh(...[endpoints, attributes, serviceConfig, note]: Parameters<Listener>): boolean {
    if (this.#mode !== 'fallback') return true;
    const why = `xds:///${this.#service} has no resolution (${this.#xdsReason}), falling back to mesh discovery`;
    if (endpoints.ok) return this.#listener(endpoints, attributes, serviceConfig, `${note}; ${why}`);
    const details = `${why}, which failed too: ${endpoints.error.details}`;
    const metadata = endpoints.error.metadata ?? new Metadata();
    const failure = experimental.statusOrFromError<experimental.Endpoint[]>({ code: status.UNAVAILABLE, details, metadata });
    return this.#listener(failure, attributes, serviceConfig, details);
  }
}

let registered = false;

/** Registers the `xds-fallback:` scheme with grpc-js (once; later calls do nothing). */
export function registerXdsFallbackResolver(): void {
  if (registered) return;
  experimental.registerResolver(XDS_FALLBACK_SCHEME, XdsFallbackResolver);
  registered = true;
}

/** Forgets which services' xDS was silent; for tests. */
export function clearXdsFallbackMemory(): void {
  xdsSilent.clear();
}
