/**
 * What the simulated fleet shares: a dev SPIFFE CA, the function's SVID as spiffe-helper files, the
 * reference contact-service over mTLS on loopback (stopped and started for the outage), dynalite
 * with the entitlements table, and a count of DynamoDB requests by table and operation.
 *
 * SVIDs and the CA are valid for a week: the simulated clock runs hours ahead of the real one, and
 * certificate checks read it (an SVID expiring mid-run would be a fault this run does not study).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEntitlementsTable } from '../../shared/entitlements/entitlements-table.js';
import { CONTACT_ID, FUNCTIONS_ID } from '../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../local/contact-service.js';
import { DevCa, writeSpiffeHelperFiles } from '../local/dev-ca.js';
import { LOCAL_DYNAMO_REGION, startDynalite, type LocalDynamo } from '../local/dynalite.js';

export const ENTITLEMENTS_TABLE = 'entitlements';
const WEEK_MS = 7 * 24 * 3_600_000;

export interface FleetEnvironment {
  contact: ContactServiceHandle;
  dynamo: LocalDynamo;
  /** Every function's environment in this mesh (static discovery, SVID files, dynalite). */
  env: Record<string, string>;
  /** DynamoDB requests so far, by `<table> <operation>` (e.g. `mesh-state GetItem`). */
  readonly dynamoRequests: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** Starts the fleet's shared world; `close()` releases all of it. */
export async function startFleetEnvironment(): Promise<FleetEnvironment> {
  const notAfter = new Date(Date.now() + WEEK_MS);
  const ca = await DevCa.create('jia.app', { notAfter });
  const [functionSvid, contactSvid] = await Promise.all([ca.mintSvid(FUNCTIONS_ID, { notAfter }), ca.mintSvid(CONTACT_ID, { notAfter })]);
  const svidDir = await mkdtemp(join(tmpdir(), 'fleet-'));
  await writeSpiffeHelperFiles(svidDir, functionSvid, ca.bundlePem);
  const [contact, dynamo] = await Promise.all([startContactService({ svid: contactSvid, bundlePem: ca.bundlePem }), startDynalite()]);
  await createEntitlementsTable(dynamo.client, ENTITLEMENTS_TABLE);

  const dynamoRequests = new Map<string, number>();
  dynamo.server.on('request', function countDynamoRequest(request: IncomingMessage) {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    let head = '';
    request.on('data', (chunk: Buffer) => {
      if (head.length < 512) head += chunk.toString('utf8', 0, 512);
    });
    request.once('end', () => {
      const table = /"TableName":"([^"]+)"/.exec(head)?.[1] ?? '-';
      const key = `${table} ${operation}`;
      dynamoRequests.set(key, (dynamoRequests.get(key) ?? 0) + 1);
    });
  });

  const env: Record<string, string> = {
    SERVICE_MESH_ENABLED: 'true',
    SERVICE_MESH_SPIFFE_ID: FUNCTIONS_ID,
    SERVICE_MESH_DISCOVERY_SCHEME: 'static',
    MTLS_ENABLED: 'true',
    SVID_DIR: svidDir,
    EXTERNAL_SERVICES_CONTACT_SERVICE_NAME: 'contact-service',
    EXTERNAL_SERVICES_CONTACT_SERVICE_ADDRESS: contact.address,
    EXTERNAL_SERVICES_CONTACT_SERVICE_SPIFFE_ID: CONTACT_ID,
    // The CDK defaults (cdk/config.ts): a 5 s contact-service deadline, the breaker's 5 / 2 / 60 s / 3.
    EXTERNAL_SERVICES_CONTACT_SERVICE_TIMEOUT_SECONDS: '5',
    ENTITLEMENTS_TABLE,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: LOCAL_DYNAMO_REGION,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_SERVICE_NAME: 'payment-functions',
  };
  return {
    contact,
    dynamo,
    env,
    dynamoRequests,
    close: async () => {
      await Promise.all([contact.close(), dynamo.close()]);
      await rm(svidDir, { recursive: true, force: true });
    },
  };
}
