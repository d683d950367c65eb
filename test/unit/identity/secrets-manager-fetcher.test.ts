import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { secretsManagerSvidFetcher } from '../../../shared/identity/secrets-manager-fetcher.js';
import { DevCa, spireSecretBinary } from '../../local/dev-ca.js';

/**
 * A stand-in Secrets Manager endpoint on loopback, so the real SDK client (signing, protocol,
 * base64 `SecretBinary`) is exercised through the standard endpoint override.
 */
let server: Server;
let requests: { target: string | undefined; body: string }[] = [];
let answer: { status: number; body: unknown };
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ target: req.headers['x-amz-target'] as string | undefined, body });
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

describe('secretsManagerSvidFetcher', () => {
  it('honours AWS_ENDPOINT_URL_SECRETS_MANAGER and decodes SecretBinary as SPIRE writes it', async () => {
    const ca = await DevCa.create('jia.app');
    const svid = await ca.mintSvid('spiffe://jia.app/payment-functions');
    answer = {
      status: 200,
      body: {
        Name: 'svid',
        SecretBinary: Buffer.from(spireSecretBinary(svid, ca.bundlePem)).toString('base64'),
      },
    };
    requests = [];

    const material = await secretsManagerSvidFetcher('spire-svid')();

    expect(material.svid.serialNumber).toBe(svid.serialNumber);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.target).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(requests[0]?.body ?? '{}')).toEqual({ SecretId: 'spire-svid' });
  });

  it('reports a missing secret as IDENTITY_SECRET_NOT_FOUND naming it', async () => {
    answer = {
      status: 400,
      body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
    };

    const error = (await secretsManagerSvidFetcher('spire-svid-missing')().catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_SECRET_NOT_FOUND');
    expect(error.message).toContain('spire-svid-missing');
  });

  it('reports access denied as IDENTITY_SECRET_FETCH_FAILED', async () => {
    answer = { status: 400, body: { __type: 'AccessDeniedException', message: 'denied' } };

    const error = (await secretsManagerSvidFetcher('spire-svid')().catch((e: unknown) => e)) as IdentityError;

    expect(error.code).toBe('IDENTITY_SECRET_FETCH_FAILED');
    expect(error.message).toContain('AccessDeniedException');
  });
});
