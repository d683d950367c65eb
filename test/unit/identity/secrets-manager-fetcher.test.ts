import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { secretsManagerSvidFetcher } from '../../../shared/identity/secrets-manager-fetcher.js';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../../fixtures/secrets-manager-endpoint.js';
import { DevCa, spireSecretBinary } from '../../local/dev-ca.js';

let endpoint: SecretsManagerEndpoint;

beforeAll(async () => {
  endpoint = await startSecretsManagerEndpoint();
});
afterAll(async () => {
  await endpoint.close();
});

describe('secretsManagerSvidFetcher', () => {
  it('honours AWS_ENDPOINT_URL_SECRETS_MANAGER and decodes SecretBinary as SPIRE writes it', async () => {
    const ca = await DevCa.create('jia.app');
    const svid = await ca.mintSvid('spiffe://jia.app/payment-functions');
    endpoint.answer(200, { Name: 'svid', SecretBinary: Buffer.from(spireSecretBinary(svid, ca.bundlePem)).toString('base64') });

    const material = await secretsManagerSvidFetcher('spire-svid')();

    expect(material.svid.serialNumber).toBe(svid.serialNumber);
    expect(endpoint.requests).toHaveLength(1);
    expect(endpoint.requests[0]?.target).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(endpoint.requests[0]?.body ?? '{}')).toEqual({ SecretId: 'spire-svid' });
  });

  it('reports a missing secret as IDENTITY_SECRET_NOT_FOUND naming it', async () => {
    endpoint.answer(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });

    const error = (await secretsManagerSvidFetcher('spire-svid-missing')().catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_SECRET_NOT_FOUND');
    expect(error.message).toContain('spire-svid-missing');
  });

  it('reports access denied as IDENTITY_SECRET_FETCH_FAILED', async () => {
    endpoint.answer(400, { __type: 'AccessDeniedException', message: 'denied' });

    const error = (await secretsManagerSvidFetcher('spire-svid')().catch((e: unknown) => e)) as IdentityError;

    expect(error.code).toBe('IDENTITY_SECRET_FETCH_FAILED');
    expect(error.message).toContain('AccessDeniedException');
  });
});
