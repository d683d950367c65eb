/**
 * What a function needs around it to run on a laptop, started on demand where the environment
 * does not already point elsewhere: the dev SVID, the reference contact-service, dynalite, the
 * local SQS. Every setting DESIGN.md names and the AWS SDK's own (`AWS_REGION`,
 * `AWS_ENDPOINT_URL_*`, credentials) is honoured: a variable the user set is never changed, so the
 * same command runs against real AWS, an emulator, or nothing at all.
 *
 * Each part's modules are imported when the part is started: a payment-webhook run does not load
 * the mesh, and a mesh run does not load the SQS emulator.
 */
import { join } from 'node:path';
import type { ContactServiceHandle } from './contact-service.js';
import { CONTACT_SERVICE_SPIFFE_ID, FUNCTIONS_SPIFFE_ID } from './local-identities.js';
import type { LocalSqs } from './local-sqs.js';
import type { QueueBatches } from './queue-batches.js';
import { LOCAL_SIGNING_SECRET } from './webhook-delivery.js';

/** A local setting that cannot work as given; the message says what to set. */
export class LocalSetupError extends Error {
  override readonly name = 'LocalSetupError';
}

/** Which parts a run needs. */
export interface DependencyNeeds {
  /** payment-webhook: a signing secret. */
  webhook: boolean;
  /** The entitlement queue (sent to by payment-webhook, drained for grant-entitlements). */
  queue: boolean;
  /** An SVID and the contact-service. */
  mesh: boolean;
  /** The entitlements table. */
  table: boolean;
}

export interface LocalDependenciesOptions {
  /** Read, and completed with the variables the user left unset (usually `process.env`). */
  env: NodeJS.ProcessEnv;
  /** Where state persists: `pki/`, `dynamodb/`, `sqs/`. */
  localDir: string;
  needs: DependencyNeeds;
  /** One progress line. */
  log(line: string): void;
}

export interface LocalDependencies {
  /** The variables that were set, by name. */
  readonly added: Readonly<Record<string, string>>;
  /** Where grant-entitlements' batches come from, when the queue is needed. */
  readonly batches?: QueueBatches;
  readonly contactService?: ContactServiceHandle;
  /** The local SQS emulator, when it was started (no `QUEUE_URL` given). */
  readonly sqs?: LocalSqs;
  close(): Promise<void>;
}

/** `dynalite.ts`'s LOCAL_DYNAMO_REGION and _CREDENTIALS, repeated here so that module loads lazily. */
const LOCAL_REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export const LOCAL_QUEUE_NAME = 'entitlements';
export const LOCAL_TABLE_NAME = 'entitlements';
/** Short, so a record that failed is retried by the next invoke rather than minutes later. */
const LOCAL_VISIBILITY_TIMEOUT_SECONDS = '5';
const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'];

/** Empty counts as unset, as the functions' own configuration reads it. */
const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

