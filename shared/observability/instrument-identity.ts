import { secondsToExpiry } from '../identity/svid-material.js';
import type { IdentitySource } from '../identity/identity-source.js';
import { summarizeError } from './error-summary.js';
import type { MeshInstrumentTarget } from './instrument-policy.js';

export interface IdentityInstrumentOptions extends MeshInstrumentTarget {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * Subscribes to the function's identity source: a new SVID is logged at INFO, a failed refresh
 * (the last good SVID still served) at WARN naming the SPIFFE ID and the error code, and every
 * metrics flush samples `svid_expiry_seconds` from the cached SVID. Returns the unsubscribe.
 *
 * Only the SPIFFE ID, serial number and validity are ever logged, never the material; the error's
 * `cause` is left out too (it may be a parse failure quoting the secret's text).
 */
export function instrumentIdentity(
  source: Pick<IdentitySource, 'subscribe' | 'onRefreshError' | 'peek' | 'description'>,
  options: IdentityInstrumentOptions,
): () => void {
  const { logger, metrics, now = Date.now } = options;
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
    if (material) target.recordSvidExpiry(material.svid.id.toString(), secondsToExpiry(material, now()));
  });
  return function stopInstrumentingIdentity() {
    stopRotations();
    stopErrors();
    stopSampling();
  };
}
