/** The messages between a local container (`container-worker.ts`) and its parent (`function-container.ts`). */

/** What a worker is started with. */
export interface ContainerWorkerData {
  functionName: string;
  /** A file URL of the handler module. */
  modulePath: string;
  region: string;
  memoryMb: number;
}

/** One invocation, sent to an idle container. */
export interface ContainerRequest {
  requestId: string;
  event: unknown;
  timeoutMs: number;
}

/** An error as the Lambda runtime reports it (`errorCode`: a typed error's stable code). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  errorCode?: string;
  trace: string[];
}

export type ContainerMessage =
  | { kind: 'ready'; initMs: number }
  | { kind: 'init-failed'; error: FunctionError; initMs: number }
  | { kind: 'log'; stream: 'stdout' | 'stderr'; line: string; requestId: string | undefined }
  | { kind: 'result'; requestId: string; ok: true; result: unknown; durationMs: number }
  | { kind: 'result'; requestId: string; ok: false; error: FunctionError; durationMs: number };
