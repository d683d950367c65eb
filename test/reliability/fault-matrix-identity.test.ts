/**
 * The fault matrix, identity faults: the real grant-entitlements handler (a fresh container per
 * test) whose SVID comes from Secrets Manager in SPIRE's format (mocked at the SDK, as in AWS) or
 * from spiffe-helper files, against servers that fail the SPIFFE check, a server that refuses our
 * ID, Secrets Manager failing at cold start and at refresh, and an SVID rotated mid-run.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EntitlementCommand } from '../../functions/payment-webhook/entitlement-command.js';
import { EntitlementStore } from '../../shared/entitlements/entitlement-store.js';
import {
  command,
  ENTITLEMENTS_TABLE,
  sqsEvent,
  startFunctionEnvironment,
  type FunctionEnvironment,
} from '../fixtures/function-environment.js';
import { CONTACT_ID, FUNCTIONS_ID } from '../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../local/contact-service.js';
import { DevCa, spireSecretBinary, writeSpiffeHelperFiles, type MintedSvid } from '../local/dev-ca.js';
import { auditTheWholeFile, auditedLogs, coldStart, context, outcomesLogged, type GrantHandler } from './harness.js';
import { drainQueue, SimulatedSqs } from './simulated-sqs.js';

const SECRET_ID = 'spire/payment-functions';
const PARTNER_TD = 'partner.example';
const FAMILY_1 = ['user-1', 'user-2', 'user-3'];
const HOUR = 3_600_000;

const secretsManager = mockClient(SecretsManagerClient);
let env: FunctionEnvironment;
let base: NodeJS.ProcessEnv;
let store: EntitlementStore;
let partner: DevCa; // a federated trust domain: its bundle is in our secret
let stranger: DevCa; // claims jia.app, in no bundle at all
let functionSvid: MintedSvid;
const servers: ContactServiceHandle[] = [];
const logs = auditedLogs();

/** The environment of a function whose SVID is in Secrets Manager (no spiffe-helper files). */
const fromSecret = { SVID_SECRET_ID: SECRET_ID, SVID_DIR: undefined };

beforeAll(async () => {
  env = await startFunctionEnvironment();
  base = { ...process.env };
  store = new EntitlementStore({ tableName: ENTITLEMENTS_TABLE });
  [partner, stranger] = await Promise.all([DevCa.create(PARTNER_TD), DevCa.create('jia.app')]);
  functionSvid = await env.mesh.ca.mintSvid(FUNCTIONS_ID);
});
afterEach(() => {
  secretsManager.reset();
  vi.useRealTimers();
});
afterAll(async () => {
  secretsManager.restore();
  await Promise.all(servers.map((s) => s.close()));
  await env.close();
});

/** `GetSecretValue` as SPIRE's svidstore leaves it: SecretBinary JSON, our bundle plus partner.example's. */
function spireSecret(svid: MintedSvid = functionSvid) {
  return { Name: SECRET_ID, SecretBinary: spireSecretBinary(svid, env.mesh.ca.bundlePem, { [`spiffe://${PARTNER_TD}`]: partner.bundlePem }) };
}

function sdkError(name: string): Error {
  return Object.assign(new Error(`${name} (injected)`), { name, $metadata: {} });
}

/** A contact-service presenting `svid`, valid or not, on its own port. */
async function serverPresenting(svid: MintedSvid): Promise<ContactServiceHandle> {
  const server = await startContactService({ svid, bundlePem: env.mesh.ca.bundlePem, allowInvalidSvid: true });
  servers.push(server);
  return server;
}

/** The failure lines logged for SQS message `messageId`: the error's code and message. */
function failuresOf(messageId: string): { code: string; message: string }[] {
  return logs
    .logs()
    .filter((l) => l['messageId'] === messageId && l['message'] === 'record failed: SQS will redeliver it')
    .map((l) => l['error'] as { code: string; message: string });
}

async function stateOf(members: readonly string[], name: string) {
  return Promise.all(
    members.map(async (userId) => {
      const entitlement = (await store.list(userId)).find((e) => e.name === name);
      return entitlement && [entitlement.status, entitlement.eventId];
    }),
  );
}

/** Sends one record to a container whose contact-service is `server`, as a function holding our secret. */
async function grantAgainst(server: ContactServiceHandle, entitlement: string) {
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves(spireSecret());
  const grant = await coldStart('grant', base, { ...fromSecret, EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: server.address });
  const queue = new SimulatedSqs();
  queue.send(JSON.stringify(command({ entitlement })));
  const records = queue.receive(1);
  const response = await grant(sqsEvent(...records), context());
  return { response, messageId: records[0]!.messageId };
}

