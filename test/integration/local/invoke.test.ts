import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactService, type ContactServiceHandle } from '../../local/contact-service.js';
import { DevCa, writeSpiffeHelperFiles, type MintedSvid } from '../../local/dev-ca.js';
import { nowSeconds } from '../../fixtures/stripe.js';
import { LOCAL_SIGNING_SECRET, resignEvent } from '../../local/webhook-delivery.js';
import { PROJECT_ROOT, runNpm, type NpmRun } from './run-npm.js';

const FUNCTIONS_ID = 'spiffe://jia.app/payment-functions';
const CONTACT_ID = 'spiffe://jia.app/contact-service';
// Child processes on a 2-core machine: npm, tsx, then the handler's own start.
const CHILD_TIMEOUT = 30_000;

let localDir: string;

beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'invoke-cli-'));
});

afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

const invoke = (args: string[], env: Record<string, string> = {}) => runNpm('invoke', args, { PAYMENT_FUNCTIONS_LOCAL_DIR: localDir, ...env });

/** stdout must be exactly one JSON document: this throws otherwise. */
function documentOf(run: NpmRun): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe('npm run invoke, with every dependency started on demand', () => {
  it('runs payment-webhook --follow: the webhook answers 200 and grant-entitlements fails no record', async () => {
    // Act
    const run = await invoke(['payment-webhook', '--follow']);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const { webhook, grants } = documentOf(run) as { webhook: { statusCode: number; body: string }; grants: unknown };
    expect(webhook.statusCode).toBe(200);
    expect(JSON.parse(webhook.body)).toEqual({ received: true });
    expect(grants).toEqual({ batchItemFailures: [] });
    expect(run.stderr).toContain('[invoke] grant-entitlements: 1 record(s) from local queue entitlements');
    // The handlers' logs went to stderr, not into the document.
    expect(run.stderr).toMatch(/"message":"entitlement event applied"/);
  }, CHILD_TIMEOUT);

  it('then shows the entitlement to another family member: the state persisted between invokes', async () => {
    const run = await invoke(['get-user-info', '--event', '{"userId":"user-3"}']);

    expect(run.code, run.stderr).toBe(0);
    expect(documentOf(run)).toMatchObject({
      id: 'user-3',
      familyId: 'family-1',
      entitlements: [{ name: 'premium_features', status: 'granted' }],
    });
    expect(run.stderr).toMatch(/pki: reusing the dev SVIDs/);
  }, CHILD_TIMEOUT);

  it('applies a Stripe refund that names only the customer, through the link the checkout recorded, end to end', async () => {
    // The sample refund, made newer than the checkout the first test applied.
    const refund = JSON.parse(await readFile(join(PROJECT_ROOT, 'test/fixtures/events/stripe/latest/charge.refunded.json'), 'utf8'));
    const file = join(localDir, 'refund.json');
    await writeFile(file, JSON.stringify({ ...refund, id: 'evt_PfInvokeRefund', created: nowSeconds() + 5 }, null, 2));

    const run = await invoke(['payment-webhook', '--event', file, '--follow']);
    const after = await invoke(['get-user-info', '--event', '{"userId":"user-3"}']);

    expect(run.code, run.stderr).toBe(0);
    expect(documentOf(run)).toMatchObject({ webhook: { statusCode: 200 }, grants: { batchItemFailures: [] } });
    expect(run.stderr).toMatch(/"purchaserVia":"cus_PfUser0001"/);
    expect(documentOf(after)).toMatchObject({ entitlements: [{ name: 'premium_features', status: 'revoked', grantedAt: null }] });
  }, 2 * CHILD_TIMEOUT);

  it('delivers a stored sample whose signature went stale, signing it again with a loud warning', async () => {
    // Prepare: the checked-in sample, as it will be an hour after anyone last ran sign-event.
    const sample = JSON.parse(await readFile(join(PROJECT_ROOT, 'test/fixtures/events/payment-webhook.checkout-completed.json'), 'utf8'));
    const stale = join(localDir, 'stale-checkout.json');
    await writeFile(stale, JSON.stringify(resignEvent(sample, LOCAL_SIGNING_SECRET, nowSeconds() - 3600)));

    // Act
    const run = await invoke(['payment-webhook', '--event', stale]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[invoke\] WARNING: the event's Stripe-Signature is 36\d\d s old, beyond the 300 s tolerance: payment-webhook refuses it \(401, WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE\)\. It was RE-SIGNED NOW/);
    expect(documentOf(run)).toMatchObject({ statusCode: 200, body: '{"received":true}' });
  }, CHILD_TIMEOUT);

  it('exits 1 with the typed error\'s code on stderr when the handler throws', async () => {
    const run = await invoke(['get-user-info', '--event', '{"userId":42}']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('USER_REQUEST_INVALID: expected {"userId": "<id>"}, got userId 42');
    expect(documentOf(run)).toEqual({
      errorType: 'UserRequestError',
      errorCode: 'USER_REQUEST_INVALID',
      errorMessage: 'expected {"userId": "<id>"}, got userId 42',
    });
  }, CHILD_TIMEOUT);

  it('exits 2 with the usage on stderr for an unknown function, starting nothing', async () => {
    const run = await invoke(['charge-card']);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('invoke: unknown function "charge-card"');
    expect(run.stderr).toContain('functions: payment-webhook, grant-entitlements, get-user-info, mesh-health');
    expect(run.stderr).not.toContain('[invoke]');
  }, CHILD_TIMEOUT);

  it('prints every option and the environment it honours with --help', async () => {
    const run = await invoke(['--help']);

    expect(run.code).toBe(0);
    for (const word of ['--event', '--follow', '--reset', '--resign', '--no-resign', '--timeout', 'SVID_DIR', 'EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', 'AWS_ENDPOINT_URL_DYNAMODB', 'QUEUE_URL', 'PAYMENT_FUNCTIONS_LOCAL_DIR']) {
      expect(run.stdout).toContain(word);
    }
  }, CHILD_TIMEOUT);
});

describe('npm run invoke against a contact-service given by the environment', () => {
  let ca: DevCa;
  let functionsSvid: MintedSvid;
  let contact: ContactServiceHandle;
  let svidDir: string;
  let ownLocalDir: string;

  beforeAll(async () => {
    // A mesh of the test's own: another CA, so only this service can authorise the child's SVID.
    ca = await DevCa.create('jia.app');
    const [client, server] = await Promise.all([ca.mintSvid(FUNCTIONS_ID), ca.mintSvid(CONTACT_ID)]);
    functionsSvid = client;
    svidDir = await mkdtemp(join(tmpdir(), 'invoke-svid-'));
    ownLocalDir = await mkdtemp(join(tmpdir(), 'invoke-own-mesh-'));
    await writeSpiffeHelperFiles(svidDir, functionsSvid, ca.bundlePem);
    contact = await startContactService({ svid: server, bundlePem: ca.bundlePem });
  });

  afterAll(async () => {
    await contact?.close();
    await rm(svidDir, { recursive: true, force: true });
    await rm(ownLocalDir, { recursive: true, force: true });
  });

  it('calls that service over mTLS with the given SVID, and starts no contact-service or PKI of its own', async () => {
    // Act
    const run = await runNpm('invoke', ['get-user-info', '--event', '{"userId":"user-2"}'], {
      PAYMENT_FUNCTIONS_LOCAL_DIR: ownLocalDir,
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: contact.address,
      EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: CONTACT_ID,
      SVID_DIR: svidDir,
    });

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(documentOf(run)).toMatchObject({ id: 'user-2', name: 'Charles Babbage', familyId: 'family-1' });
    expect(contact.callCount).toBe(1);
    expect(contact.seenClientIds).toEqual([FUNCTIONS_ID]);
    expect(contact.seenClientSerials).toEqual([functionsSvid.serialNumber]);
    expect(run.stderr).toContain(`contact-service: ${contact.address} (yours)`);
    expect(run.stderr).toContain(`identity: SVID_DIR=${svidDir} (yours)`);
    expect(existsSync(join(ownLocalDir, 'pki'))).toBe(false);
  }, CHILD_TIMEOUT);
});
