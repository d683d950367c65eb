/**
 * The reference contact-service: the contact-service contract over mTLS with a dev-CA SVID,
 * authorising clients by SPIFFE ID like the mesh's Go servers, plus `grpc.health.v1.Health` and
 * switchable faults for tests and the local mesh.
 *
 * Connections are accepted by a plain `net.Server` and handed to grpc-js through its connection
 * injector, so the service can stop listening and start again on the same port, and can drop
 * every open connection, without rebuilding the gRPC server.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import {
  Server,
  status,
  type ConnectionInjector,
  type ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { svidMaterialFromParts, type SvidMaterial } from '../../shared/identity/svid-material.js';
import {
  ContactServiceService,
  HealthCheckResponse_ServingStatus,
  HealthService,
  type ContactServiceServer,
  type GetFamilyMembersRequest,
  type GetFamilyMembersResponse,
  type GetUserInfoRequest,
  type HealthServer,
  type UserInfo,
} from '../../shared/proto/index.js';
import { parseTrustDomain } from '../../shared/spiffe/trust-domain.js';
import { X509Bundle, X509BundleSet } from '../../shared/spiffe/x509-bundle.js';
import { meshServerCredentials, serverCredentialsFromPem } from '../../shared/transport/server-credentials.js';
import { SpiffeIdAuthorizer } from '../../shared/transport/spiffe-authorizer.js';
import { FaultInjector, type ContactServiceFault } from './contact-service-faults.js';
import type { MintedSvid } from './dev-ca.js';
import { familiesOf, USERS } from './fixtures.js';

export const CONTACT_SERVICE_NAME = 'jia.contact.v1.ContactService';

export type { ContactServiceFault };

export interface ContactServiceOptions {
  /** The service's own SVID, e.g. `ca.mintSvid('spiffe://jia.app/contact-service')`. */
  svid: MintedSvid;
  /** PEM roots of the service's own trust domain (clients are verified against it). */
  bundlePem: string;
  /** The trust domain of `bundlePem`. */
  trustDomain: string;
  /** Federated bundles by trust domain (`other.app` or `spiffe://other.app`). */
  federatedBundles: Record<string, string>;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Client SPIFFE IDs admitted; others get `PERMISSION_DENIED`. */
  allowedSpiffeIds: string[];
  /** Added to every contact-service answer. */
  extraLatencyMs: number;
  /** The users it knows, by id; families are their `familyId`s. Default: the fixtures' (`fixtures.ts`). */
  users: ReadonlyMap<string, UserInfo>;
  /**
   * Serve `svid` even when it is not a valid X.509-SVID (expired, two URI SANs, a CA leaf…), to
   * test that clients refuse such servers. Otherwise an invalid SVID fails the start.
   */
  allowInvalidSvid: boolean;
}

export const CONTACT_SERVICE_DEFAULTS = {
  trustDomain: 'jia.app',
  federatedBundles: {},
  port: 0,
  host: '127.0.0.1',
  allowedSpiffeIds: ['spiffe://jia.app/payment-functions'],
  extraLatencyMs: 0,
  users: USERS,
  allowInvalidSvid: false,
} satisfies Omit<ContactServiceOptions, 'svid' | 'bundlePem'>;

export interface ContactServiceHandle {
  readonly port: number;
  /** `host:port`, e.g. `127.0.0.1:50051`. */
  readonly address: string;
  /** Contact-service calls that reached a handler (health checks not counted). */
  readonly callCount: number;
  /** Serial numbers (lowercase hex) of the client certificates seen by handlers, in first-seen order. */
  readonly seenClientSerials: readonly string[];
  /** SPIFFE IDs of the clients seen by handlers, in first-seen order. */
  readonly seenClientIds: readonly string[];
  /** Open client connections. */
  readonly connectionCount: number;
  /** Contact-service calls being served right now (from reaching a handler until answered or cancelled). */
  readonly inFlight: number;
  /** The most {@link inFlight} reached since the start or the last {@link resetMaxInFlight}. */
  readonly maxInFlight: number;
  resetMaxInFlight(): void;
  readonly authorizer: SpiffeIdAuthorizer;
  setFault(fault: ContactServiceFault): void;
  /** What `grpc.health.v1.Health/Check` answers for the service and for `''`. */
  setServingStatus(serving: boolean): void;
  /** Stops listening and drops every connection; calls then fail to connect. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Releases everything; the handle cannot start again. */
  close(): Promise<void>;
}

function bundlesFrom(options: ContactServiceOptions): X509BundleSet {
  const own = X509Bundle.parse(parseTrustDomain(options.trustDomain), options.bundlePem);
  const federated = Object.entries(options.federatedBundles).map(([td, pem]) => X509Bundle.parse(parseTrustDomain(td), pem));
  return new X509BundleSet([own, ...federated]);
}

