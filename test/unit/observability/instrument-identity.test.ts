import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { svidMaterialFromParts, type SvidMaterial } from '../../../shared/identity/svid-material.js';
import { instrumentIdentity, SVID_EXPIRY_SAMPLE_MS } from '../../../shared/observability/instrument-identity.js';
import { createMeshTelemetry, type MeshTelemetry } from '../../../shared/observability/mesh-telemetry.js';
import { findSecretsInLog } from '../../fixtures/log-audit.js';
import { DevCa, type MintedSvid } from '../../local/dev-ca.js';
import { captureOutput, type CapturedOutput, stubPowertoolsDefaults } from '../../fixtures/capture-output.js';

const ME = 'spiffe://jia.app/payment-functions';

let ca: DevCa;
let first: MintedSvid;
let second: MintedSvid;
let output: CapturedOutput;
let telemetry: MeshTelemetry;

function material(minted: MintedSvid): SvidMaterial {
  return svidMaterialFromParts({ certChainPem: minted.certChainPem, privateKeyPem: minted.privateKeyPem, bundlePem: ca.bundlePem }, 'test');
}

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  first = await ca.mintSvid(ME);
  second = await ca.mintSvid(ME);
});
beforeEach(() => {
  stubPowertoolsDefaults();
  output = captureOutput();
  telemetry = createMeshTelemetry();
});
afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

describe('instrumentIdentity', () => {
  it('warns of a failed refresh naming the SPIFFE ID and the error code, never the material', async () => {
    // Prepare: the second fetch fails with an error that quotes the secret, as a parse error might.
    const fetches = [
      () => Promise.resolve(material(first)),
      () =>
        Promise.reject(
          new IdentityError('IDENTITY_SECRET_MALFORMED', `secret svid is not spire json: ${first.privateKeyPem}`, {
            cause: { x509SVIDKey: first.privateKeyPem },
          }),
        ),
    ];
    const source = new IdentitySource(() => fetches.shift()!(), 'secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:svid');
    instrumentIdentity(source, telemetry);

    // Act
    await source.current();
    await source.refresh();

    // Assess
    const warning = output.logs().find((line) => line.level === 'WARN');
    expect(warning).toMatchObject({
      message: 'svid refresh failed; serving the last good svid',
      spiffeId: ME,
      errorCode: 'IDENTITY_SECRET_MALFORMED',
      svidSource: 'secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:svid',
      expiresAt: first.notAfter.toISOString(),
    });
    expect(warning!.errorMessage).toBe('secret svid is not spire json: [REDACTED PEM]\n');
    expect(output.lines.flatMap(findSecretsInLog)).toEqual([]);
  });

  it('logs each new SVID at INFO with its serial number and expiry', async () => {
    const fetches = [material(first), material(second)];
    const source = new IdentitySource(() => Promise.resolve(fetches.shift()!), 'files in /tmp/svid');
    instrumentIdentity(source, telemetry);

    await source.current();
    await source.refresh();

    expect(output.logs().map((line) => [line.level, line.message, line.spiffeId, line.serialNumber, line.previousSerialNumber])).toEqual([
      ['INFO', 'svid rotated', ME, first.serialNumber, undefined],
      ['INFO', 'svid rotated', ME, second.serialNumber, first.serialNumber],
    ]);
  });

  it('samples svid_expiry_seconds at the first flush once an SVID is loaded', async () => {
    const source = new IdentitySource(() => Promise.resolve(material(first)), 'files in /tmp/svid');
    const now = first.notAfter.getTime() - 1_800_000;
    const stop = instrumentIdentity(source, { ...telemetry, now: () => now });

    telemetry.metrics.flush(); // nothing loaded yet: nothing to say
    await source.current();
    telemetry.metrics.flush();
    stop();
    telemetry.metrics.flush();

    const docs = output.emf();
    expect(docs).toHaveLength(1);
    expect(docs[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Dimensions: [['spiffe_id']], Metrics: [{ Name: 'svid_expiry_seconds', Unit: 'Seconds' }] });
    expect(docs[0]).toMatchObject({ spiffe_id: ME, svid_expiry_seconds: 1800 });
  });

  it('samples the same SVID again only once the interval has passed, and a new SVID at once', async () => {
    const fetches = [material(first), material(second)];
    const source = new IdentitySource(() => Promise.resolve(fetches.shift()!), 'files in /tmp/svid');
    let now = first.notAfter.getTime() - 3_600_000;
    instrumentIdentity(source, { ...telemetry, now: () => now });
    await source.current();

    telemetry.metrics.flush(); // sampled
    now += SVID_EXPIRY_SAMPLE_MS - 1;
    telemetry.metrics.flush(); // too soon
    now += 1;
    telemetry.metrics.flush(); // sampled
    await source.refresh();
    telemetry.metrics.flush(); // a new SVID: sampled although only just sampled

    expect(output.emf().map((doc) => [doc.spiffe_id, doc.svid_expiry_seconds])).toEqual([
      [ME, 3600],
      [ME, 3600 - SVID_EXPIRY_SAMPLE_MS / 1000],
      [ME, Math.floor((second.notAfter.getTime() - now) / 1000)],
    ]);
  });
});
