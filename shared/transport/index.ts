// The mesh transport: mTLS gRPC channels authorised by SPIFFE ID. Re-exports only.
export { deadlineExecutor, DEADLINE_EXECUTOR_DEFAULTS, type AttemptInfo, type CallDescriptor, type CallExecutor, type DeadlineExecutorOptions } from './call-executor.js';
export { meshChannelCredentials, CLIENT_CREDENTIALS_DEFAULTS, type ClientCredentialsOptions, type MeshChannelCredentials, type ServerRejection } from './client-credentials.js';
export { ContactClient, CONTACT_CLIENT_DEFAULTS, type Contact, type ContactCallOptions, type ContactClientOptions } from './contact-client.js';
export { MeshHealthClient, HEALTH_CLIENT_DEFAULTS, type HealthCheckOptions, type HealthClientOptions, type ServingStatus } from './health-client.js';
export { isGrpcError, serverRejectionOf, toMeshCallError } from './mesh-call-error.js';
export { MeshChannel, MESH_CHANNEL_DEFAULTS, type ChannelIdentity, type ChannelLease, type ClientConstructor, type MeshChannelOptions } from './mesh-channel.js';
export { authorizePeer, presentedChain, type AuthorizedPeer } from './peer-chain.js';
export { meshServerCredentials, serverCredentialsFromPem, type ServerCredentialsPem } from './server-credentials.js';
export {
  SpiffeIdAuthorizer,
  SPIFFE_ID_AUTHORIZER_DEFAULTS,
  type AuthorizationDecision,
  type BundlesProvider,
  type ClientVerification,
  type PeerIdentity,
  type SpiffeIdAuthorizerOptions,
} from './spiffe-authorizer.js';
