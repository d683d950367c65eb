// The status enum alone: grpc-js's index is CommonJS and would bring all of grpc-js into every bundle
// importing this module, payment-webhook's too, which uses it for metrics and never calls gRPC.
import { Status as status } from '@grpc/grpc-js/build/src/constants.js';
import { grpcCodeOf } from '../resilience/classify-failure.js';

/** The parts of an error worth a log line: what it is and what it says; never its stack or `cause`. */
export interface ErrorSummary {
  name: string;
  /** The mesh error code, a string errno (`ECONNRESET`) or the gRPC status name, when there is one. */
  code?: string;
  message: string;
}

/**
 * Summarises an error for a log line. The message still passes through the logger's scrubber;
 * leaving out `cause` keeps a wrapped secret-bearing error (an SDK response, a parse failure on the
 * secret's text) out of the line altogether.
 */
export function summarizeError(error: unknown): ErrorSummary {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const { code } = error as { code?: unknown };
  const grpcCode = grpcCodeOf(error);
  const named = typeof code === 'string' ? code : grpcCode === undefined ? undefined : status[grpcCode];
  return named === undefined ? { name: error.name, message: error.message } : { name: error.name, code: named, message: error.message };
}
