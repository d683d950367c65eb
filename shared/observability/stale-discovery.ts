import type { Logger } from '@aws-lambda-powertools/logger';

/** What discovery reports when every source failed and it serves its last good result. */
export interface StaleDiscoveryReport {
  service: string;
  /** How old the served addresses are. */
  ageMs: number;
  failures: readonly { source: string; code: string; message: string }[];
  resolution?: { source: string; addresses: readonly unknown[] };
}

/**
 * Logs at WARN that `report.service` is being called at addresses that could not be confirmed:
 * every discovery source failed (each named with its code and reason) and the last good result,
 * `ageMs` old, is served instead of failing calls.
 */
export function logStaleDiscovery(logger: Logger, report: StaleDiscoveryReport): void {
  logger.warn('serving stale discovery result', {
    meshService: report.service,
    ageMs: Math.round(report.ageMs),
    servedFrom: report.resolution?.source,
    addresses: report.resolution?.addresses.length,
    failures: report.failures.map(({ source, code, message }) => ({ source, code, message })),
  });
}

/** Returns a discovery `onStale` callback that logs through `logger` (see {@link logStaleDiscovery}). */
export function staleDiscoveryReporter(logger: Logger): (report: StaleDiscoveryReport) => void {
  return function reportStaleDiscovery(report) {
    logStaleDiscovery(logger, report);
  };
}
