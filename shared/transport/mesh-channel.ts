import { Channel, status, type ChannelCredentials, type ChannelOptions, type Client } from '@grpc/grpc-js';
import { MeshCallError } from '../errors.js';
import type { IdentitySource } from '../identity/identity-source.js';
import type { SvidMaterial } from '../identity/svid-material.js';
import type { Matcher } from '../spiffe/match.js';
import { meshChannelCredentials, type MeshChannelCredentials, type ServerRejection } from './client-credentials.js';
import { isGrpcError, noteServerRejection } from './mesh-call-error.js';

/** The parts of an {@link IdentitySource} a channel uses. */
export type ChannelIdentity = Pick<IdentitySource, 'current' | 'subscribe'>;

/** A generated grpc-js client class (`ContactServiceClient`, `HealthClient`, …). */
export type ClientConstructor<C extends Client> = new (
  address: string,
  credentials: ChannelCredentials,
  options?: Record<string, unknown>,
) => C;

export interface MeshChannelOptions {
  /** The mesh service's name, e.g. `contact-service`: the TLS name and `:authority` sent. */
  service: string;
  /** A grpc target: `dns:host:port`, `ipv4:127.0.0.1:50051`, `host:port`, … */
  target: string;
  identity: ChannelIdentity;
  /** Decides whether the server's SPIFFE ID is the one we meant to call. */
  authorize: Matcher;
  /** Extra grpc-js channel options; they win over the channel's own. */
  channelOptions: ChannelOptions;
  /**
   * A channel unused for longer than this (wall time, measured at the next use) is replaced by a
   * fresh one before the call, so a connection that died silently while the Lambda was frozen
   * cannot swallow the call's deadline. 0 recycles before every call that finds it idle.
   */
  maxIdleMs: number;
  /** Epoch milliseconds. */
  now: () => number;
}

/*
 * Why recycle on idle. Measured by test/integration/transport/measure-stale-connections.ts
 * (loopback mTLS through test/local/tcp-proxy.ts, grpc-js 1.14, Node 24, 2 cores): one warm call,
 * then the proxy blackholes the connection (no FIN, no RST), the process is frozen for 3 s (event
 * loop blocked, as a Lambda between invocations: no timer runs), then two GetUserInfo calls with
 * a 2 s deadline each:
 *
 * | channel                                        | 1st call after thaw         | 2nd call               |
 * | ---------------------------------------------- | --------------------------- | ---------------------- |
 * | defaults                                       | DEADLINE_EXCEEDED, 2005 ms  | DEADLINE_EXCEEDED      |
 * | keepalive_time 10 s / timeout 5 s (12 s freeze)| DEADLINE_EXCEEDED, 2014 ms  | DEADLINE_EXCEEDED      |
 * | keepalive_time 1 s / timeout 0.5 s             | UNAVAILABLE, 507 ms         | ok, 16 ms (reconnect)  |
 * | client_idle_timeout_ms 1 s                     | DEADLINE_EXCEEDED, 2003 ms  | DEADLINE_EXCEEDED      |
 * | recycle when idle > 1 s (maxIdleMs)            | ok, 12 ms (new connection)  | ok, 3 ms               |
 *
 * Without recycling, the dead connection takes every call (on a real network, until TCP gives up
 * retransmitting, ~15 min on Linux). The idle timer is as overdue as the call after a thaw and
 * loses the race. Keepalive only rescues the call when its timeout is shorter than the deadline,
 * and even then the call already written to the dead connection fails (UNAVAILABLE, not
 * transparently retried; a retry of the idempotent call then succeeds at keepalive timeout + one
 * handshake). Pings that frequent also earn GOAWAY `too_many_pings` from Go servers with
 * grpc-go's default enforcement (one per 5 min, none without calls). Only a process left running,
 * with `keepalive_permit_without_calls`, finds the drop before the call; a frozen one cannot. A
 * peer that reset the connection during the freeze is harmless in every configuration: grpc-js
 * sees the reset and reconnects before writing the call.
 *
 * Recycling needs no timer, so it works across freezes, and costs one handshake after an idle
 * period: a call on a fresh channel measured 10.9 ms against 1.5 ms warm. The default of 5 s keeps
 * that cost off functions invoked back to back; a connection dropped during a shorter freeze is
 * still used, and its call fails at its deadline (the retry layer's case). Keepalive stays
 * available through `channelOptions` for long idles within an invocation, against servers that
 * permit it.
 */
export const MESH_CHANNEL_DEFAULTS: Omit<MeshChannelOptions, 'service' | 'target' | 'identity' | 'authorize'> = {
  channelOptions: {},
  maxIdleMs: 5_000,
  now: Date.now,
};

/** One channel and what was built for it; replaced on rotation and after idling. */
interface Generation {
  readonly number: number;
  readonly channel: Channel;
  readonly credentials: MeshChannelCredentials;
  readonly clients: Map<ClientConstructor<Client>, Client>;
  inFlight: number;
  lastUsedAt: number;
  retired: boolean;
}

/** What a call running on a {@link MeshChannel} can ask about the channel it got. */
export interface ChannelLease {
  /** Which channel (1, 2, …) the call runs on; a new one follows each rotation and idle recycle. */
  readonly generation: number;
  /** The refusal of the server's identity on this channel's latest connection attempt. */
  lastRejection(): ServerRejection | undefined;
}