function isLoopbackUrl(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Starts what `needs` asks for and the environment does not provide, and completes `env`.
 *
 * @throws {LocalSetupError} when the given settings cannot work together (the message says why).
 */
export async function startLocalDependencies(options: LocalDependenciesOptions): Promise<LocalDependencies> {
  const { env, localDir, needs, log } = options;
  const added: Record<string, string> = {};
  const given = (name: string) => isSet(env[name]);
  const setDefault = (name: string, value: string) => {
    if (given(name)) return;
    env[name] = value;
    added[name] = value;
  };
  const closers: (() => Promise<void>)[] = [];
  let localSqs: LocalSqs | undefined;
  const close = async () => {
    for (const closeOne of closers.splice(0).reverse()) await closeOne();
  };

  const hasCredentials = CREDENTIAL_VARIABLES.some(given);
  // AWS_ENDPOINT_URL (every service) or the service's own variable: an emulator the user runs.
  const tableEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined;
  const queueEndpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined;
  const realTable = needs.table && !tableEndpoint && given('ENTITLEMENTS_TABLE') && given('AWS_REGION') && hasCredentials;
  const realQueue = needs.queue && given('QUEUE_URL') && !queueEndpoint && !isLoopbackUrl(env.QUEUE_URL!);
  // A namespace reaches Cloud Map only when discovery starts there (cloudmap, the default, and xds,
  // which falls back to it); with dns or static it is the DNS domain of a resolver the user runs.
  const scheme = env.SERVICE_MESH_DISCOVERY_SCHEME?.trim().toLowerCase();
  const cloudMapNamespace = given('SERVICE_MESH_DISCOVERY_NAMESPACE') && scheme !== 'dns' && scheme !== 'static';
  const touchesAws = hasCredentials || realTable || realQueue || cloudMapNamespace || ['SVID_SECRET_ID', 'WEBHOOK_SIGNING_SECRET_ID'].some(given);
  if (!touchesAws) {
    // Nothing here reaches AWS: the SDK still wants a region and credentials to sign with.
    setDefault('AWS_REGION', LOCAL_REGION);
    setDefault('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    setDefault('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  }

  try {
    if (needs.webhook && !given('WEBHOOK_SIGNING_SECRET_ID')) setDefault('WEBHOOK_SIGNING_SECRET', LOCAL_SIGNING_SECRET);
    const batches = needs.queue ? await startQueue() : undefined;
    const contactService = needs.mesh ? await startMesh() : undefined;
    if (needs.table) await startTable();
    return { added, ...(batches ? { batches } : {}), ...(contactService ? { contactService } : {}), ...(localSqs ? { sqs: localSqs } : {}), close };
  } catch (error) {
    await close();
    throw error;
  }

  async function startQueue(): Promise<QueueBatches> {
    const { localQueueBatches, sqsQueueBatches } = await import('./queue-batches.js');
    if (given('QUEUE_URL')) {
      log(`sqs: QUEUE_URL=${env.QUEUE_URL} (yours)`);
      return sqsQueueBatches(env.QUEUE_URL!);
    }
    if (queueEndpoint) {
      throw new LocalSetupError(
        `an SQS endpoint is set (${queueEndpoint}) but QUEUE_URL is not: set QUEUE_URL to the queue on that endpoint, or unset AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL to use the local queue`,
      );
    }
    const { startLocalSqs } = await import('./local-sqs.js');
    const sqs = await startLocalSqs({ dir: join(localDir, 'sqs'), region: env.AWS_REGION ?? LOCAL_REGION });
    localSqs = sqs;
    closers.push(() => sqs.close());
    const dlq = sqs.createQueue(`${LOCAL_QUEUE_NAME}-dlq`);
    const redrive = JSON.stringify({ deadLetterTargetArn: sqs.queueArn(`${LOCAL_QUEUE_NAME}-dlq`), maxReceiveCount: 5 });
    setDefault('QUEUE_URL', sqs.createQueue(LOCAL_QUEUE_NAME, { VisibilityTimeout: LOCAL_VISIBILITY_TIMEOUT_SECONDS, RedrivePolicy: redrive }));
    setDefault('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
    log(`sqs: local queue ${env.QUEUE_URL} (dead letters: ${dlq}), state in ${sqs.store.file}`);
    return localQueueBatches(sqs, LOCAL_QUEUE_NAME);
  }

  async function startMesh(): Promise<ContactServiceHandle | undefined> {
    // A config file is the mesh's configuration: environment variables would override its keys.
    const configFile = given('CONFIG_FILE');
    if (!configFile) {
      setDefault('SERVICE_MESH_ENABLED', 'true');
      setDefault('SERVICE_MESH_SPIFFE_ID', FUNCTIONS_SPIFFE_ID);
      setDefault('MTLS_ENABLED', 'true');
      setDefault('EXTERNAL_SERVICES_CONTACT_SERVICE_NAME', 'contact-service');
      setDefault('EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID', CONTACT_SERVICE_SPIFFE_ID);
    }
    const ownIdentity = given('SVID_DIR') || given('SVID_SECRET_ID');
    const pki = ownIdentity ? undefined : await (await import('./local-pki.js')).ensureLocalPki(join(localDir, 'pki'));
    if (pki) {
      setDefault('SVID_DIR', pki.functionsSvidDir);
      const state = pki.minted ? 'minted a dev CA and SVIDs' : 'reusing the dev SVIDs';
      log(`pki: ${state} in ${join(localDir, 'pki')} (${FUNCTIONS_SPIFFE_ID}, serial ${pki.functions.serialNumber}, until ${pki.functions.notAfter.toISOString()})`);
    } else {
      log(`identity: ${given('SVID_DIR') ? `SVID_DIR=${env.SVID_DIR}` : `SVID_SECRET_ID=${env.SVID_SECRET_ID}`} (yours)`);
    }

    let contact: ContactServiceHandle | undefined;
    if (configFile || given('EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS') || given('SERVICE_MESH_DISCOVERY_SCHEME')) {
      const where = env.EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS ?? `discovered (${env.SERVICE_MESH_DISCOVERY_SCHEME ?? `CONFIG_FILE=${env.CONFIG_FILE}`})`;
      log(`contact-service: ${where} (yours)`);
    } else if (!pki) {
      throw new LocalSetupError(
        'SVID_DIR or SVID_SECRET_ID is set but no contact-service is: the reference contact-service trusts only the local dev CA. ' +
          'Set EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS to a contact-service that trusts your SVID, or unset SVID_DIR and SVID_SECRET_ID',
      );
    } else {
      const { startContactService } = await import('./contact-service.js');
      const started = await startContactService({ svid: pki.contactService, bundlePem: pki.bundlePem });
      contact = started;
      closers.push(() => started.close());
      setDefault('EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS', started.address);
      log(`contact-service: reference service on ${started.address} as ${CONTACT_SERVICE_SPIFFE_ID}, mTLS, admits ${FUNCTIONS_SPIFFE_ID}`);
    }
    // Cloud Map is the deployed default; locally an address is what there is.
    if (!configFile && !given('SERVICE_MESH_DISCOVERY_NAMESPACE')) setDefault('SERVICE_MESH_DISCOVERY_SCHEME', 'static');
    return contact;
  }

  async function startTable(): Promise<void> {
    if (realTable) {
      log(`dynamodb: table ${env.ENTITLEMENTS_TABLE} in ${env.AWS_REGION} (yours)`);
      return;
    }
    setDefault('ENTITLEMENTS_TABLE', LOCAL_TABLE_NAME);
    const table = env.ENTITLEMENTS_TABLE!;
    const { createEntitlementsTable } = await import('../../shared/entitlements/entitlements-table.js');
    if (tableEndpoint) {
      // The SDK reads the endpoint, region and credentials from the environment, as the functions do.
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      const client = new DynamoDBClient({});
      closers.push(async () => client.destroy());
      await createEntitlementsTable(client, table);
      log(`dynamodb: table ${table} on ${tableEndpoint} (yours; created if missing)`);
      return;
    }
    const path = join(localDir, 'dynamodb');
    const { startDynalite } = await import('./dynalite.js');
    const dynamo = await startDynalite({ path });
    closers.push(() => dynamo.close());
    setDefault('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    await createEntitlementsTable(dynamo.client, table);
    log(`dynamodb: dynalite on ${dynamo.endpoint}, table ${table}, state in ${path}`);
  }
}
