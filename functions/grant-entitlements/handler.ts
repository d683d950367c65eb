import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { meshSdkClients, preloadAwsSdk } from '../../shared/cold-start/aws-sdk-preload.js';
import { loadMeshConfig } from '../../shared/config/load-mesh-config.js';
import { defaultEntitlementsClient } from '../../shared/entitlements/entitlements-client.js';
import { EntitlementStore, ENTITLEMENT_STORE_DEFAULTS } from '../../shared/entitlements/entitlement-store.js';
import { StripeLinkStore } from '../../shared/entitlements/stripe-links.js';
import { meshMiddleware, type MeshContext } from '../../shared/middleware/mesh-middleware.js';
import { MeshRuntime } from '../../shared/middleware/mesh-runtime.js';
import { observabilityMiddleware } from '../../shared/middleware/observability-middleware.js';
import { meshTelemetry } from '../../shared/observability/mesh-telemetry.js';
import { entitlementsTableFromEnv, entitlementsWriteConcurrencyFromEnv } from '../../shared/entitlements/entitlements-table-env.js';
import { grantRecord } from './grant-record.js';
import { queueBackoffFromEnv } from './queue-backoff.js';
import { handleRecordFailure } from './record-failure.js';
import { sqsRecordVisibility } from './record-visibility.js';

// Validated at init: a missing or bad setting fails the cold start with a message naming the key.
const config = loadMeshConfig();
// The SDK clients the first invocation needs, loaded within init.
await preloadAwsSdk(meshSdkClients(config));
const tableName = entitlementsTableFromEnv();
const concurrency = entitlementsWriteConcurrencyFromEnv();
const backoff = queueBackoffFromEnv();
const setVisibility = sqsRecordVisibility();
const telemetry = meshTelemetry();
let runtime: MeshRuntime | undefined;
let store: EntitlementStore | undefined;
let links: StripeLinkStore | undefined;

async function grantEntitlementsHandler(event: SQSEvent, context: Context & MeshContext): Promise<SQSBatchResponse> {
  // One store per container: its concurrency bounds the writes of every record of a batch together.
  if (store === undefined || links === undefined) {
    // One client for both item types of the table.
    const client = defaultEntitlementsClient(concurrency ?? ENTITLEMENT_STORE_DEFAULTS.concurrency);
    store = new EntitlementStore(concurrency === undefined ? { tableName, client } : { tableName, client, concurrency });
    links = new StripeLinkStore({ tableName, client });
  }
  const deps = { directory: context.mesh.contact, store, links };
  const { logger, metrics } = telemetry;
  // One processor per invocation: it holds the batch's state, which overlapping invocations of one
  // module (the invoke CLI, tests) must not share. Records of a batch run concurrently; the
  // contact-service bulkhead bounds the calls in flight.
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      try {
        const result = await grantRecord(record, deps);
        for (const change of result.changes) metrics.recordEntitlementChanges(change.action, change.entitlement, change.applied.length);
        logger.info('entitlement event applied', { messageId: record.messageId, ...result });
        return result;
      } catch (error) {
        await handleRecordFailure(record, error, { backoff, setVisibility, logger });
        throw error;
      }
    },
    processor,
    // A batch that fails whole is reported record by record, like any other: SQS retries each.
    { context, throwOnFullBatchFailure: false },
  );
}

export const handler = middy(grantEntitlementsHandler)
  .use(observabilityMiddleware({ telemetry }))
  .use(meshMiddleware({ runtime: () => (runtime ??= new MeshRuntime({ config, telemetry })) }));