/**
 * One gRPC channel to one mesh service, reused across warm invocations, with mTLS from an
 * identity source and the server authorised by SPIFFE ID.
 *
 * Calls borrow the current channel for their duration ({@link use}). When the SVID rotates, the
 * next call gets a new channel with new credentials (grpc-js gives a new client certificate only
 * to new connections), while calls in flight finish on the old one, which is closed once they
 * have. A channel idle for longer than `maxIdleMs` is likewise replaced before use.
 */
export class MeshChannel {
  readonly service: string;
  readonly #options: MeshChannelOptions;
  readonly #unsubscribe: () => void;
  readonly #draining = new Set<Generation>();
  #current: Generation | undefined;
  #generations = 0;
  #closed = false;

  constructor(opts: Partial<MeshChannelOptions> & Pick<MeshChannelOptions, 'service' | 'target' | 'identity' | 'authorize'>) {
    this.#options = { ...MESH_CHANNEL_DEFAULTS, ...opts };
    this.service = this.#options.service;
    this.#unsubscribe = this.#options.identity.subscribe(() => this.#retireCurrent());
  }

  /** How many channels were built so far. */
  get generation(): number {
    return this.#generations;
  }

  /** Channels still open: the current one plus old ones waiting for their calls to finish. */
  get openChannels(): number {
    return this.#draining.size + (this.#current ? 1 : 0);
  }

  /**
   * Runs `call` with a client of type `Client` on the current channel, which stays open until
   * `call` settles. A raw `UNAVAILABLE` caused by refusing the server's identity is noted for
   * `toMeshCallError` (see `serverRejectionOf`) and rethrown unchanged.
   *
   * @throws {IdentityError} when the SVID cannot be loaded.
   * @throws {MeshCallError} `MESH_UNAVAILABLE` once the channel is closed.
   */
  async use<C extends Client, T>(Client: ClientConstructor<C>, call: (client: C, lease: ChannelLease) => Promise<T>): Promise<T> {
    const material = await this.#options.identity.current();
    const generation = this.#acquire(material);
    const startedAt = this.#options.now();
    generation.inFlight++;
    try {
      return await call(this.#client(generation, Client), {
        generation: generation.number,
        lastRejection: () => generation.credentials.lastRejection(),
      });
    } catch (error) {
      if (isGrpcError(error) && error.code === status.UNAVAILABLE) {
        // Refused during this call; or earlier, and grpc-js failed the call at once on that same
        // error while backing off (its details quote the last connection error).
        const rejection = generation.credentials.lastRejection();
        if (rejection && (rejection.at >= startedAt || error.details.includes(rejection.connectionError))) {
          noteServerRejection(error, rejection);
        }
      }
      throw error;
    } finally {
      generation.inFlight--;
      generation.lastUsedAt = this.#options.now();
      if (generation.retired && generation.inFlight === 0) this.#closeGeneration(generation);
    }
  }

  /**
   * Closes every channel: idle ones now, ones with calls in flight as soon as those settle (their
   * deadlines bound that). Later calls fail; nothing is left holding the process open.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#retireCurrent();
  }

  /** The channel for a call starting now: the current one, unless rotation or idling replaced it. */
  #acquire(material: SvidMaterial): Generation {
    if (this.#closed) {
      throw new MeshCallError('MESH_UNAVAILABLE', `the mesh channel to ${this.service} is closed`, {
        service: this.service,
        method: '',
      });
    }
    const current = this.#current;
    const now = this.#options.now();
    if (current) {
      const rotated = current.credentials.material !== material;
      const idle = current.inFlight === 0 && now - current.lastUsedAt > this.#options.maxIdleMs;
      if (!rotated && !idle) return current;
      this.#retireCurrent();
    }
    const generation = this.#open(material, now);
    this.#current = generation;
    return generation;
  }

  #open(material: SvidMaterial, now: number): Generation {
    const credentials = meshChannelCredentials(material, this.#options.authorize, { service: this.service, now: this.#options.now });
    const channel = new Channel(this.#options.target, credentials.credentials, {
      // SVIDs carry no DNS name and dialling an IP as the TLS name is deprecated (DEP0123): the
      // service name is the TLS server name and :authority; the SPIFFE check replaces hostnames.
      'grpc.default_authority': this.service,
      'grpc.ssl_target_name_override': this.service,
      // Own subchannels: otherwise grpc-js's global pool could hand a new channel the old
      // channel's (possibly dead) connection.
      'grpc.use_local_subchannel_pool': 1,
      ...this.#options.channelOptions,
    });
    return {
      number: ++this.#generations,
      channel,
      credentials,
      clients: new Map(),
      inFlight: 0,
      lastUsedAt: now,
      retired: false,
    };
  }

  #client<C extends Client>(generation: Generation, Client: ClientConstructor<C>): C {
    let client = generation.clients.get(Client);
    if (!client) {
      client = new Client(this.#options.target, generation.credentials.credentials, { channelOverride: generation.channel });
      generation.clients.set(Client, client);
    }
    return client as C;
  }

  #retireCurrent(): void {
    const current = this.#current;
    if (!current) return;
    this.#current = undefined;
    current.retired = true;
    if (current.inFlight === 0) this.#closeGeneration(current);
    else this.#draining.add(current);
  }

  #closeGeneration(generation: Generation): void {
    this.#draining.delete(generation);
    generation.channel.close();
  }
}
