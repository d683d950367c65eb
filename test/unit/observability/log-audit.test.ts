import { status } from '@grpc/grpc-js';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdentityError, MeshCallError } from '../../../shared/errors.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { svidMaterialFromParts, type SvidMaterial } from '../../../shared/identity/svid-material.js';
import { instrumentIdentity } from '../../../shared/observability/instrument-identity.js';
import { instrumentPolicy } from '../../../shared/observability/instrument-policy.js';
import { createMeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { ServicePolicy } from '../../../shared/resilience/index.js';
import { auditLogLines, findSecretsInLog } from '../../fixtures/log-audit.js';
import { DevCa, spireSecretBinary, spireSecretJson, type MintedSvid } from '../../local/dev-ca.js';
import { grpcError } from '../resilience/support.js';
import { captureOutput, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

const ME = 'spiffe://jia.app/payment-functions';
const CONTACT = 'spiffe://jia.app/contact-service';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SIGNATURE_HEADER = 't=123,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd';

let ca: DevCa;
let svid: MintedSvid;
let material: SvidMaterial;
let output: CapturedOutput;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  svid = await ca.mintSvid(ME);
  material = svidMaterialFromParts({ certChainPem: svid.certChainPem, privateKeyPem: svid.privateKeyPem, bundlePem: ca.bundlePem }, 'test');
});
beforeEach(() => {
  stubPowertoolsDefaults();
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
  output = captureOutput();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Everything a careless caller might log: secrets in messages, in fields, in errors and their causes. */
function logCarelessly(logger: Logger): void {
  logger.warn(`stripe signature ${SIGNATURE_HEADER} did not match, secret ${WEBHOOK_SECRET}`);
  logger.info('webhook received', {
    headers: { 'stripe-signature': SIGNATURE_HEADER, authorization: 'Bearer abc.def.ghi', 'content-type': 'application/json' },
  });
  logger.info({ message: 'configuration', webhookSecret: WEBHOOK_SECRET, privateKey: svid.privateKeyPem, x509SVIDKey: svid.privateKeyPem, spiffeId: ME });
  logger.debug('loaded svid', { material });
  logger.debug('secret value', { SecretBinary: spireSecretBinary(svid, ca.bundlePem), raw: Buffer.from(svid.privateKeyPem) });
  logger.error('secret parse failed', new Error(`not spire json: ${spireSecretJson(svid, ca.bundlePem).slice(0, 400)}`));
  logger.error(
    'call failed',
    new MeshCallError('MESH_INTERNAL', `contact-service/GetUserInfo failed: ${svid.privateKeyPem}`, { service: 'contact-service', method: 'GetUserInfo' }, {
      cause: { x509SVIDKey: svid.privateKeyPem, note: `signed with ${SIGNATURE_HEADER}` },
    }),
  );
  logger.logEventIfEnabled({ headers: { 'Stripe-Signature': SIGNATURE_HEADER }, body: `{"secret":"${WEBHOOK_SECRET}"}` }, true);
}

describe('log audit', () => {
  it('writes no key, secret or signature anywhere, and keeps the SPIFFE IDs and error codes', async () => {
    // Prepare
    const telemetry = createMeshTelemetry();
    const policy = new ServicePolicy({ service: 'contact-service', retry: { maxAttempts: 0 } });
    instrumentPolicy(policy, { ...telemetry, peer: () => CONTACT });
    const fetches = [
      () => Promise.resolve(material),
      () => Promise.reject(new IdentityError('IDENTITY_SECRET_MALFORMED', `bad secret ${spireSecretJson(svid, ca.bundlePem)}`, { cause: material })),
    ];
    const source = new IdentitySource(() => fetches.shift()!(), 'secret svid');
    instrumentIdentity(source, telemetry);

    // Act
    await policy.execute({ method: 'GetUserInfo', idempotent: true }, async () => 'ok');
    await policy
      .execute({ method: 'GetUserInfo', idempotent: true }, () => Promise.reject(grpcError(status.UNAVAILABLE, `handshake failed: ${svid.certChainPem}`)))
      .catch(() => {});
    await source.current();
    await source.refresh();
    logCarelessly(telemetry.logger);
    telemetry.metrics.flush();

    // Assess
    expect(output.lines.length).toBeGreaterThan(10);
    expect(auditLogLines(output.lines)).toEqual([]);
    const everything = output.lines.join('\n');
    for (const useful of [ME, CONTACT, 'IDENTITY_SECRET_MALFORMED', 'UNAVAILABLE', 'MESH_INTERNAL', 'handshake failed', 'grpc_client_requests_total']) {
      expect(everything).toContain(useful);
    }
  });

  it('would catch the same scenario written by a plain Powertools Logger (the audit can fail)', () => {
    logCarelessly(new Logger({ logLevel: 'DEBUG' }));

    const findings = new Set(output.lines.flatMap(findSecretsInLog));
    expect([...findings].sort()).toEqual(
      [
        'PEM armour (-----BEGIN)',
        'PEM armour (-----END)',
        'PEM private key header (PRIVATE KEY)',
        'Stripe webhook secret (whsec_)',
        'Stripe signature (v1=<hex>)',
        'base64 DER (MII…)',
        'bearer token',
      ].sort(),
    );
  });
});
