import { HealthCheckResponse_ServingStatus, HealthClient, type HealthCheckResponse } from '../proto/index.js';
import { deadlineExecutor, type CallDescriptor, type CallExecutor } from './call-executor.js';
import type { MeshChannel } from './mesh-channel.js';
import { toMeshCallError } from './mesh-call-error.js';
import { unaryAttempt } from './unary-call.js';

/** A service's answer to `grpc.health.v1.Health/Check`, by name (`SERVING`, `NOT_SERVING`, …). */
export type ServingStatus = keyof typeof HealthCheckResponse_ServingStatus;

export interface HealthCheckOptions {
  /** The service to ask about; `''` (the default) asks about the server as a whole. */
  service?: string;
  signal?: AbortSignal;
  /**
   * Count an answer other than `SERVING` as a failure of the call for the service's circuit
   * breaker (the check still returns the status): a health check that probes an open breaker
   * must not close it on `NOT_SERVING`.
   */
  requireServing?: boolean;
}

/** An answer that is not `SERVING`, thrown inside the policy so the breaker counts it, then unwrapped. */
class NotServingAnswer extends Error {
  constructor(readonly status: ServingStatus) {
    super(`the health check answered ${status}`);
    this.name = 'NotServingAnswer';
  }
}

function servingStatusOf(response: HealthCheckResponse): ServingStatus {
  return (HealthCheckResponse_ServingStatus[response.status] as ServingStatus | undefined) ?? 'UNKNOWN';
}

export interface HealthClientOptions {
  executor: CallExecutor;
  /** The default executor's per-call deadline, when `executor` is not given. */
  timeoutSeconds: number;
}

export const HEALTH_CLIENT_DEFAULTS = { timeoutSeconds: 5 } satisfies Partial<HealthClientOptions>;

const CHECK: CallDescriptor = { method: 'Check', idempotent: true };

/** `grpc.health.v1.Health` over a {@link MeshChannel}: the mesh-health probe's view of a service. */
export class MeshHealthClient {
  readonly #channel: MeshChannel;
  readonly #executor: CallExecutor;

  constructor(channel: MeshChannel, opts: Partial<HealthClientOptions> = {}) {
    this.#channel = channel;
    this.#executor = opts.executor ?? deadlineExecutor({ timeoutSeconds: opts.timeoutSeconds ?? HEALTH_CLIENT_DEFAULTS.timeoutSeconds });
  }

  /**
   * Asks the server whether `service` is serving.
   *
   * @throws {MeshCallError} per the gRPC status (`MESH_NOT_FOUND` for a service the server does not
   *   know), or `MESH_SERVER_NOT_AUTHORIZED` when the server failed the SPIFFE check.
   */
  async check(opts: HealthCheckOptions = {}): Promise<ServingStatus> {
    const request = { service: opts.service ?? '' };
    try {
      return await this.#executor(opts.signal ? { ...CHECK, signal: opts.signal } : CHECK, async (info) => {
        const response = await this.#channel.use(HealthClient, (client) =>
          unaryAttempt<HealthCheckResponse>((metadata, options, callback) => client.check(request, metadata, options, callback), info, opts.signal),
        );
        const status = servingStatusOf(response);
        if (opts.requireServing && status !== 'SERVING') throw new NotServingAnswer(status);
        return status;
      });
    } catch (error) {
      if (error instanceof NotServingAnswer) return error.status;
      throw toMeshCallError(error, { service: this.#channel.service, method: 'grpc.health.v1.Health/Check' });
    }
  }
}
