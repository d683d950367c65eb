import type { MeshCallError } from '../errors.js';
import { ContactServiceClient, type GetFamilyMembersResponse, type UserInfo } from '../proto/index.js';
import { deadlineExecutor, type AttemptInfo, type CallDescriptor, type CallExecutor } from './call-executor.js';
import type { MeshChannel } from './mesh-channel.js';
import { toMeshCallError } from './mesh-call-error.js';
import { unaryAttempt } from './unary-call.js';

/** A contact as the contact-service describes it. */
export interface Contact {
  id: string;
  name: string;
  email: string;
  familyId: string;
}

export interface ContactClientOptions {
  /** Runs every call; the resilience layer plugs in here. */
  executor: CallExecutor;
  /** The default executor's per-call deadline, when `executor` is not given. */
  timeoutSeconds: number;
}

export const CONTACT_CLIENT_DEFAULTS = { timeoutSeconds: 10 } satisfies Partial<ContactClientOptions>;

/** Per-call options. */
export interface ContactCallOptions {
  /** Cancels the call (every attempt) when it aborts. */
  signal?: AbortSignal;
}

// Both methods are read-only lookups: the contract marks them idempotent, safe to retry.
const GET_USER_INFO: CallDescriptor = { method: 'GetUserInfo', idempotent: true };
const GET_FAMILY_MEMBERS: CallDescriptor = { method: 'GetFamilyMembers', idempotent: true };

function withSignal(call: CallDescriptor, opts: ContactCallOptions): CallDescriptor {
  return opts.signal ? { ...call, signal: opts.signal } : call;
}

function toContact(user: UserInfo): Contact {
  return { id: user.id, name: user.name, email: user.email, familyId: user.familyId };
}

/**
 * The contact-service, typed: plain objects in and out, every call through the executor, and
 * failures as {@link MeshCallError} (`MESH_NOT_FOUND` for unknown ids).
 */
export class ContactClient {
  readonly #channel: MeshChannel;
  readonly #executor: CallExecutor;

  constructor(channel: MeshChannel, opts: Partial<ContactClientOptions> = {}) {
    this.#channel = channel;
    this.#executor = opts.executor ?? deadlineExecutor({ timeoutSeconds: opts.timeoutSeconds ?? CONTACT_CLIENT_DEFAULTS.timeoutSeconds });
  }

  /**
   * Looks up one user.
   *
   * @throws {MeshCallError} `MESH_NOT_FOUND` for an unknown id; otherwise per the gRPC status, or
   *   `MESH_SERVER_NOT_AUTHORIZED` when the server failed the SPIFFE check.
   */
  async getUserInfo(userId: string, opts: ContactCallOptions = {}): Promise<Contact> {
    const user = await this.#run(withSignal(GET_USER_INFO, opts), (client, info) =>
      unaryAttempt<UserInfo>((metadata, options, callback) => client.getUserInfo({ userId }, metadata, options, callback), info, opts.signal),
    );
    return toContact(user);
  }

  /**
   * Lists every member of a family, the purchaser included.
   *
   * @throws {MeshCallError} as {@link getUserInfo}.
   */
  async getFamilyMembers(familyId: string, opts: ContactCallOptions = {}): Promise<Contact[]> {
    const response = await this.#run(withSignal(GET_FAMILY_MEMBERS, opts), (client, info) =>
      unaryAttempt<GetFamilyMembersResponse>((metadata, options, callback) => client.getFamilyMembers({ familyId }, metadata, options, callback), info, opts.signal),
    );
    return response.members.map(toContact);
  }

  async #run<T>(
    call: CallDescriptor,
    attempt: (client: ContactServiceClient, info: AttemptInfo) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.#executor(call, (info) => this.#channel.use(ContactServiceClient, (client) => attempt(client, info)));
    } catch (error) {
      throw toMeshCallError(error, { service: this.#channel.service, method: call.method });
    }
  }
}
