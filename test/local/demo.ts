/**
 * `npm start`: the whole flow on one machine, no Docker, no AWS. A dev SPIFFE CA mints the
 * functions' and the contact-service's SVIDs; the reference contact-service serves over mTLS;
 * dynalite is the entitlements table and the local SQS the queue. Two Stripe-signed events from
 * the sample events (test/fixtures/events/stripe/latest/), in the shape Stripe sends them, go
 * through the real payment-webhook handler, the queue, and the real grant-entitlements handler: a
 * `checkout.session.completed` and the subscription's monthly renewal `invoice.paid`, which names
 * the user only in the subscription's metadata on the invoice. get-user-info then reads two family
 * members back.
 *
 * The story goes to stdout. The handlers' own output (Powertools logs at WARN, metrics off) is
 * routed to stderr, so anything they do say stays visible without interleaving with the story.
 * The demo is a fixed story: it sets its environment itself, whatever the shell has, except
 * `POWERTOOLS_LOG_LEVEL` and `POWERTOOLS_METRICS_DISABLED`. For a configurable run: `npm run invoke`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import { createEntitlementsTable } from '../../shared/entitlements/entitlements-table.js';
import type { UserView } from '../../functions/get-user-info/get-user-info.js';
import { startContactService } from './contact-service.js';
import { freshSampleEvent } from './default-events.js';
import { DevCa, writeSpiffeHelperFiles } from './dev-ca.js';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION, startDynalite } from './dynalite.js';
import { invoke, loadHandler, errorLine, type Outcome } from './function-runner.js';
import { CONTACT_SERVICE_SPIFFE_ID, FUNCTIONS_SPIFFE_ID } from './local-pki.js';
import { startLocalSqs } from './local-sqs.js';
import { LOCAL_SIGNING_SECRET, signedDelivery } from './webhook-delivery.js';

const PURCHASER = 'user-1';
const TABLE = 'entitlements';
const QUEUE = 'entitlements';
const TIMEOUT_MS = 10_000;

const startedAt = performance.now();
const realWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const say = (line = '') => realWrite(`${line}\n`);
const step = (line: string) => say(`▸ ${line}  (${((performance.now() - startedAt) / 1000).toFixed(1)} s)`);

/** The handler's result, or the typed error's `<code>: <message>` thrown as a demo failure. */
function resultOf<T>(what: string, outcome: Outcome): T {
  if (outcome.kind === 'threw') throw new Error(`${what} failed: ${errorLine(outcome.error)}`);
  return outcome.result as T;
}

