/**
 * What the simulated fleet shares: a dev SPIFFE CA, the function's SVID as spiffe-helper files, the
 * reference contact-service over mTLS on loopback (stopped and started for the outage), dynalite
 * on its own thread with the entitlements table, and a count of DynamoDB requests by table and
 * operation.
 *
 * SVIDs and the CA are valid for a week: the simulated clock runs hours ahead of the real one, and
 * certificate checks read it (an SVID expiring mid-run would be a fault this run does not study).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEntitlementsTable } from '../../shared/entitlements/entitlements-table.js';
import { CONTACT_ID, FUNCTIONS_ID, meshVariables } from '../fixtures/mesh-environment.js';
import { startContactService, type ContactServiceHandle } from '../local/contact-service.js';
import { DevCa, writeSpiffeHelperFiles } from '../local/dev-ca.js';
import { LOCAL_DYNAMO_REGION } from '../local/dynalite.js';
import { startDynamoThread, type DynamoThread } from './dynamo-thread.js';

export const ENTITLEMENTS_TABLE = 'entitlements';
const WEEK_MS = 7 * 24 * 3_600_000;

export interface FleetEnvironment {
  contact: ContactServiceHandle;
  dynamo: DynamoThread;
  /** Every function's environment in this mesh (static discovery, SVID files, dynalite). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the fleet's shared world; `close()` releases all of it. */
export async function startFleetEnvironment(): Promise<FleetEnvironment> {
  const notAfter = new Date(Date.now() + WEEK_MS);
  const ca = await DevCa.create('jia.app', { notAfter });
  const [functionSvid, contactSvid] = await Promise.all([ca.mintSvid(FUNCTIONS_ID, { notAfter }), ca.mintSvid(CONTACT_ID, { notAfter })]);
  const svidDir = await mkdtemp(join(tmpdir(), 'fleet-'));
  await writeSpiffeHelperFiles(svidDir, functionSvid, ca.bundlePem);
  const [contact, dynamo] = await Promise.all([startContactService({ svid: contactSvid, bundlePem: ca.bundlePem }), startDynamoThread()]);
  await createEntitlementsTable(dynamo.client, ENTITLEMENTS_TABLE);

  const env: Record<string, string> = {
    ...meshVariables(svidDir, contact.address),
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
    close: async () => {
      await Promise.all([contact.close(), dynamo.close()]);
      await rm(svidDir, { recursive: true, force: true });
    },
  };
}
