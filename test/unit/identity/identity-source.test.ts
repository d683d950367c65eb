import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IdentityError } from '../../../shared/errors.js';
import { IdentitySource } from '../../../shared/identity/identity-source.js';
import { secretsManagerSvidFetcher } from '../../../shared/identity/secrets-manager-fetcher.js';
import type { SvidMaterial } from '../../../shared/identity/svid-material.js';
import { DevCa, spireSecretBinary, type MintedSvid } from '../../local/dev-ca.js';

const ME = 'spiffe://jia.app/payment-functions';
const SECRET = 'spire-svid/payment-functions';
const sm = mockClient(SecretsManagerClient);
let ca: DevCa;
let first: MintedSvid;
let second: MintedSvid;

beforeAll(async () => {
  ca = await DevCa.create('jia.app');
  [first, second] = await Promise.all([ca.mintSvid(ME), ca.mintSvid(ME)]);
});
afterEach(() => {
  sm.reset();
});

/** A source over the mocked Secrets Manager with a clock the test moves. */
function sourceWithClock() {
  const clock = { now: Date.now() };
  const source = new IdentitySource(secretsManagerSvidFetcher(SECRET, { client: new SecretsManagerClient({ region: 'eu-west-1' }) }), SECRET, {
    now: () => clock.now,
  });
  return { clock, source };
}

function secretOf(svid: MintedSvid) {
  return { SecretBinary: spireSecretBinary(svid, ca.bundlePem) };
}

describe('IdentitySource', () => {
  it('fetches the secret once over 1000 warm invocations', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET }).resolves(secretOf(first));
    const { source } = sourceWithClock();

    for (let i = 0; i < 1000; i++) await source.current();

    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(source.fetchCount).toBe(1);
  });

  it('shares one fetch between concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves(secretOf(first));
    const { source } = sourceWithClock();

    const all = await Promise.all(Array.from({ length: 20 }, () => source.current()));

    expect(new Set(all).size).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('picks up a rotated secret after half the lifetime and tells subscribers', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secretOf(first)).resolves(secretOf(second));
    const { clock, source } = sourceWithClock();
    const seen: string[] = [];
    source.subscribe((current, previous) => seen.push(`${previous?.svid.serialNumber ?? '-'}>${current.svid.serialNumber}`));

    const before = await source.current();
    clock.now += 10 * 60_000;
    const stillFirst = await source.current();
    clock.now += 25 * 60_000; // past half of the one-hour lifetime
    const after = await source.current();

    expect(before.svid.serialNumber).toBe(first.serialNumber);
    expect(stillFirst).toBe(before);
    expect(after.svid.serialNumber).toBe(second.serialNumber);
    expect(seen).toEqual([`->${first.serialNumber}`, `${first.serialNumber}>${second.serialNumber}`]);
  });

  it('keeps serving the last good SVID when a refresh fails, and backs off before trying again', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce(secretOf(first))
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
      .resolves(secretOf(second));
    const { clock, source } = sourceWithClock();
    const failures: unknown[] = [];
    source.onRefreshError((error) => failures.push(error));

    await source.current();
    clock.now += 40 * 60_000;
    const served = await source.current();
    const again = await source.current();
    clock.now += 31_000;
    const refreshed = await source.current();

    expect(served.svid.serialNumber).toBe(first.serialNumber);
    expect(again.svid.serialNumber).toBe(first.serialNumber);
    expect(failures).toHaveLength(1);
    expect((failures[0] as IdentityError).code).toBe('IDENTITY_SECRET_FETCH_FAILED');
    expect(refreshed.svid.serialNumber).toBe(second.serialNumber);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('fails with IDENTITY_EXPIRED once the last good SVID has expired and the refresh fails', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secretOf(first)).rejects(new Error('down'));
    const { clock, source } = sourceWithClock();

    await source.current();
    clock.now += 2 * 3_600_000;
    const error = (await source.current().catch((e: unknown) => e)) as IdentityError;

    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('IDENTITY_EXPIRED');
  });

  it('never caches an error: the next call fetches again', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('no such secret'), { name: 'ResourceNotFoundException' }))
      .resolves(secretOf(first));
    const { source } = sourceWithClock();

    const error = (await source.current().catch((e: unknown) => e)) as IdentityError;
    const material = await source.current();

    expect(error.code).toBe('IDENTITY_SECRET_NOT_FOUND');
    expect(error.message).toContain(SECRET);
    expect(material.svid.serialNumber).toBe(first.serialNumber);
  });

  it('does not announce a rotation when SPIRE rewrote the same SVID', async () => {
    sm.on(GetSecretValueCommand).resolves(secretOf(first));
    const { clock, source } = sourceWithClock();
    const rotations: SvidMaterial[] = [];
    source.subscribe((m) => rotations.push(m));

    await source.current();
    clock.now += 40 * 60_000;
    await source.refresh();

    expect(rotations).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('refreshes on demand', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce(secretOf(first)).resolves(secretOf(second));
    const { source } = sourceWithClock();

    await source.current();
    const refreshed = await source.refresh();

    expect(refreshed.svid.serialNumber).toBe(second.serialNumber);
    expect(source.peek()).toBe(refreshed);
  });
});