describe('fault matrix: a server that fails the SPIFFE check is never called', () => {
  it.each([
    { what: 'wrong server SPIFFE ID', mint: () => env.mesh.ca.mintSvid('spiffe://jia.app/ledger'), rule: 'SPIFFE_ID_NOT_ALLOWED', refusal: 'refused server spiffe://jia.app/ledger' },
    {
      what: 'foreign trust domain (a federated CA minting our contact-service ID)',
      mint: () => partner.mintSvid(CONTACT_ID),
      rule: 'SVID_UNTRUSTED',
      refusal: `refused server ${CONTACT_ID}`,
    },
    { what: 'untrusted CA', mint: () => stranger.mintSvid(CONTACT_ID), rule: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', refusal: 'refused the server' },
    {
      what: 'expired peer',
      mint: () => env.mesh.ca.mintSvid(CONTACT_ID, { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      rule: 'CERT_HAS_EXPIRED',
      refusal: 'refused the server',
    },
  ])('$what: refused with MESH_SERVER_NOT_AUTHORIZED ($rule), never called, nothing written', async ({ what, mint, rule, refusal }) => {
    const server = await serverPresenting(await mint());
    const entitlement = `refused-${what.split(' ')[0]}`;

    const { response, messageId } = await grantAgainst(server, entitlement);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    const [failure, ...more] = failuresOf(messageId);
    expect(more).toEqual([]);
    expect(failure?.code).toBe('MESH_SERVER_NOT_AUTHORIZED');
    expect(failure?.message).toContain(`(${rule})`);
    expect(failure?.message).toContain(refusal);
    expect(server.callCount).toBe(0);
    expect(await stateOf(FAMILY_1, entitlement)).toEqual([undefined, undefined, undefined]);
  });
});

describe('fault matrix: our own identity', () => {
  it('client not allowed: the service answers PERMISSION_DENIED, which is not retried and does not trip the breaker', async () => {
    secretsManager.on(GetSecretValueCommand).resolves(spireSecret());
    const grant = await coldStart('grant', base, fromSecret);
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 50 });
    const event = command({ entitlement: 'not-allowed' });
    queue.send(JSON.stringify(event));
    const before = env.mesh.contact.callCount;
    env.mesh.contact.authorizer.removeAllowedSpiffeId(FUNCTIONS_ID);

    const records = queue.receive(1);
    const response = await grant(sqsEvent(...records), context()).finally(() =>
      env.mesh.contact.authorizer.addAllowedSpiffeId(FUNCTIONS_ID),
    );
    queue.settle(records, response.batchItemFailures);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]!.messageId }]);
    expect(failuresOf(records[0]!.messageId).map((f) => f.code)).toEqual(['MESH_PERMISSION_DENIED']);
    const attempts = logs.logs().filter((l) => l['message'] === 'mesh call');
    expect(attempts.map((l) => [l['code'], l['attempt'], l['breakerState']])).toEqual([['PERMISSION_DENIED', 1, 'closed']]);
    expect(env.mesh.contact.callCount).toBe(before); // refused before any handler ran

    await drainQueue(queue, (e) => grant(e, context()));

    expect(queue.stats).toMatchObject({ received: 2, deleted: 1, movedToDlq: 0 });
    expect(await stateOf(FAMILY_1, 'not-allowed')).toEqual(FAMILY_1.map(() => ['granted', event.eventId]));
  });

  it('Secrets Manager failing at cold start: the invocation fails with the IDENTITY_* code naming the secret, and the next one loads it', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(sdkError('AccessDeniedException'))
      .resolvesOnce({ Name: SECRET_ID, SecretBinary: new TextEncoder().encode('{"spiffeID":"spiffe://jia.app/payment-functions"}') })
      .resolves(spireSecret());
    const grant = await coldStart('grant', base, fromSecret);
    const queue = new SimulatedSqs({ visibilityTimeoutMs: 50 });
    const event = command({ entitlement: 'secret-at-cold-start' });
    queue.send(JSON.stringify(event));
    const before = env.mesh.contact.callCount;

    const first = queue.receive(1);
    const denied = await grant(sqsEvent(...first), context()).catch((error: unknown) => error);
    const malformed = await grant(sqsEvent(...first), context()).catch((error: unknown) => error);

    expect(denied).toMatchObject({
      name: 'IdentityError',
      code: 'IDENTITY_SECRET_FETCH_FAILED',
      message: `cannot get secret ${SECRET_ID} from secrets manager: AccessDeniedException`,
    });
    expect(malformed).toMatchObject({
      name: 'IdentityError',
      code: 'IDENTITY_SECRET_MALFORMED',
      message: `secret ${SECRET_ID} is not in SPIRE's svidstore format: missing or invalid x509SVID, x509SVIDKey, bundle`,
    });
    expect(env.mesh.contact.callCount).toBe(before);

    // The failed invocation fails its whole batch; SQS redelivers it and the error was not cached.
    await drainQueue(queue, (e) => grant(e, context()));

    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    expect(queue.stats).toMatchObject({ received: 2, deleted: 1, movedToDlq: 0 });
    expect(await stateOf(FAMILY_1, 'secret-at-cold-start')).toEqual(FAMILY_1.map(() => ['granted', event.eventId]));
  });

  it('Secrets Manager failing at refresh: the last good SVID is served, with a warning, and no call fails', async () => {
    // Date only, advancing with real time: the container's clocks are read after the jump below.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    secretsManager.on(GetSecretValueCommand).resolvesOnce(spireSecret()).rejects(sdkError('ThrottlingException'));
    const grant = await coldStart('grant', base, fromSecret);
    const serialsBefore = new Set(env.mesh.contact.seenClientSerials);
    const queue = new SimulatedSqs();
    const events = [command({ entitlement: 'refresh-fails-0' }), command({ entitlement: 'refresh-fails-1' })];
    for (const e of events) queue.send(JSON.stringify(e));

    const invokeNext = async () => {
      const records = queue.receive(1);
      const response = await grant(sqsEvent(...records), context());
      queue.settle(records, response.batchItemFailures);
      return response;
    };

    const beforeRefresh = await invokeNext();
    vi.setSystemTime(Date.now() + 31 * 60_000); // past half of the SVID's hour: a refresh is due
    const afterFailedRefresh = await invokeNext();

    expect([beforeRefresh, afterFailedRefresh]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(queue.stats).toMatchObject({ received: 2, deleted: 2 });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    const warnings = logs.logs().filter((l) => l['message'] === 'svid refresh failed; serving the last good svid');
    expect(warnings).toEqual([
      expect.objectContaining({ level: 'WARN', spiffeId: FUNCTIONS_ID, errorCode: 'IDENTITY_SECRET_FETCH_FAILED', svidSource: `secret ${SECRET_ID}` }),
    ]);
    // Both invocations, before and after the failed refresh, presented the one SVID ever loaded.
    expect(env.mesh.contact.seenClientSerials.filter((serial) => !serialsBefore.has(serial))).toEqual(
      serialsBefore.has(functionSvid.serialNumber) ? [] : [functionSvid.serialNumber],
    );
    for (const e of events) expect(await stateOf(FAMILY_1, e.entitlement)).toEqual(FAMILY_1.map(() => ['granted', e.eventId]));
  });

  it('SVID rotated mid-run (spiffe-helper rewrote the files): no failed call, and the service sees the new serial', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const grant: GrantHandler = await coldStart('grant', base); // SVID_DIR: the spiffe-helper files
    const queue = new SimulatedSqs();
    const events: EntitlementCommand[] = Array.from({ length: 30 }, (_, i) => command({ purchaserId: 'user-solo', entitlement: `rotation-${i}` }));
    for (const e of events) queue.send(JSON.stringify(e));
    const next = await env.mesh.ca.mintSvid(FUNCTIONS_ID);
    let serialsBefore: readonly string[] = [];
    const failures: string[] = [];

    await drainQueue(
      queue,
      async (e) => {
        const response = await grant(e, context());
        failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
        return response;
      },
      {
        batchSize: 5,
        afterBatch: async ({ number }) => {
          if (number !== 2) return;
          serialsBefore = env.mesh.contact.seenClientSerials;
          await writeSpiffeHelperFiles(env.mesh.svidDir, next, env.mesh.ca.bundlePem);
          vi.setSystemTime(Date.now() + 31 * 60_000); // the refresh falls due before the next batch
        },
      },
    );

    expect(failures).toEqual([]);
    expect(queue.stats).toMatchObject({ received: 30, redelivered: 0, deleted: 30 });
    const rotations = logs.logs().filter((l) => l['message'] === 'svid rotated').map((l) => [l['serialNumber'], l['previousSerialNumber']]);
    const initial = rotations[0]?.[0];
    expect(rotations).toEqual([
      [initial, undefined], // the cold start's first load
      [next.serialNumber, initial],
    ]);
    expect(serialsBefore).toContain(initial);
    expect(serialsBefore).not.toContain(next.serialNumber);
    expect(env.mesh.contact.seenClientSerials).toEqual([...serialsBefore, next.serialNumber]);
    expect(logs.logs().filter((l) => l['level'] === 'WARN' || l['level'] === 'ERROR')).toEqual([]);
    expect(outcomesLogged(logs.logs()).applied).toHaveLength(30);
  });
});

auditTheWholeFile(logs, 40);
