import { secondsToExpiry } from '../identity/svid-material.js';
import type { IdentitySource } from '../identity/identity-source.js';
import { summarizeError } from './error-summary.js';
import type { MeshInstrumentTarget } from './instrument-policy.js';

export interface IdentityInstrumentOptions extends MeshInstrumentTarget {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /**
   * The least time between two `svid_expiry_seconds` samples of the same SVID. A new SVID is
   * sampled at the next flush whatever the interval.
   */
  svidExpirySampleMs?: number;
}

/**
 * Once a minute: the gauge moves one second a second and the alarm on it looks at 5-minute
 * minimums, while writing it at every flush would double the EMF output of a warm invocation.
 */
export const SVID_EXPIRY_SAMPLE_MS = 60_000;

/**
 * Subscribes to the function's identity source: a new SVID is logged at INFO, a failed refresh
 * (the last good SVID still served) at WARN naming the SPIFFE ID and the error code, and metrics
 * flushes sample `svid_expiry_seconds` from the cached SVID, at most once per
 * {@link SVID_EXPIRY_SAMPLE_MS} for the same SVID. Returns the unsubscribe.
 *
 * Only the SPIFFE ID, serial number and validity are ever logged, never the material; the error's
 * `cause` is left out too (it may be a parse failure quoting the secret's text).
 */
export function instrumentIdentity(
  source: Pick<IdentitySource, 'subscribe' | 'onRefreshError' | 'peek' | 'description'>,
  options: IdentityInstrumentOptions,
): () => void {
  const { logger, metrics, now = Date.now, svidExpirySampleMs = SVID_EXPIRY_SAMPLE_MS } = options;
  let lastSample: { serialNumber: string; at: number } | undefined;
  const stopRotations = source.subscribe(function logSvidRotation(current, previous) {
    logger.info('svid rotated', {
      spiffeId: current.svid.id.toString(),
      serialNumber: current.svid.serialNumber,
      expiresAt: current.svid.notAfter.toISOString(),
      previousSerialNumber: previous?.svid.serialNumber,
      svidSource: source.description,
    });
  });
  const stopErrors = source.onRefreshError(function warnSvidRefreshFailed(error, lastGood) {
    const { name, code, message } = summarizeError(error);
    logger.warn('svid refresh failed; serving the last good svid', {
      spiffeId: lastGood.svid.id.toString(),
      errorCode: code ?? name,
      errorMessage: message,
      expiresAt: lastGood.svid.notAfter.toISOString(),
      secondsToExpiry: secondsToExpiry(lastGood, now()),
      svidSource: source.description,
    });
  });
  const stopSampling = metrics.addFlushSampler(function sampleSvidExpiry(target) {
    const material = source.peek();
    if (!material) return;
    const at = now();
    const { serialNumber } = material.svid;
    if (lastSample?.serialNumber === serialNumber && at - lastSample.at < svidExpirySampleMs) return;
    lastSample = { serialNumber, at };
    target.recordSvidExpiry(material.svid.id.toString(), secondsToExpiry(material, at));
  });
  return function stopInstrumentingIdentity() {
    stopRotations();
    stopErrors();
    stopSampling();
  };
}