async function demo(): Promise<void> {
  say('payment-functions demo: a Stripe payment, granted to a whole family over a local SPIFFE mesh');
  say('(no Docker, no AWS: dev SPIFFE CA, reference contact-service over mTLS, dynalite, local SQS)');
  say();

  const dir = await mkdtemp(join(tmpdir(), 'payment-functions-demo-'));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    step('minting a dev SPIFFE CA for trust domain jia.app, and two X.509-SVIDs');
    const ca = await DevCa.create('jia.app');
    const [functionsSvid, contactSvid] = await Promise.all([ca.mintSvid(FUNCTIONS_SPIFFE_ID), ca.mintSvid(CONTACT_SERVICE_SPIFFE_ID)]);
    const svidDir = join(dir, 'svid');
    await writeSpiffeHelperFiles(svidDir, functionsSvid, ca.bundlePem);
    say(`    ${FUNCTIONS_SPIFFE_ID}  serial ${functionsSvid.serialNumber}  (the functions; spiffe-helper files)`);
    say(`    ${CONTACT_SERVICE_SPIFFE_ID}    serial ${contactSvid.serialNumber}  (the contact-service)`);

    const contact = await startContactService({ svid: contactSvid, bundlePem: ca.bundlePem });
    closers.push(() => contact.close());
    step(`reference contact-service on ${contact.address}: gRPC over mTLS, admits only ${FUNCTIONS_SPIFFE_ID}`);

    const dynamo = await startDynalite();
    closers.push(() => dynamo.close());
    await createEntitlementsTable(dynamo.client, TABLE);
    const sqs = await startLocalSqs({ dir: join(dir, 'sqs') });
    closers.push(() => sqs.close());
    const queueUrl = sqs.createQueue(QUEUE);
    step(`dynalite (DynamoDB, in memory) on ${dynamo.endpoint}; local SQS queue ${queueUrl}`);

    Object.assign(process.env, {
      // What the CDK stack gives the functions, pointed at the local mesh.
      SERVICE_MESH_ENABLED: 'true',
      SERVICE_MESH_SPIFFE_ID: FUNCTIONS_SPIFFE_ID,
      SERVICE_MESH_DISCOVERY_SCHEME: 'static',
      MTLS_ENABLED: 'true',
      SVID_DIR: svidDir,
      EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contact-service',
      EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: contact.address,
      EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: CONTACT_SERVICE_SPIFFE_ID,
      ENTITLEMENTS_TABLE: TABLE,
      QUEUE_URL: queueUrl,
      WEBHOOK_SIGNING_SECRET: LOCAL_SIGNING_SECRET,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: LOCAL_DYNAMO_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_DYNAMO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_DYNAMO_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL || 'WARN',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED || 'true',
      POWERTOOLS_SERVICE_NAME: 'payment-functions-demo',
    });
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'SVID_SECRET_ID', 'WEBHOOK_SIGNING_SECRET_ID', 'CONFIG_FILE']) delete process.env[name];

    const webhook = await loadHandler('payment-webhook');
    const grants = await loadHandler('grant-entitlements');
    const callsBefore = contact.callCount;
    /** One Stripe event through payment-webhook → queue → grant-entitlements; answers its id. */
    const pay = async (body: string, what: string): Promise<string> => {
      const eventId = (JSON.parse(body) as { id: string }).id;
      step(`Stripe → payment-webhook: ${eventId}, ${what}; Stripe-Signature computed now`);
      const answer = resultOf<APIGatewayProxyResult>('payment-webhook', await invoke('payment-webhook', webhook, signedDelivery(body, LOCAL_SIGNING_SECRET), TIMEOUT_MS));
      if (answer.statusCode !== 200) throw new Error(`payment-webhook answered ${answer.statusCode} ${answer.body}`);
      say(`    ${answer.statusCode} ${answer.body}: signature verified on the raw bytes, entitlement command queued`);
      const records = sqs.drain(QUEUE);
      step(`SQS → grant-entitlements: a batch of ${records.length} record(s) (message ${records[0]?.messageId ?? 'none'})`);
      const batch = resultOf<SQSBatchResponse>('grant-entitlements', await invoke('grant-entitlements', grants, { Records: records }, TIMEOUT_MS));
      sqs.settle(QUEUE, records, batch.batchItemFailures);
      if (batch.batchItemFailures.length > 0) throw new Error(`grant-entitlements failed records: ${JSON.stringify(batch.batchItemFailures)}`);
      say(`    batchItemFailures: []`);
      return eventId;
    };
    const eventId = await pay(freshSampleEvent('checkout.session.completed'), `checkout.session.completed, paid by ${PURCHASER} (client_reference_id)`);
    const renewalId = await pay(
      freshSampleEvent('invoice.paid', 1),
      'invoice.paid, the monthly renewal: the user only in parent.subscription_details.metadata',
    );
    say(`    ${contact.callCount - callsBefore} contact-service calls in all (GetUserInfo, GetFamilyMembers per event)`);

    const granted = await grantedBy(dynamo.client, renewalId);
    const familyId = granted[0]?.familyId ?? '(none)';

    const members = granted.map((g) => g.userId).filter((id) => id !== PURCHASER).slice(0, 2);
    step(`get-user-info for the purchaser and two family members: ${[PURCHASER, ...members].join(', ')}`);
    const userInfo = await loadHandler('get-user-info');
    const views: UserView[] = [];
    for (const userId of [PURCHASER, ...members]) {
      views.push(resultOf<UserView>('get-user-info', await invoke('get-user-info', userInfo, { userId }, TIMEOUT_MS)));
    }
    const [purchaser, ...family] = views;

    say();
    say('The story');
    say(`  ${purchaser!.name} (${PURCHASER}) paid: Stripe checkout.session.completed ${eventId},`);
    say(`  then the subscription renewed: invoice.paid ${renewalId}, which names the user only through the subscription.`);
    say(`  Their family is ${familyId}; "${granted[0]?.entitlement}" is granted to all ${granted.length} members, the renewal the last event applied:`);
    for (const g of granted) say(`    - ${g.userId}${g.userId === PURCHASER ? ' (purchaser)' : ''}: ${g.status}`);
    say('  get-user-info reads it back for two of them:');
    for (const v of family) {
      const rights = v.entitlements.map((e) => `${e.name} ${e.status} at ${e.grantedAt}`).join(', ');
      say(`    - ${v.name} (${v.id}, ${v.email}), family ${v.familyId}: ${rights}`);
    }
    say();
    say(`  All ${contact.callCount} contact-service calls went over mutual TLS between SPIFFE identities:`);
    say(`    client ${contact.seenClientIds.join(', ')}  cert serial ${contact.seenClientSerials.join(', ')}`);
    say(`           (as the contact-service saw it: the peer certificate's URI SAN, chained to the jia.app bundle)`);
    say(`    server ${CONTACT_SERVICE_SPIFFE_ID}    cert serial ${contactSvid.serialNumber}`);
    say(`           (the functions accepted it only because its URI SAN is that SPIFFE ID; no hostname checks)`);
    const matches = contact.seenClientSerials.length === 1 && contact.seenClientSerials[0] === functionsSvid.serialNumber;
    say(`    the client certificate the server saw ${matches ? 'is' : 'is NOT'} the functions' SVID minted above.`);
  } finally {
    for (const close of closers.reverse()) await close();
  }
  say();
  say(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s; contact-service, dynalite and the queue are shut down.`);
}

/** The members the event's grant reached, from the table itself (not the Stripe link items). */
async function grantedBy(client: Parameters<typeof DynamoDBDocumentClient.from>[0], eventId: string) {
  const documents = DynamoDBDocumentClient.from(client);
  const { Items = [] } = await documents.send(
    new ScanCommand({ TableName: TABLE, FilterExpression: '#e = :e', ExpressionAttributeNames: { '#e': 'eventId' }, ExpressionAttributeValues: { ':e': eventId } }),
  );
  const rows = Items as { userId: string; familyId: string; entitlement: string; status: string }[];
  return rows.filter((r) => !r.entitlement.startsWith('#')).sort((a, b) => (a.userId === PURCHASER ? -1 : b.userId === PURCHASER ? 1 : a.userId.localeCompare(b.userId)));
}

try {
  await demo();
} catch (error) {
  say(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
