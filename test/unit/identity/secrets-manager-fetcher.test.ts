import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { secretsManagerSvidFetcher } from '../../../shared/identity/secrets-manager-fetcher.js';
import { svidFromSpireSecret } from '../../../shared/identity/spire-secret.js';
import { secretsExtensionValue } from '../../../shared/secrets/secrets-extension-value.js';
import { startSecretsExtensionEndpoint, type SecretsExtensionEndpoint } from '../../fixtures/secrets-extension-endpoint.js';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../../fixtures/secrets-manager-endpoint.js';
import { DevCa, spireSecretBinary, type MintedSvid } from '../../local/dev-ca.js';

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

const ME = 'spiffe://jia.app/payment-functions';
const SECRET = 'spire-svid/payment-functions';
const TOKEN = 'session-token-of-the-sandbox';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const TTL_SECONDS = 300;

describe('secretsManagerSvidFetcher through the Parameters and Secrets extension', () => {
  let ca: DevCa;
  let extension: SecretsExtensionEndpoint;
  /** The one clock of the extension's cache, the fetcher and the identity source. */
  const clock = { now: 0 };
  let t0: number;

  beforeAll(async () => {
    ca = await DevCa.create('jia.app');
  });
  beforeEach(async () => {
    t0 = Date.now();
    clock.now = t0;
    endpoint.requests.length = 0;
    await extension?.close();
    extension = await startSecretsExtensionEndpoint({ token: TOKEN, ttlSeconds: TTL_SECONDS, now: () => clock.now });
  });
  afterAll(async () => {
    await extension.close();
  });

  const binaryOf = (svid: MintedSvid) => spireSecretBinary(svid, ca.bundlePem);
  /** What Secrets Manager answers the SDK, as the API's JSON protocol has it. */
  const apiAnswer = (svid: MintedSvid) => ({ Name: SECRET, SecretBinary: Buffer.from(binaryOf(svid)).toString('base64') });
  const fetcher = () =>
    secretsManagerSvidFetcher(SECRET, {
      access: { mode: 'extension', extensionPort: extension.port, extensionCacheTtlSeconds: TTL_SECONDS },
      extension: { token: () => TOKEN },
      now: () => clock.now,
    });
  /** SVID A as SPIRE first wrote it: valid from a minute before t0 for 21 minutes (refresh due at half-life). */
  const mintFirst = () => ca.mintSvid(ME, { notBefore: new Date(t0 - MINUTE), notAfter: new Date(t0 + 20 * MINUTE) });
  const mintRotated = (from: number) => ca.mintSvid(ME, { notBefore: new Date(from), notAfter: new Date(from + 40 * MINUTE) });

  /**
   * Moves the clock from `from` to `to` in 10 s steps, asking the source at each step as
   * invocations would; fails on any error or any SVID already expired when handed out, and
   * returns when `rotated` was first handed out.
   */
  async function invokeEvery10s(source: IdentitySource, from: number, to: number, rotated: MintedSvid, onStep?: (at: number) => void) {
    let adoptedAt: number | undefined;
    for (let at = from; at <= to; at += 10 * SECOND) {
      clock.now = at;
      onStep?.(at);
      const material = await source.current();
      expect(material.svid.notAfter.getTime(), `svid handed out at t0+${(at - t0) / SECOND}s`).toBeGreaterThan(at);
      if (adoptedAt === undefined && material.svid.serialNumber === rotated.serialNumber) adoptedAt = at;
    }
    return adoptedAt;
  }

  it('reads the same SVID from the extension as from the API', async () => {
    const first = await mintFirst();
    extension.put(SECRET, { SecretBinary: binaryOf(first) });
    endpoint.answer(200, apiAnswer(first));

    const viaExtension = await fetcher()();
    const viaApi = await secretsManagerSvidFetcher(SECRET)();

    expect(viaExtension.svid.serialNumber).toBe(first.serialNumber);
    expect(viaExtension.svid.certChainPem).toBe(viaApi.svid.certChainPem);
    expect(viaExtension.bundles.authoritiesPem()).toBe(viaApi.bundles.authoritiesPem());
    expect(endpoint.requests).toHaveLength(1);
  });

  it('picks up a rotation the cache hid before the old SVID expires, without calling Secrets Manager', async () => {
    const first = await mintFirst();
    extension.put(SECRET, { SecretBinary: binaryOf(first) });
    const source = new IdentitySource(fetcher(), SECRET, { now: () => clock.now });
    await source.current();
    // Another read just before SPIRE rotates fills the cache with A for the next five minutes.
    clock.now = t0 + 8 * MINUTE + 50 * SECOND;
    await source.refresh();
    const rotatedAt = t0 + 9 * MINUTE;
    const rotated = await mintRotated(rotatedAt - MINUTE);
    clock.now = rotatedAt;
    extension.put(SECRET, { SecretBinary: binaryOf(rotated) });

    const adoptedAt = await invokeEvery10s(source, rotatedAt, t0 + 25 * MINUTE, rotated);

    const cachedUntil = t0 + 8 * MINUTE + 50 * SECOND + TTL_SECONDS * SECOND;
    expect(adoptedAt).toBeGreaterThanOrEqual(cachedUntil);
    expect(adoptedAt).toBeLessThanOrEqual(cachedUntil + 40 * SECOND);
    expect(endpoint.requests).toHaveLength(0);
  });

  it('reads Secrets Manager itself once the SVID held is within the cache TTL of expiry, so a late rotation is seen in time', async () => {
    const first = await mintFirst();
    extension.put(SECRET, { SecretBinary: binaryOf(first) });
    endpoint.answer(200, apiAnswer(first));
    const source = new IdentitySource(fetcher(), SECRET, { now: () => clock.now });
    const rotatedAt = t0 + 18 * MINUTE;
    const rotated = await mintRotated(rotatedAt - MINUTE);
    let firstApiReadAt: number | undefined;

    const adoptedAt = await invokeEvery10s(source, t0, t0 + 25 * MINUTE, rotated, (at) => {
      if (at === rotatedAt) {
        extension.put(SECRET, { SecretBinary: binaryOf(rotated) });
        endpoint.answer(200, apiAnswer(rotated));
      }
      if (firstApiReadAt === undefined && endpoint.requests.length > 0) firstApiReadAt = at;
    });

    expect(adoptedAt).toBeGreaterThanOrEqual(rotatedAt);
    expect(adoptedAt).toBeLessThanOrEqual(rotatedAt + 40 * SECOND);
    // Not before A came within TTL + one poll interval of its expiry (t0 + 14.5 min).
    expect(firstApiReadAt).toBeGreaterThan(t0 + 14 * MINUTE);
    // The extension alone would still have handed out A, which expires at t0 + 20 min.
    clock.now = adoptedAt ?? 0;
    const cachedOnly = svidFromSpireSecret(await secretsExtensionValue(SECRET, { port: extension.port, token: () => TOKEN })(), SECRET, new Date(clock.now));
    expect(cachedOnly.svid.serialNumber).toBe(first.serialNumber);
  });

  it('reads Secrets Manager itself when the cached SVID has already expired', async () => {
    const first = await mintFirst();
    const rotated = await mintRotated(t0);
    extension.put(SECRET, { SecretBinary: binaryOf(first) });
    // The cache takes A ten seconds before it expires and serves it for five minutes more.
    clock.now = t0 + 20 * MINUTE - 10 * SECOND;
    await secretsExtensionValue(SECRET, { port: extension.port, token: () => TOKEN })();
    extension.put(SECRET, { SecretBinary: binaryOf(rotated) });
    endpoint.answer(200, apiAnswer(rotated));
    clock.now = t0 + 20 * MINUTE + SECOND;

    const material = await fetcher()();

    expect(material.svid.serialNumber).toBe(rotated.serialNumber);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('keeps a still-valid SVID from the extension when that fresh read fails', async () => {
    const first = await mintFirst();
    extension.put(SECRET, { SecretBinary: binaryOf(first) });
    endpoint.answer(400, { __type: 'AccessDeniedException', message: 'denied' });
    clock.now = t0 + 17 * MINUTE;

    const material = await fetcher()();

    expect(material.svid.serialNumber).toBe(first.serialNumber);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('reports a secret the extension cannot find as IDENTITY_SECRET_NOT_FOUND naming it', async () => {
    const error = (await fetcher()().catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_SECRET_NOT_FOUND');
    expect(error.message).toBe(`cannot get secret ${SECRET} from the secrets extension: http 400 ResourceNotFoundException`);
  });
});
