/**
 * The benchmark's reference: a hand-written @grpc/grpc-js client of the contact-service with mTLS
 * and the same generated messages, and nothing else: no identity source, discovery, policy,
 * metrics or logs. What a team would write without the mesh layer; the figures are ratios to it.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ContactServiceClient, type UserInfo } from '../../shared/proto/index.js';

/** The PEMs the bare client presents and trusts: the ones the function's SVID is made of. */
export interface BareClientCredentials {
  rootsPem: Buffer;
  keyPem: Buffer;
  certChainPem: Buffer;
}

export interface BareClient {
  getUserInfo(userId: string): Promise<UserInfo>;
  getFamilyMembers(familyId: string): Promise<UserInfo[]>;
  close(): void;
}

/** The deadline of every call, as the mesh's default service timeout. */
const DEADLINE_MS = 10_000;

/**
 * A ContactServiceClient to `address` over mTLS. SVIDs carry only a URI SAN, so the hostname check
 * is switched off (as any client without a SPIFFE library must) and the TLS name is the service's,
 * as the mesh channel sets it.
 */
export function bareContactClient(address: string, pems: BareClientCredentials): BareClient {
  const creds = credentials.createSsl(pems.rootsPem, pems.keyPem, pems.certChainPem, { checkServerIdentity: () => undefined });
  const client = new ContactServiceClient(address, creds, {
    'grpc.ssl_target_name_override': 'contact-service',
    'grpc.default_authority': 'contact-service',
  });
  const options = () => ({ deadline: Date.now() + DEADLINE_MS });
  return {
    getUserInfo(userId) {
      return new Promise<UserInfo>((resolve, reject) => {
        client.getUserInfo({ userId }, new Metadata(), options(), (error: ServiceError | null, user) => (error ? reject(error) : resolve(user)));
      });
    },
    getFamilyMembers(familyId) {
      return new Promise<UserInfo[]>((resolve, reject) => {
        client.getFamilyMembers({ familyId }, new Metadata(), options(), (error: ServiceError | null, response) =>
          error ? reject(error) : resolve(response.members),
        );
      });
    },
    close: () => client.close(),
  };
}

/** The PEMs in a spiffe-helper directory (`svid.pem`, `svid_key.pem`, `svid_bundle.pem`). */
export function bareCredentialsFrom(readFile: (name: string) => Buffer): BareClientCredentials {
  return { rootsPem: readFile('svid_bundle.pem'), keyPem: readFile('svid_key.pem'), certChainPem: readFile('svid.pem') };
}