/** The reference service's credentials: the mesh's own, unless an invalid SVID is served on purpose. */
function credentialsFor(options: ContactServiceOptions, bundles: X509BundleSet): ServerCredentials {
  let material: SvidMaterial;
  try {
    material = svidMaterialFromParts(
      {
        certChainPem: options.svid.certChainPem,
        privateKeyPem: options.svid.privateKeyPem,
        bundlePem: options.bundlePem,
        federatedBundles: options.federatedBundles,
      },
      'the reference contact-service',
    );
  } catch (error) {
    if (!options.allowInvalidSvid) throw error;
    return serverCredentialsFromPem({ rootsPem: bundles.authoritiesPem(), ...options.svid });
  }
  return meshServerCredentials(material);
}

/**
 * Starts the reference contact-service on loopback over mTLS.
 *
 * @throws {IdentityError} when `svid` is not a valid X.509-SVID and `allowInvalidSvid` is not set.
 */
export async function startContactService(
  opts: Partial<ContactServiceOptions> & Pick<ContactServiceOptions, 'svid' | 'bundlePem'>,
): Promise<ContactServiceHandle> {
  const options: ContactServiceOptions = { ...CONTACT_SERVICE_DEFAULTS, ...opts };
  const bundles = bundlesFrom(options);
  const authorizer = new SpiffeIdAuthorizer(bundles);
  for (const id of options.allowedSpiffeIds) authorizer.addAllowedSpiffeId(id);

  const faults = new FaultInjector(options.extraLatencyMs);
  const families = familiesOf(options.users);
  let serving = true;
  let callCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const seenSerials = new Set<string>();
  const seenIds = new Set<string>();
  const sockets = new Set<Socket>();

  /** Runs one contact-service call through the faults, then answers `answer()`. */
  async function serve<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>, answer: () => Res | undefined, what: string) {
    callCount++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const peer = authorizer.peerIdentity(call);
      seenSerials.add(peer.serialNumber);
      seenIds.add(peer.spiffeId.toString());
      const cancelled = new AbortController();
      call.once('cancelled', () => cancelled.abort());
      const outcome = await faults.beforeAnswer(cancelled.signal);
      if (outcome.kind === 'cancelled') return;
      if (outcome.kind === 'status') return callback(outcome.status);
      const response = answer();
      if (response === undefined) callback({ code: status.NOT_FOUND, details: `${what} not found` });
      else callback(null, response);
    } finally {
      inFlight--;
    }
  }

  const contact: ContactServiceServer = {
    getUserInfo(call: ServerUnaryCall<GetUserInfoRequest, UserInfo>, callback: sendUnaryData<UserInfo>) {
      void serve(call, callback, () => options.users.get(call.request.userId), `user ${JSON.stringify(call.request.userId)}`);
    },
    getFamilyMembers(
      call: ServerUnaryCall<GetFamilyMembersRequest, GetFamilyMembersResponse>,
      callback: sendUnaryData<GetFamilyMembersResponse>,
    ) {
      void serve(
        call,
        callback,
        () => {
          const members = families.get(call.request.familyId);
          return members && { members: [...members] };
        },
        `family ${JSON.stringify(call.request.familyId)}`,
      );
    },
  };

  const health: HealthServer = {
    check(call, callback) {
      const service = call.request.service;
      if (service !== '' && service !== CONTACT_SERVICE_NAME) {
        callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(service)}` });
        return;
      }
      callback(null, {
        status: serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING,
      });
    },
    watch(call) {
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'grpc.health.v1.Health/Watch is not implemented' });
    },
  };

  const server = new Server({ interceptors: [authorizer.interceptor(), faults.interceptor()] });
  server.addService(ContactServiceService, contact);
  server.addService(HealthService, health);
  const injector: ConnectionInjector = server.createConnectionInjector(credentialsFor(options, bundles));

  let listener: NetServer | undefined;
  let port = options.port;
  let closed = false;

  function dropConnections(): void {
    faults.dropConnections();
    for (const socket of sockets) socket.destroy();
  }

  async function start(): Promise<void> {
    if (closed) throw new Error('the contact-service was closed');
    if (listener) return;
    // noDelay as grpc-js's own listeners set it; injected sockets get no such treatment.
    const net = createServer({ noDelay: true }, (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      injector.injectConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(port, options.host, () => {
        net.off('error', reject);
        resolve();
      });
    });
    port = (net.address() as { port: number }).port;
    listener = net;
  }

  async function stop(): Promise<void> {
    const net = listener;
    listener = undefined;
    if (!net) return;
    const closedListener = new Promise<void>((resolve) => net.close(() => resolve()));
    dropConnections();
    await closedListener;
  }

  await start();

  return {
    get port() {
      return port;
    },
    get address() {
      return `${options.host}:${port}`;
    },
    get callCount() {
      return callCount;
    },
    get seenClientSerials() {
      return [...seenSerials];
    },
    get seenClientIds() {
      return [...seenIds];
    },
    get connectionCount() {
      return sockets.size;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
    authorizer,
    setFault(fault) {
      faults.set(fault);
    },
    setServingStatus(value) {
      serving = value;
    },
    stop,
    start,
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      injector.destroy();
      server.forceShutdown();
    },
  };
}
